"""The date shown under a 'when' answer: only for an event its sentence states, and the one the question asks."""

from corpus.text import terms
from index.timeline import date_for

ARTICLE = "a.txt"
# "The bridge, designed in 1998, opened on 3 May 2004." states two events; the sentence spans [100, 150).
TIMELINE = {"events": [
    {"label": "1998", "clause": "The bridge, designed in 1998", "terms": ["bridg", "design"],
     "citations": [{"source": ARTICLE, "start": 100, "end": 128}]},
    {"label": "3 May 2004", "clause": "The bridge opened on 3 May 2004", "terms": ["bridg", "open"],
     "citations": [{"source": ARTICLE, "start": 100, "end": 149}]},
    {"label": "2010", "clause": "It was repaired in 2010", "terms": ["repair"],
     "citations": [{"source": ARTICLE, "start": 150, "end": 175}]},
]}


def weights(question: str) -> dict[str, float]:
    return dict.fromkeys(terms(question), 1.0)


def test_the_event_the_question_asks_about_is_dated():
    assert date_for(TIMELINE, ARTICLE, 100, 150, weights("When did the bridge open?")) == "3 May 2004"
    assert date_for(TIMELINE, ARTICLE, 100, 150, weights("When was the bridge designed?")) == "1998"


def test_an_event_the_question_does_not_ask_about_gives_no_date():
    # the sentence is about the bridge, but neither of its events is a closing or a sale
    assert date_for(TIMELINE, ARTICLE, 100, 150, weights("When did the ferry company sell the bridge?")) is None
    # a date stated in the next sentence dates another event
    assert date_for(TIMELINE, ARTICLE, 100, 150, weights("When was the bridge repaired?")) is None


def test_a_tie_gives_no_date_rather_than_a_guess():
    assert date_for(TIMELINE, ARTICLE, 100, 150, weights("When was the bridge there?")) is None


def test_no_timeline_or_no_question_terms_gives_no_date():
    assert date_for(None, ARTICLE, 100, 150, weights("When did the bridge open?")) is None
    assert date_for(TIMELINE, ARTICLE, 100, 150, {}) is None
