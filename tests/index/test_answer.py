"""Answers from the shipped corpus with the real bundled model: citations, verbatim quotes, abstention."""

from pathlib import Path

import pytest

from bot.service import QuestionError, Service
from index.answer import ABSTAIN_TEXT, answer_type, names_present, question_names
from index.encoder import HashingEncoder
from index.search import split_clauses

from tests.conftest import SHIPPED, make_settings

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Service:
    tmp = tmp_path_factory.mktemp("answer")
    svc = Service(make_settings(tmp, SHIPPED))
    svc.ensure_index()
    return svc


def article_text(source: str) -> str:
    return (SHIPPED / source).read_bytes().decode("utf-8-sig")


def test_the_quick_start_question_is_answered_with_the_withdrawal_date(service: Service):
    answer = service.ask_sync("When did Lithuania withdraw from the Convention on Cluster Munitions?")
    assert not answer.abstained
    assert "6 March" in answer.answer
    assert answer.citations and answer.citations[0].n == 1


@pytest.mark.parametrize("question", [
    "When did Lithuania's parliament vote to leave the Convention on Cluster Munitions?",
    "What did the Humanitarian Initiative urge Lithuania to do?",
    "How did Sakaliene describe the weapons being bought instead?",
])
def test_every_marker_has_a_citation_that_quotes_its_article_verbatim(service: Service, question: str):
    answer = service.ask_sync(question)
    data = answer.as_json()
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    import re
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", data["answer"])}
    assert markers and markers <= {c["n"] for c in data["citations"]}
    for c in data["citations"]:
        assert article_text(c["source"])[c["start"]:c["end"]] == c["text"]
        assert c["title"] and c["date"]


def test_answer_sentences_are_quoted_from_the_cited_passages(service: Service):
    answer = service.ask_sync("Who is the Deputy Defence Minister quoted about the withdrawal?")
    assert "Karolis Aleksa" in answer.answer
    cited = " ".join(" ".join(c.text.split()) for c in answer.citations)
    for sentence in answer.answer.split(" [")[0:1]:
        assert sentence in cited


@pytest.mark.parametrize("question", [
    "What is the capital of Australia?",
    "When did Latvia leave the Ottawa Convention?",
    "Who painted the Mona Lisa?",
    "Recommend a good science fiction novel.",
])
def test_questions_the_articles_do_not_cover_are_declined(service: Service, question: str):
    answer = service.ask_sync(question)
    assert answer.abstained and answer.answer == ABSTAIN_TEXT and answer.citations == ()


def test_a_how_much_question_whose_best_sentence_states_no_amount_is_declined(service: Service):
    answer = service.ask_sync("How much will the alternative weapons mentioned by Defence Minister Šakalienė cost?")
    assert answer.abstained and "states a quantity" in answer.reason
    # while one whose answer states it is answered
    assert "$95 million" in service.ask_sync("How much money has the US allocated for demining?").answer


@pytest.mark.parametrize("question,reason", [
    # the articles never mention tanks: the numbers they give count other things
    ("How many tanks does Lithuania have?", "never mention tanks"),
    # the best sentence holds only a year ("since ... February 2022")
    ("How many cluster bombs has Russia used against Ukrainian residential areas?", "states a count"),
])
def test_a_how_many_question_the_articles_give_no_count_for_is_declined(service: Service, question: str,
                                                                       reason: str):
    answer = service.ask_sync(question)
    assert answer.abstained and reason in answer.reason


@pytest.mark.parametrize("question,count", [
    ("How many state parties does the convention have?", "112 state parties"),
    ("How many people live in Lithuania?", "2.8 million"),
])
def test_a_how_many_question_is_answered_with_the_count(service: Service, question: str, count: str):
    answer = service.ask_sync(question)
    assert not answer.abstained and count in answer.answer


def test_an_in_what_year_question_needs_a_year(service: Service):
    assert "2011" in service.ask_sync("In which year did Lithuania join the Convention on Cluster Munitions?").answer


