"""Question files and scoring: both formats, strict and loose hits, malformed records, the decline curve."""

import json
from pathlib import Path

import pytest

from index.evaluate import (Baseline, EvalQuestion, Outcome, QuestionFileError, Quote, decline_curve,
                            read_questions, score)


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_both_formats_are_read(tmp_path: Path):
    path = write(tmp_path, [
        json.dumps({"id": "d1", "type": "fact", "question": "When?", "answer": ["6 March"]}),
        json.dumps({"id": "s1", "type": "fact", "question": "Who?", "answer": ["Ada"], "source": "a.txt",
                    "spans": [[10, 13]]}),
        json.dumps({"id": "s2", "type": "near-ood", "question": "Why?", "answer": [], "source": "a.txt", "spans": []}),
    ])
    qs = read_questions(path).questions
    assert [q.strict for q in qs] == [False, True, False]
    assert [q.in_scope for q in qs] == [True, True, False]
    assert qs[1].spans == ((10, 13),) and qs[1].source == "a.txt"


@pytest.mark.parametrize("record,problem", [
    ('{"question": 123}', '"question" must be a non-empty string'),
    ("null", "not a JSON object"),
    ('["a list"]', "not a JSON object"),
    ('{"question": "Q?", "answer": [1, 2]}', '"answer" must be a string or a list of strings'),
    ('{"question": "Q?", "answer": [null]}', '"answer" must be a string or a list of strings'),
    ('{"question": "Q?", "type": ["unhashable"]}', '"type" must be a string'),
    ('{"question": "   "}', '"question" must be a non-empty string'),
    ('{"question": "Q?", "spans": [[3]]}', '"spans" must be a list'),
    ('{"question": "Q?", "source": 7}', '"source" must be a file name'),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("{not json", "line 2"),
])
def test_a_malformed_record_is_named_and_the_rest_is_read(tmp_path: Path, record: str, problem: str):
    path = write(tmp_path, [json.dumps({"question": "Fine?", "answer": "x"}), record,
                            json.dumps({"question": "Also fine?", "answer": "y"})])
    qf = read_questions(path)
    assert [q.question for q in qf.questions] == ["Fine?", "Also fine?"]
    assert len(qf.problems) == 1 and qf.problems[0].startswith("line 2: ") and problem in qf.problems[0]


def test_a_file_without_usable_questions_is_one_error(tmp_path: Path):
    with pytest.raises(QuestionFileError, match="no usable questions.*line 1"):
        read_questions(write(tmp_path, ['{"question": 5}']))
    with pytest.raises(QuestionFileError, match="cannot be read"):
        read_questions(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(QuestionFileError, match="not UTF-8"):
        read_questions(bad)


def test_a_strict_hit_needs_the_gold_file_and_a_covering_quote():
    q = EvalQuestion("1", "Who?", "fact", ("Ada",), "a.txt", ((10, 13),))
    assert q.covered_by("a.txt", 5, 20, "anything")
    assert not q.covered_by("a.txt", 11, 20, "Ada")  # starts inside the span
    assert not q.covered_by("b.txt", 0, 100, "Ada Lovelace")  # the string, but in another file
    loose = EvalQuestion("2", "Who?", "fact", ("Ada Lovelace",))
    assert loose.covered_by("b.txt", 0, 5, "It was ADA   lovelace.")


def test_score_counts_hits_declines_and_the_baseline():
    qs = [EvalQuestion(str(i), "q", "fact", ("x",), "a.txt", ((10, 11),)) for i in range(4)]
    qs += [EvalQuestion("u1", "q", "near-ood", ()), EvalQuestion("u2", "q", "near-ood", ())]
    hit, miss = Quote("a.txt", 0, 20, "x"), Quote("a.txt", 30, 40, "y")
    outcomes = [Outcome((hit,), "x [1]", False, 0.9), Outcome((miss, hit), "y [1]", False, 0.8),
                Outcome((miss,), "y [1]", False, 0.7), Outcome((hit,), "", True, 0.1),
                Outcome((), "", True, 0.05), Outcome((miss,), "y [1]", False, 0.6)]
    baselines = [Baseline((miss, miss, hit), 0.5)] * 4 + [Baseline((miss,), 0.2), Baseline((miss,), 0.6)]
    r = score(qs, outcomes, baselines)
    assert r.strict and (r.in_scope, r.out_of_scope) == (4, 2)
    assert (r.hit_at_1, r.hit_at_3) == (0.5, 0.75)  # ranking counts even where the answer was declined
    assert r.mrr == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert r.answer_holds_it == 0.25  # answered, with text holding "x": only the first
    assert r.first_and_answered == 0.25
    assert (r.wrong_abstentions, r.wrong_decline_rate) == (1, 0.25)
    assert r.abstention_rate_out_of_scope == 0.5
    assert r.baseline["hit_at_1"] == 0.0 and r.baseline["hit_at_3"] == 1.0


def test_the_decline_curve_moves_the_threshold_along_the_answerable_confidences():
    answerable = [0.1, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.96, 0.97, 0.99]
    unanswerable = [0.05, 0.2, 0.55, 0.9]
    curve = decline_curve(answerable, unanswerable, (0.0, 0.1, 0.2))
    assert [p.wrong_declines for p in curve] == [0.0, 0.1, 0.2]
    assert [p.unanswerable_declined for p in curve] == [0.25, 0.5, 0.75]
    assert decline_curve([], [0.1]) == ()
