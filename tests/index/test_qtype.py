"""What a question asks for, and whether a sentence states it (no model needed)."""

import pytest

from index.qtype import answer_type, answer_types_in


@pytest.mark.parametrize("sentence,counts", [
    ("The convention itself comprises 112 state parties and 12 signatories.", True),
    ("It has taken nearly six months for the decision to become effective.", True),
    ("The Baltic state has a population of approximately 2.8 million.", True),
    # years, days of a date, sums of money and "one of" state no count of anything
    ("Lithuania joined the Convention on Cluster Munitions in 2011.", False),
    ("Lithuania officially withdrew on 6 March.", False),
    ("The Convention entered into force on August 1, 2010.", False),
    ("The US announced an $800 million military aid package for Ukraine.", False),
    ("The aid was worth 95 million dollars.", False),
    ("The supply of cluster munitions to Ukraine is one of the most controversial topics in the West.", False),
])
def test_a_count_is_a_number_that_is_not_a_year_a_date_or_money(sentence: str, counts: bool):
    assert ("count" in answer_types_in(sentence)) is counts


def test_money_is_still_a_quantity_for_how_much_questions():
    types = answer_types_in("The US announced an $800 million military aid package for Ukraine.")
    assert "quantity" in types and "count" not in types


@pytest.mark.parametrize("sentence,has_year", [
    ("Lithuania joined the convention in 2011.", True),
    ("The idea first surfaced last year.", True),
    ("It plans to make a decision within the next few months.", False),
    ("The vote was on Thursday.", False),
])
def test_a_year_is_a_four_digit_year_or_a_year_said_in_words(sentence: str, has_year: bool):
    assert ("year" in answer_types_in(sentence)) is has_year


@pytest.mark.parametrize("question,answer", [
    ("How many state parties does it have?", "count"),
    ("how much money was allocated?", "quantity"),
    ("In what year did Lithuania join?", "year"),
    ("Which year was the convention signed?", "year"),
    ("When did Lithuania join?", "time"),
    ("What date did the withdrawal take effect?", "time"),
    ("Which Lithuanian Defence Minister said it?", "name"),
    ("Which news outlet is cited?", "name"),
    ("What does the treaty forbid?", None),
    ("Who wrote the Anadolu Agency report?", "author"),
    ("Which reporter covered the vote?", "author"),
    ("Who was the defence minister?", "name"),
])
def test_question_answer_types(question: str, answer: str):
    assert answer_type(question) == answer


@pytest.mark.parametrize("sentence,byline", [
    ("By Leila Nezirevic", True),
    ("  By Jane O'Neill", True),
    ("By Thursday, Lithuania had left.", False),
    ("By 2025 the stock will be gone.", False),
    ("The report was written by Leila Nezirevic.", False),
])
def test_a_byline_is_a_line_naming_the_author(sentence: str, byline: bool):
    assert ("author" in answer_types_in(sentence)) is byline
