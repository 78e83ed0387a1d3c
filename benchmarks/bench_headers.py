"""How well the header date rules, the dateparser library and both together read publication-date lines.

    .venv/bin/python benchmarks/bench_headers.py

Reads `tests/fixtures/header_dates.jsonl` (a line as it appears under a headline, and the date it gives, or
null when it gives none or cannot be read without guessing) and prints, for each way of reading: lines read
right, wrong dates (the worst outcome: a timeline resolved against the wrong day), dates missed, dates found
in lines that have none, and the time per line. Never asserted in tests (tests/corpus/test_header.py checks
the rules' results, not their speed).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.header import parse_date_line, read_date_by_rules, read_date_with_library  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "header_dates.jsonl"


def rules_only(line: str) -> str | None:
    return read_date_by_rules(line) or None


def library_only(line: str) -> str | None:
    return read_date_with_library(line)


def library_raw(line: str) -> str | None:
    """dateparser as it comes (English, a year required), without the guards against guessing."""
    import dateparser

    found = dateparser.parse(line, languages=["en"], settings={"REQUIRE_PARTS": ["year"]})
    return found.date().isoformat() if found else None


def main() -> int:
    cases = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    read_date_with_library("6 March 2025")  # load the library and its language data before timing
    print(f"{len(cases)} lines ({sum(1 for c in cases if c['date'])} with a date)\n")
    print(f"{'reader':<24} {'right':>5} {'wrong':>5} {'missed':>6} {'invented':>8} {'us/line':>8}")
    readers = (("rules", rules_only), ("dateparser as it comes", library_raw), ("dateparser, guarded", library_only),
               ("rules, then dateparser", parse_date_line))
    for name, fn in readers:
        right = wrong = missed = invented = 0
        started = time.perf_counter()
        for _ in range(5):
            got = [fn(c["line"]) for c in cases]
        per_line = (time.perf_counter() - started) / (5 * len(cases)) * 1e6
        misses = []
        for c, g in zip(cases, got):
            if g == c["date"]:
                right += 1
            elif g is None:
                missed += 1
                misses.append(c["line"])
            elif c["date"] is None:
                invented += 1
                misses.append(f"{c['line']} -> {g} (invented)")
            else:
                wrong += 1
                misses.append(f"{c['line']} -> {g} (wrong)")
        print(f"{name:<24} {right:>5} {wrong:>5} {missed:>6} {invented:>8} {per_line:>8.0f}")
        for m in misses:
            print(f"    {m}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
