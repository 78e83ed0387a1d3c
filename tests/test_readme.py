"""The README is true on a fresh clone: one way to run the command line, valid examples, current samples."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import parse
from bot.settings import PROJECT_ROOT
from corpus.load import load_articles
from tests.conftest import SHIPPED

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import readme_sample  # noqa: E402

README = PROJECT_ROOT / "README.md"
CITEBOT = Path(sys.executable).parent / "citebot"


def shown_commands(text: str) -> list[str]:
    """Every citebot command the README shows: lines of shell blocks and the inline code of its tables."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        found += [line.split("#")[0].strip() for line in block.splitlines() if "citebot" in line.split("#")[0]]
    found += re.findall(r"`(\.venv/bin/citebot [^`]+)`", text)
    return found


PLACEHOLDERS = {"QUESTION": "When?", "FILE": "questions.jsonl", "DATE": "2024", "WORDS": "vote"}


def test_every_example_uses_the_one_command_and_parses() -> None:
    text = README.read_text(encoding="utf-8")
    flat = " ".join(text.split())
    note = ("`citebot` and `python -m bot` work as well; without it, `python -m bot` says in one line how to "
            "run it.")
    assert note in flat and "python -m bot" not in flat.replace(note, "")
    commands = shown_commands(text)
    assert len(commands) >= 8
    for command in commands:
        words = shlex.split(command.replace("[", " ").replace("]", " "))
        assert words[0] == ".venv/bin/citebot", command
        parse([PLACEHOLDERS.get(w, w) for w in words[1:]])  # an unknown command or option is a usage error


def test_the_makefile_installs_the_command_the_readme_uses() -> None:
    assert CITEBOT.is_file(), "make setup installs .venv/bin/citebot (pyproject [project.scripts])"
    make = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "readme-sample:" in make and "scripts/readme_sample.py" in make
    assert len(readme_sample.samples(README.read_text(encoding="utf-8"))) >= 3


@pytest.fixture(scope="module")
def fresh_data(tmp_path_factory) -> Path:
    """A data folder as on a fresh clone: no exported model, no index."""
    return tmp_path_factory.mktemp("fresh-clone-data")


@pytest.mark.model
def test_the_quick_start_question_on_a_fresh_clone_prints_the_readme_sample(fresh_data: Path) -> None:
    text = README.read_text(encoding="utf-8")
    sample = next(m for m in readme_sample.samples(text) if m.group("command").startswith("citebot ask"))
    env = dict(os.environ, CITEBOT_DATA__DIR=str(fresh_data), HF_HUB_OFFLINE="1")
    env.pop("CITEBOT_CORPUS__PATH", None)
    done = subprocess.run([str(CITEBOT), *shlex.split(sample.group("command"))[1:]], capture_output=True,
                          text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    # the first use says what the silent half-minute is for
    assert "Preparing the embedding model for first use" in done.stderr and "Model ready in" in done.stderr
    assert done.stderr.index("Preparing") < done.stderr.index("Embedding passages")
    assert done.stdout.rstrip("\n") == sample.group("output").rstrip("\n"), "run `make readme-sample`"


@pytest.mark.model
def test_every_readme_sample_is_what_its_command_prints_now(fresh_data: Path) -> None:
    text = README.read_text(encoding="utf-8")
    stale = [m.group("command") for m, n in zip(readme_sample.samples(text),
                                                 readme_sample.samples(readme_sample.rewrite(text, fresh_data)))
             if m.group("output") != n.group("output")]
    assert not stale, f"README.md samples not current: {stale}; run `make readme-sample`"


@pytest.mark.model
def test_json_citations_carry_outlet_author_and_url_from_the_metadata(fresh_data: Path) -> None:
    env = dict(os.environ, CITEBOT_DATA__DIR=str(fresh_data), HF_HUB_OFFLINE="1")
    done = subprocess.run([str(CITEBOT), "ask", "--json", "Who was Lithuania's defence minister when parliament "
                           "voted to exit?"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    citations = json.loads(done.stdout)["citations"]
    meta = {a.id: a.meta for a in load_articles(SHIPPED).articles}
    for c in citations:
        assert (c["outlet"], c["author"], c["url"]) == (meta[c["source"]].outlet, meta[c["source"]].author,
                                                        meta[c["source"]].url)
    assert any(c["author"] == "Leila Nezirevic" and c["outlet"] == "Anadolu Agency" for c in citations), citations
