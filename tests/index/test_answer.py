"""Answers with the real bundled model and the shipped answer models: what every answer guarantees, on the
shipped corpus and on articles the models never saw."""

import re
from pathlib import Path

import pytest

from bot.service import QuestionError, Service
from index.answer import ABSTAIN_TEXT
from index.hashing_encoder import HashingEncoder

from tests.conftest import SHIPPED, make_settings

pytestmark = pytest.mark.model
OTHER = Path(__file__).resolve().parents[1] / "fixtures" / "other_articles"


def _service(tmp_path_factory, corpus: Path) -> Service:
    svc = Service(make_settings(tmp_path_factory.mktemp("answer"), corpus))
    svc.ensure_index()
    return svc


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Service:
    return _service(tmp_path_factory, SHIPPED)


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Service:
    return _service(tmp_path_factory, OTHER)


def text_of(corpus: Path, source: str) -> str:
    return (corpus / source).read_bytes().decode("utf-8-sig")


@pytest.mark.parametrize("question", [
    "When did Lithuania's parliament vote to leave the convention?",
    "What do critics say about cluster munitions?",
    "Who defended the decision to withdraw?",
])
def test_every_marker_cites_one_verbatim_sentence_and_only_cited_sources_are_listed(service: Service, question: str):
    answer = service.ask_sync(question)
    data = answer.as_json()
    assert not answer.abstained
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", data["answer"])]
    assert markers == [c["n"] for c in data["citations"]] == list(range(1, len(markers) + 1))
    for c in data["citations"]:
        assert text_of(SHIPPED, c["source"])[c["start"]:c["end"]] == c["text"]
        assert "\n" not in c["text"]  # one sentence: never a headline or byline line run into it
        assert " ".join(c["text"].split()) in data["answer"]
        assert c["title"] and c["date"]


def test_headlines_bylines_and_datelines_are_never_quoted(service: Service):
    for question in ("Who wrote the report on the vote?", "What is the headline of the report on the withdrawal?"):
        for c in service.ask_sync(question).citations:
            article = text_of(SHIPPED, c.source)
            first_line = article.split("\n", 1)[0]
            assert c.text != first_line.strip() and not c.text.startswith("By ")


@pytest.mark.parametrize("question", [
    "Who composed the Four Seasons?",
    "What is the tallest mountain in Africa?",
    "Suggest a good recipe for lentil soup.",
    "How do I bake sourdough bread?",
])
def test_questions_on_other_subjects_are_declined(service: Service, question: str):
    answer = service.ask_sync(question)
    assert answer.abstained and answer.answer == ABSTAIN_TEXT and answer.citations == ()
    assert answer.reason.startswith("answerability")


# Known misses of the shipped models (README, "Known weaknesses"), kept here so that a model that fixes them
# is noticed (strict: an unexpected pass fails) and one that does not is not called a regression.
_KNOWN_MISS = pytest.mark.xfail(strict=True, reason="known weakness of the shipped models, README 'Known weaknesses'")


@pytest.mark.parametrize("question,holds", [
    ("How much did the Rotterdam bridge cost?", "210 million euros"),
    ("Who called the vote a turning point?", "Sharon Dijksma"),
    ("When will the ban take effect?", "1 January 2025"),
    ("When did the new bridge in Rotterdam open?", "opened to traffic on Monday"),
    # the reader ranks the vote ("voted ... to ban") above "will take effect" for "start"
    pytest.param("When does the car ban in Utrecht start?", "1 January 2025", marks=_KNOWN_MISS),
    # questions in words the articles do not use ("pass", "happen"), which answerability fitted on a
    # ten-title corpus declined; fitted on one-topic corpora, it answers them
    ("By how many votes did the proposal pass?", "29 votes to 16"),
    ("What will happen to the old bridge?", "footpath"),
])
def test_articles_the_models_never_saw_are_answered_with_the_sentence_that_says_it(other: Service, question: str,
                                                                                  holds: str):
    answer = other.ask_sync(question)
    assert not answer.abstained
    assert holds in answer.citations[0].text


def test_a_when_answer_shows_the_date_its_sentence_states_and_nothing_else_does(other: Service):
    answer = other.ask_sync("When will the ban take effect?")
    assert answer.event_date == "1 Jan 2025"
    assert "when" not in answer.as_json()  # the JSON contract is unchanged
    # "on Monday" in an article dated Tuesday 2 May 2023
    assert other.ask_sync("When did the new bridge in Rotterdam open?").event_date == "1 May 2023"
    assert other.ask_sync("How much did the Rotterdam bridge cost?").event_date is None  # not a 'when' question


def test_a_question_the_articles_name_but_do_not_answer_is_declined(other: Service):
    answer = other.ask_sync("When did the Amsterdam council vote on banning cars?")
    assert answer.abstained and answer.event_date is None


def test_control_and_invisible_characters_are_ignored(service: Service):
    answer = service.ask_sync("\u200bWhen did Lithuania\u0000 withdraw from the\u202e Convention?")
    assert not answer.abstained


@pytest.mark.parametrize("question,message", [("", "empty"), ("   \n\t", "empty"), ("?!…", "no words"),
                                              ("x" * 1001, "too long")])
def test_bad_questions_are_refused_with_a_reason(service: Service, question: str, message: str):
    with pytest.raises(QuestionError, match=message):
        service.ask_sync(question)


def test_an_empty_corpus_declines_instead_of_failing(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    svc = Service(make_settings(tmp_path, empty), encoder=HashingEncoder())
    svc.ensure_index()
    assert svc.ask_sync("When did Lithuania withdraw?").abstained
