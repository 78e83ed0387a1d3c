"""The command line a newcomer meets: help that explains, -v anywhere, one program name, quiet pipes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _parser, parse, prog_name
from bot.terminal import format_answer_dict
from bot.settings import PROJECT_ROOT
from tests.conftest import SHIPPED

CITEBOT = Path(sys.executable).parent / "citebot"


def commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def help_of(*args: str) -> str:
    return subprocess.run([str(CITEBOT), *args, "--help"], capture_output=True, text=True, check=True,
                          env=dict(os.environ, COLUMNS="120")).stdout


def test_every_command_has_a_summary_and_a_description_and_every_option_help() -> None:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {c.dest: c.help for c in sub._choices_actions}
    assert set(summaries) == set(commands()) >= {"ask", "timeline", "reindex", "eval", "run"}
    for name, parser in commands().items():
        assert summaries[name] and len(summaries[name]) <= 70, name
        assert parser.description and len(parser.description) > len(summaries[name]) + 20, name
        for action in parser._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def test_run_help_says_where_the_token_comes_from() -> None:
    text = help_of("run")
    assert "DISCORD_TOKEN" in text and "discord.token_file" in text and "never printed" in text


def test_eval_help_describes_both_file_formats() -> None:
    text = " ".join(help_of("eval").split())
    for needle in ('"question"', '"answer"', '"type"', "ood", "near-ood", "strict hit", "loose hit", '"source"', '"spans"',
                   "one JSON object per line"):
        assert needle in text, needle


def test_timeline_query_help_says_whether_every_word_must_match() -> None:
    assert "not every word must match" in " ".join(help_of("timeline").split())


def test_verbose_and_config_go_before_or_after_the_command() -> None:
    for argv in (["-v", "ask", "q"], ["ask", "q", "-v"], ["ask", "-v", "q"], ["--verbose", "timeline"]):
        assert parse(argv).verbose is True, argv
    assert parse(["ask", "q"]).verbose is False and parse(["ask", "q"]).config is None
    assert parse(["--config", "a.toml", "reindex"]).config == "a.toml"
    assert parse(["reindex", "--config", "b.toml"]).config == "b.toml"


def test_the_program_is_called_as_it_was_started() -> None:
    assert prog_name("/srv/citebot/.venv/bin/citebot") == "citebot"
    assert prog_name(str(PROJECT_ROOT / "bot" / "__main__.py")) == "python -m bot"
    assert help_of().startswith("usage: citebot ")
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m bot ")


def test_citation_text_shows_outlet_author_and_link() -> None:
    out = {"answer": "He did. [1]", "citations": [
        {"n": 1, "source": "a.txt", "title": "T", "date": "2024-07", "text": "He did.", "outlet": "Anadolu Agency",
         "author": "Leila Nezirevic", "url": "https://example.org/a"},
        {"n": 2, "source": "b.txt", "title": None, "date": None, "text": "x", "outlet": None, "author": None,
         "url": None}]}
    lines = format_answer_dict(out).splitlines()
    assert lines[3] == "[1] T (2024-07; Anadolu Agency; by Leila Nezirevic; a.txt)"
    assert lines[5] == "    https://example.org/a"
    assert lines[6] == "[2] b.txt (date unknown; b.txt)" and len(lines) == 8


def cli_env(tmp_path: Path) -> dict:
    return dict(os.environ, CITEBOT_DATA__DIR=str(tmp_path / "var"), CITEBOT_CORPUS__PATH=str(SHIPPED),
                CITEBOT_MODEL__BACKEND="hashing", HF_HUB_OFFLINE="1")


def test_verbose_after_the_command_logs(tmp_path: Path) -> None:
    done = subprocess.run([str(CITEBOT), "reindex", "-v"], capture_output=True, text=True, env=cli_env(tmp_path),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert " INFO " in done.stderr and "Indexed 5 articles" in done.stdout


@pytest.mark.parametrize("args", [["ask", "--json", "-"], ["timeline"], ["reindex"], ["--help"]])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    """`citebot ask --json - < questions | head -1`: the reader stops early; no 'error: Broken pipe', no traceback."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written: every write fails with EPIPE
    try:
        done = subprocess.run([str(CITEBOT), *args], stdout=write, stderr=subprocess.PIPE, text=True,
                              env=cli_env(tmp_path), timeout=120, input="When did parliament vote?\n" * 3)
    finally:
        os.close(write)
    assert "rror" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.returncode == (0 if args == ["--help"] else 141)


def test_python_m_bot_without_the_environment_says_what_to_do() -> None:
    """Without the virtual environment's packages (here: -S, no site-packages) one line says how to run it."""
    done = subprocess.run([sys.executable, "-S", "-m", "bot", "ask", "When?"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and ".venv/bin/citebot" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
