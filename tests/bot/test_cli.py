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

EVAL_FILE = PROJECT_ROOT / "tests" / "fixtures" / "extra_questions.jsonl"


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
    done = run(["ask", "--json", "What did the Humanitarian Initiative urge Lithuania to do?"], data_dir)
    assert done.returncode == 0, done.stderr
    assert "Building the index" not in done.stderr  # reused
    data = json.loads(done.stdout)
    assert set(data) == {"question", "answer", "abstained", "citations"}
    assert data["abstained"] is False and "reconsider" in data["answer"]
    for c in data["citations"]:
        assert set(c) == {"n", "source", "title", "date", "text", "start", "end", "score", "outlet", "author", "url"}
        article = (SHIPPED / c["source"]).read_bytes().decode("utf-8-sig")
        assert article[c["start"]:c["end"]] == c["text"]
        assert f"[{c['n']}]" in data["answer"] or c["n"] > 1


def test_ask_json_stdin_answers_one_line_per_question(data_dir: Path):
    questions = "Who painted the Mona Lisa?\n\nHow many state parties does the convention have?\n" + "x" * 2000 + "\n"
    done = run(["ask", "--json", "-"], data_dir, stdin=questions)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["abstained"] is True and lines[0]["citations"] == []
    assert "112 state parties" in lines[1]["answer"]
    assert "too long" in lines[2]["error"]
    assert done.returncode == 1  # one question was refused


def test_eval_reports_the_measures(data_dir: Path):
    done = run(["eval", "--json", str(EVAL_FILE)], data_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["in_scope"] == 16 and report["out_of_scope"] == 7
    for key in ("hit_at_1", "hit_at_3", "hit_at_5", "mrr", "abstention_rate_out_of_scope", "wrong_abstentions",
                "answer_holds_it"):
        assert key in report
    # an answer can only hold the answer string if one of the passages it cites does
    said = [row for row in report["rows"] if row["answered_with_it"]]
    assert said and all(row["rank"] is not None for row in said)
    assert report["answer_holds_it"] == len(said) / report["in_scope"]
    assert report["hit_at_3"] >= 0.8 and report["abstained_out_of_scope"] >= 6 and report["wrong_abstentions"] <= 1
    text = run(["eval", str(EVAL_FILE)], data_dir).stdout
    assert "hit@3" in text and "out of scope: 7" in text and "answer text holds an answer string" in text


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
