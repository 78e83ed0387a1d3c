"""Shared pieces of the reliability tests: generated corpora and a place to collect the figures that the test
session prints at its end (the bot process and its environment: tests/botproc.py)."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Figures collected by the tests and printed by conftest.pytest_terminal_summary.
FIGURES: dict[str, dict[str, object]] = defaultdict(dict)

PLACES = ["Vilnius", "Kaunas", "Riga", "Tallinn", "Warsaw", "Oslo", "Helsinki", "Klaipeda", "Gdansk", "Tartu"]
BODIES = ["parliament", "council", "ministry", "committee", "court", "agency", "assembly", "cabinet"]
TOPICS = ["bridges", "schools", "ferries", "grain", "treaties", "elections", "budgets", "hospitals", "ports",
          "railways", "forests", "museums", "power lines", "water supply"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def article_text(i: int, variant: str = "a", sentences: int = 40) -> str:
    """A plausible news article, different for each (i, variant)."""
    rnd = random.Random(f"{variant}-{i}")
    place, body = rnd.choice(PLACES), rnd.choice(BODIES)
    lines = [f"Report {variant}{i} from {place}", ""]
    for s in range(sentences):
        topic = rnd.choice(TOPICS)
        lines.append(f"On {rnd.randint(1, 28)} {rnd.choice(MONTHS)} {rnd.randint(2000, 2025)} the {body} of "
                     f"{place} discussed {topic} for the {s + 1}th time and approved {rnd.randint(2, 900)} "
                     f"measures about {rnd.choice(TOPICS)} in {rnd.choice(PLACES)}.")
    return "\n".join(lines) + "\n"


def write_corpus(folder: Path, ids, variant: str = "a", sentences: int = 40) -> set[str]:
    """Write articles art_<i>.txt into folder (creating it); returns the article ids (relative paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = set()
    for i in ids:
        name = f"art_{i:04d}.txt"
        (folder / name).write_text(article_text(i, variant, sentences), encoding="utf-8")
        out.add(name)
    return out


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
