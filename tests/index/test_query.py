"""A question is parsed once into what search, ranking and declining read."""

import numpy as np
import pytest

from index.build import bm25_append
from index.query import parse_query, question_names, split_clauses

BM25_, _ = bm25_append(None, {}, ["The council voted to ban cars in the centre.", "The ban starts on 1 January 2025.",
                                  "Cars were common."])


def test_parse_gives_answer_type_names_weights_and_vector():
    q = parse_query("When will the Utrecht ban start?", np.ones(4), BM25_)
    assert q.answer_type == "time"
    assert set(q.names.values()) == {"Utrecht"}
    assert set(q.weights) == {"utrecht", "ban", "start"}
    # "utrecht" is in no document: it carries the highest IDF and counts as unknown
    assert q.weights["utrecht"] > q.weights["ban"]
    assert q.unknown == pytest.approx(q.weights["utrecht"] / q.total_weight)
    assert q.vector.dtype == np.float32


def test_terms_of_a_subordinate_clause_weigh_less():
    q = parse_query("Who was minister when parliament voted?", np.ones(4), BM25_)
    assert split_clauses("Who was minister when parliament voted?") == ("Who was minister", " when parliament voted?")
    main_idf, sub_idf = BM25_.term_idf("minist"), BM25_.term_idf("parliament")
    assert q.weights["minist"] == pytest.approx(main_idf)
    assert q.weights["parliament"] == pytest.approx(0.6 * sub_idf)


def test_names_are_capitalised_words_inside_the_question():
    assert set(question_names("When did Finland join the Ottawa Convention?").values()) == {
        "Finland", "Ottawa", "Convention"}
    assert question_names("Who won?") == {}
    assert question_names("Paris? Yes. What about Rome") == {"rome": "Rome"}
