"""Follow-up questions in an answer thread: which earlier question a new one leans on, and the query to search with."""

from __future__ import annotations

import re
from collections import OrderedDict

_LEADING = re.compile(r"^\s*(and|but|so|also|then|ok(ay)?|what about|how about)\b[\s,]*", re.IGNORECASE)
_ANAPHORA = {"it", "its", "that", "this", "those", "these", "they", "them", "their", "he", "she", "him", "her",
             "his", "then", "there", "same", "such"}
SHORT_WORDS = 5  # "why?", "since when?", "how many were sent?"


def is_follow_up(question: str) -> bool:
    """Whether a question likely depends on the one before: short, or pointing back (it, that, then, and …)."""
    words = re.findall(r"[\w’']+", question.lower())
    return (len(words) <= SHORT_WORDS or bool(_LEADING.match(question))
            or any(w in _ANAPHORA for w in words))


def follow_up_query(previous: str | None, question: str, max_chars: int = 1000) -> str:
    """The text to search with: the new question first (it decides what kind of answer is wanted), then the
    previous one as context when the new one leans on it."""
    if not previous or not is_follow_up(question):
        return question
    new = _LEADING.sub("", question).strip() or question.strip()
    new = new[:1].upper() + new[1:]
    room = max_chars - len(new) - 1
    if room < 20:
        return question
    return f"{new} {previous.strip()[:room]}".strip()


class ThreadMemory:
    """The last question asked in each answer thread, newest kept; SQLite keeps it across restarts."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._last: OrderedDict[int, str] = OrderedDict()

    def get(self, thread_id: int) -> str | None:
        q = self._last.get(thread_id)
        if q is not None:
            self._last.move_to_end(thread_id)
        return q

    def set(self, thread_id: int, question: str) -> None:
        self._last[thread_id] = question
        self._last.move_to_end(thread_id)
        while len(self._last) > self.size:
            self._last.popitem(last=False)

    def __contains__(self, thread_id: int) -> bool:
        return thread_id in self._last
