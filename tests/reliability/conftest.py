"""The reliability tests print their figures at the end of the session (pytest -q shows them too)."""

from __future__ import annotations

from tests.reliability.common import FIGURES


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: a bounded fault or load loop of tens of seconds (still run by make test)")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for section, values in FIGURES.items():
        terminalreporter.write_line(f"{section}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