@pytest.mark.parametrize("question,name", [
    # the best sentence is '"This completely unbalances ...," he said.'; the one before names him
    ("Which Defence Minister told the cabinet that the convention completely unbalances the Eastern flank?",
     "Laurynas Kasčiūnas"),
    ("Which Lithuanian Defence Minister said the country cannot even train specialists?", "Arvydas Anušauskas"),
])
def test_a_who_answer_quoting_he_said_starts_at_the_sentence_that_names_him(service: Service, question: str,
                                                                           name: str):
    answer = service.ask_sync(question)
    assert name in answer.answer
    first = answer.citations[0]
    assert answer.answer.split(" [1]")[0] in " ".join(first.text.split())  # still one verbatim quote


def test_diacritic_free_spelling_finds_the_name(service: Service):
    answer = service.ask_sync("What did Sakaliene tell Ziniu radijas?")
    assert not answer.abstained
    assert any("Šakalienė" in c.text for c in answer.citations)


@pytest.mark.parametrize("question,message", [("", "empty"), ("   \n\t", "empty"), ("?!…", "no words"),
                                              ("x" * 1001, "too long")])
def test_bad_questions_are_refused_with_a_reason(service: Service, question: str, message: str):
    with pytest.raises(QuestionError, match=message):
        service.ask_sync(question)


def test_control_and_invisible_characters_are_ignored(service: Service):
    answer = service.ask_sync("\u200bWhen did Lithuania\u0000 withdraw from the\u202e Convention?")
    assert not answer.abstained


def test_question_analysis_helpers():
    assert answer_type("When did it happen?") == "time"
    assert answer_type("Who is the minister?") == "name"
    assert answer_type("How many state parties?") == "count"
    assert answer_type("How much did it cost?") == "quantity"
    assert answer_type("In which year did Lithuania join?") == "year"
    assert answer_type("How long did it take?") == "duration"
    assert answer_type("What does the convention prohibit?") is None
    assert set(question_names("When did Latvia leave the Ottawa Convention?").values()) == {
        "Latvia", "Ottawa", "Convention"}
    assert split_clauses("Who was minister when parliament voted?") == ("Who was minister", " when parliament voted?")
    # a place's adjective names it too; another place does not
    assert names_present({"lithuanian": "Lithuanian"}, {"lithuania", "minist"})
    assert names_present({"ukrain": "Ukraine"}, {"ukrainian"})
    assert not names_present({"latvia": "Latvia"}, {"lithuania", "lithuanian"})


def test_who_wrote_a_report_is_answered_with_its_byline(service: Service):
    answer = service.ask_sync("Who wrote the Anadolu Agency report on the parliament's vote?")
    assert not answer.abstained and answer.answer == "By Leila Nezirevic [1]"
    assert answer.citations[0].text.startswith("By Leila Nezirevic")
    # a byline answers only for a report about what the question names: this one never mentions Ottawa
    assert "Nezirevic" not in service.ask_sync("Who wrote the article about the Ottawa Convention?").answer


def test_an_adjective_of_a_place_in_the_question_is_not_a_reason_to_decline(service: Service):
    answer = service.ask_sync("Which Lithuanian Deputy Defence Minister defended the withdrawal?")
    assert not answer.abstained and "Aleksa" in " ".join(c.text for c in answer.citations)


def test_an_empty_corpus_abstains_instead_of_failing(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    svc = Service(make_settings(tmp_path, empty), encoder=HashingEncoder())
    svc.ensure_index()
    assert svc.ask_sync("When did Lithuania withdraw?").abstained


@pytest.mark.parametrize("question,when", [
    ("When did the Convention on Cluster Munitions enter into force?", "1 Aug 2010"),
    ("When did Lithuania withdraw from the Convention on Cluster Munitions?", "6 Mar 2025"),
])
def test_when_questions_carry_the_date_the_timeline_resolves(service: Service, question: str, when: str):
    answer = service.ask_sync(question)
    assert answer.when == when
    assert "when" not in answer.as_json()  # the JSON contract is unchanged


def test_other_questions_carry_no_date(service: Service):
    assert service.ask_sync("What did the Humanitarian Initiative urge Lithuania to do?").when is None
