"""Hostile input to the command line: every line of `ask --json -` gets one valid JSON line (bytes that are not
UTF-8, a 5 MB line, control characters), and corpus text with terminal escapes or line breaks in file names
and titles prints as one inert line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bot import cli, terminal
from tests.botproc import ROOT, bot_env


# stdin decoded strictly (as in a en_US.UTF-8 terminal), or with surrogateescape (the C and C.UTF-8 locales)
@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_every_stdin_line_gets_one_valid_json_line(tmp_path, corpus_dir, errors) -> None:
    lines = [
        b"How many countries are party to the convention?",
        b"caf\xe9 \xff\xfe latin-1 and garbage",
        b"x" * 5_000_000,
        b"",
        "\x1b]0;title\x07 When did parliament vote?".encode(),
        b"\x00\x01",
        b"A last question without a newline?",
    ]
    r = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "-"], cwd=ROOT,
                       env=bot_env(tmp_path / "data", corpus_dir, PYTHONIOENCODING=f"utf-8:{errors}"),
                       input=b"\n".join(lines),
                       capture_output=True, timeout=180)
    assert b"Traceback" not in r.stderr, r.stderr[-2000:]
    out = r.stdout.decode("utf-8").splitlines()  # valid UTF-8 throughout
    records = [json.loads(line) for line in out]  # and valid JSON, one record per line
    assert len(records) == 6  # the empty line is skipped, as before
    assert records[0]["abstained"] is False and records[0]["citations"]
    assert records[1]["line"] == 2 and "not UTF-8" in records[1]["error"]
    assert records[2]["line"] == 3 and "too long" in records[2]["error"] and len(records[2]["question"]) <= 200
    assert "answer" in records[3] and records[3]["question"] == "]0;title When did parliament vote?"
    assert records[4]["line"] == 6 and "empty" in records[4]["error"]
    assert "answer" in records[5]
    assert len(r.stdout) < 100_000 and r.returncode == 1


def test_read_lines_never_holds_more_than_the_limit() -> None:
    stream = io.BytesIO(b"short\n" + b"y" * 10_000 + b"\n" + b"after\n")
    got = list(cli.read_lines(stream, 100))
    assert [t for t, _ in got] == ["short", "y" * 100, "after"]
    assert got[0][1] is None and "too long" in got[1][1] and got[2][1] is None


def test_text_output_escapes_terminal_controls_from_the_corpus() -> None:
    out = {"question": "q", "answer": "Voted \x1b[2J today.\nSecond line [1].", "abstained": False,
           "citations": [{"n": 1, "source": "evil\nname\x1b]0;x\x07.txt", "title": "Title \x9b31m red\u202e",
                          "date": "2024-07-18", "text": "Quote with \x1b[31mcolour\x1b[0m and\nbreak."}]}
    text = terminal.format_answer_dict(out)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "evil\\nname" in text
    assert len(text.splitlines()) == 5  # answer, blank, "Sources:", source, quote: a newline in a name breaks nothing
    error = terminal.format_answer_dict({"question": "a\x1bb", "error": "bad\x07"})
    assert "\x1b" not in error and "\x07" not in error


def test_timeline_text_keeps_one_event_per_line(tmp_path, corpus_dir) -> None:
    (corpus_dir / "evil\nname\x1b[2J.txt").write_text(
        "Vote report\n\nOn 18 July 2024 the parliament voted \x1b]0;owned\x07 to leave the convention.\n",
        encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "bot", "timeline", "--from", "2024-07-18", "--to", "2024-07-18"],
                       cwd=ROOT, env=bot_env(tmp_path / "data", corpus_dir), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    event = [line for line in r.stdout.splitlines() if "owned" in line]
    legend = [line for line in r.stdout.splitlines() if "evil" in line]
    assert len(event) == 1 and "\\x1b]0;owned\\x07" in event[0], r.stdout
    assert len(legend) == 1 and "evil\\nname\\x1b[2J.txt" in legend[0], r.stdout
