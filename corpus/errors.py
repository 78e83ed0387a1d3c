"""The one base class for every error a user can cause or fix, at the bottom layer so every package can use it.

A `CitebotError`'s message is written for the user and names what to change. The edges translate it once: the
command line prints ``error: <message>`` and exits with `exit_status`; the bot replies with the message,
visible to the user alone, and logs it. Anything else that escapes is a bug, shown as such.
"""

from __future__ import annotations


class CitebotError(Exception):
    """A problem the user can fix (a setting, a file, a question, a date); the message says what and where."""

    exit_status = 1  # the command line's exit status for it


class CorpusError(CitebotError):
    """A problem with the corpus or an article in it; the message names the file and the reason."""
