"""The command line as a user runs it: a real process, the real model, the JSON contract, clear errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

from tests.conftest import SHIPPED

pytestmark = pytest.mark.model

EVAL_FILE = PROJECT_ROOT / "benchmarks" / "questions" / "holdout.jsonl"


def run(args: list[str], data_dir: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = dict(os.environ, CITEBOT_DATA__DIR=str(data_dir), HF_HUB_OFFLINE="1", **env)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=environ, cwd=PROJECT_ROOT, timeout=300)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder whose index the first test builds and the others reuse."""
    return tmp_path_factory.mktemp("cli-data")


def test_ask_builds_the_index_on_first_use_and_answers(data_dir: Path):
    done = run(["ask", "When did Lithuania withdraw from the Convention on Cluster Munitions?"], data_dir)
    assert done.returncode == 0, done.stderr
    assert "Building the index" in done.stderr
    out = done.stdout
    assert "6 March" in out.splitlines()[0]
    assert "Sources:" in out and "[1] " in out


def test_ask_json_follows_the_contract_and_quotes_verbatim(data_dir: Path):
    done = run(["ask", "--json", "Which allies does the ministry say the treaty does not involve?"], data_dir)
    assert done.returncode == 0, done.stderr
    assert "Building the index" not in done.stderr  # reused
    data = json.loads(done.stdout)
    assert set(data) == {"question", "answer", "abstained", "citations"}
    assert data["abstained"] is False and "Estonia" in data["answer"]
    for c in data["citations"]:
        assert set(c) == {"n", "source", "title", "date", "text", "start", "end", "score", "outlet", "author", "url"}
        article = (SHIPPED / c["source"]).read_bytes().decode("utf-8-sig")
        assert article[c["start"]:c["end"]] == c["text"]
        assert f"[{c['n']}]" in data["answer"] or c["n"] > 1


def test_ask_json_stdin_answers_one_line_per_question(data_dir: Path):
    questions = ("Who composed the Four Seasons?\n\n"
                 "What would Russia and Belarus use in an armed conflict against Lithuania?\n" + "x" * 2000 + "\n")
    done = run(["ask", "--json", "-"], data_dir, stdin=questions)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["abstained"] is True and lines[0]["citations"] == []
    assert lines[1]["abstained"] is False and lines[1]["citations"][0]["n"] == 1
    assert "too long" in lines[2]["error"]
    assert done.returncode == 1  # one question was refused


def test_eval_reports_strict_hits_declines_the_curve_and_the_baseline(data_dir: Path):
    done = run(["eval", "--json", str(EVAL_FILE)], data_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["strict"] is True and report["in_scope"] == 40 and report["out_of_scope"] == 16
    for key in ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "answer_holds_it", "wrong_decline_rate",
                "abstention_rate_out_of_scope", "first_and_answered"):
        assert 0.0 <= report[key] <= 1.0
    assert {"hit_at_1", "hit_at_3", "cosine_unanswerable_declined"} <= set(report["baseline"])
    assert [round(p["wrong_declines"], 2) for p in report["curve"]] and len(report["curve"]) == 5
    # the answer text can only hold an answer when the question was answered
    assert all(not row["abstained"] for row in report["rows"] if row["answered_with_it"])
    assert report["hit_at_5"] >= 0.5  # a broken ranking, not a quality target (benchmarks/ report those)
    text = run(["eval", str(EVAL_FILE)], data_dir).stdout
    assert "hits are strict" in text and "baseline: RRF passages" in text and "decline curve" in text


def test_eval_names_malformed_records_and_goes_on(data_dir: Path, tmp_path: Path):
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"question": "What does the treaty forbid?", "answer": ["prohibit"]}\n'
                     '{"question": 123}\nnull\n{"question": "' + "x" * 2000 + '", "answer": "x"}\n', encoding="utf-8")
    done = run(["eval", "--json", str(qfile)], data_dir)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "line 2:" in done.stderr and "line 3:" in done.stderr and "too long" in done.stderr
    assert json.loads(done.stdout)["in_scope"] == 1


def test_reindex_reports_counts_and_reuses_embeddings(data_dir: Path):
    done = run(["reindex", "--json"], data_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["articles"] == 5 and report["embedded"] == 0 and report["reused"] == report["chunks"] > 0
    assert report["skipped"] == [] and report["seconds"] >= 0


@pytest.mark.parametrize("question,message", [("   ", "empty"), ("y" * 1001, "too long")])
def test_bad_questions_exit_non_zero_with_a_message(data_dir: Path, question: str, message: str):
    done = run(["ask", question], data_dir)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path):
    done = run(["ask", "anything?"], tmp_path / "d", CITEBOT_CORPUS__PATH=str(tmp_path / "missing"))
    assert done.returncode == 1 and "corpus folder does not exist" in done.stderr and "Traceback" not in done.stderr


def test_unwritable_data_folder_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run(["ask", "anything?"], blocker / "sub")
    assert done.returncode == 1 and "error:" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_setting_is_named(tmp_path: Path):
    done = run(["ask", "anything?"], tmp_path, CITEBOT_ANSWER__MAX_CITATIONS="lots")
    assert done.returncode == 1 and "answer.max_citations" in done.stderr
