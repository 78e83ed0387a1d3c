"""The command line's side of the terminal: the service as the commands use it, notices and progress bars on
stderr, and the plain text they print (answers, index reports, evaluations, timelines), made safe to print.

The terminal counterpart of `bot/render.py`, which renders the same things for Discord.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping

from bot.service import Service
from bot.settings import Settings
from index.answer import Answer
from index.build import BuildReport
from index.encoder import Progress
from index.evaluate import EvalReport

EXIT_FAILED = 1
EXIT_PIPE = 128 + 13  # what a shell reports for a program stopped by SIGPIPE, as `yes | head` does


def say(message: str) -> None:
    """A notice for the person at the terminal (stderr: stdout is the command's output)."""
    print(message, file=sys.stderr, flush=True)


def open_service(settings: Settings) -> Service:
    """The service, telling the terminal when the model's one-off export (about 30 s) starts and ends."""
    return Service(settings, notify=say)


def ready_service(settings: Settings) -> Service:
    """The service with its index loaded, built first when missing or out of date (why, and a progress bar, on
    stderr)."""
    service = open_service(settings)
    with ProgressBar("Embedding passages and sentences") as progress:
        service.ensure_index(progress=progress, notify=say)
    return service


class ProgressBar:
    """A tqdm bar on stderr for embedding; silent when nothing is embedded."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar = None

    def __enter__(self) -> Progress:
        return self.update

    def update(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit="text", file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


# Terminal controls: C0/C1 characters (escape sequences, bell, carriage return) and bidirectional overrides.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from the corpus made safe to print on one terminal line: control characters shown escaped (\\x1b)."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- answers ---------------------------------------------------------------------------------------------

def format_answer(answer: Answer) -> str:
    text = format_answer_dict(answer.as_json(), {c.n: c for c in answer.citations})
    if answer.event_date:
        first, _, rest = text.partition("\n")
        text = f"{first}\nWhen: {answer.event_date} (the date in the articles' timeline)\n{rest}"
    return text


def format_answer_dict(out: dict, full: dict | None = None) -> str:
    """An answer's JSON (or a refused question's error record) as text: the answer, then the numbered sources."""
    if "error" in out:
        return f"Q: {printable(out['question'])}\nerror: {printable(out['error'])}\n"
    lines = [printable(" ".join(out["answer"].split()))]
    if out["citations"]:
        lines += ["", "Sources:"]
    for c in out["citations"]:
        date = c["date"] or "date unknown"
        if full and full[c["n"]].date_inferred:
            date += " (inferred)"
        facts = [date, c.get("outlet"), f"by {c['author']}" if c.get("author") else None, c["source"]]
        lines.append(printable(f"[{c['n']}] {c['title'] or c['source']} ({'; '.join(f for f in facts if f)})"))
        lines.append(f"    “{printable(' '.join(c['text'].split()))}”")
        if c.get("url"):
            lines.append(f"    {printable(c['url'])}")
    return "\n".join(lines)


# -- reports ---------------------------------------------------------------------------------------------

def format_build(r: BuildReport) -> str:
    if r.up_to_date:
        lines = [f"Index up to date: nothing changed since it was built ({r.articles} articles as {r.chunks} "
                 f"passages, {r.index_type} index, generation {r.generation}); kept as it is."]
    else:
        lines = [f"Indexed {r.articles} articles as {r.chunks} passages ({r.index_type} index) in {r.seconds:.1f}s: "
                 f"{r.embedded} newly embedded, {r.reused} reused."]
    for s in r.skipped:
        lines.append(printable(f"skipped {s.path}: {s.reason}"))
    for s in r.warnings:
        lines.append(printable(f"warning {s.path}: {s.reason}"))
    return "\n".join(lines)


def format_eval(r: EvalReport, rows: bool = True) -> str:
    lines = []
    if rows:
        for row in r.rows:
            mark = (f"rank {row.rank}" if row.rank else "miss") if row.in_scope else "not answerable"
            lines.append(f"{row.id[:8]:>8}  {mark:<14} {'declined' if row.abstained else 'answered':<8} "
                         f"p={row.confidence:.2f}  {' '.join(row.question.split())[:100]}")
        lines.append("")
    hits = "strict: a quote covers a gold span" if r.strict else "loose: a quote holds an answer string"
    b = r.baseline
    lines += [
        f"{r.in_scope} answerable, {r.out_of_scope} not answerable; hits are {hits}",
        f"{'':<34}{'hit@1':>7}{'hit@3':>7}{'hit@5':>7}{'MRR':>7}{'holds it':>10}{'wrong declines':>16}"
        f"{'unanswerable declined':>23}",
        f"{'citebot':<34}{r.hit_at_1:>7.2f}{r.hit_at_3:>7.2f}{r.hit_at_5:>7.2f}{r.mrr:>7.3f}{r.answer_holds_it:>10.2f}"
        f"{_pct(r.wrong_decline_rate, r.in_scope):>16}{_pct(r.abstention_rate_out_of_scope, r.out_of_scope):>23}",
    ]
    if b:
        lines.append(
            f"{'baseline: RRF passages, cosine':<34}{b['hit_at_1']:>7.2f}{b['hit_at_3']:>7.2f}{b['hit_at_5']:>7.2f}"
            f"{b['mrr']:>7.3f}{'-':>10}{_pct(b['cosine_wrong_declines'], r.in_scope):>16}"
            f"{_pct(b['cosine_unanswerable_declined'], r.out_of_scope):>23}")
    lines.append(f"answered with the first quote holding it: {r.first_and_answered:.2f}")
    if r.curve:
        lines.append("decline curve, unanswerable declined at a rate of wrong declines: " + ", ".join(
            f"{p.wrong_declines:.0%} -> {p.unanswerable_declined:.0%}" for p in r.curve))
        if b.get("cosine_curve"):
            lines.append("  the same for the cosine threshold: " + ", ".join(
                f"{p['wrong_declines']:.0%} -> {p['unanswerable_declined']:.0%}" for p in b["cosine_curve"]))
    if r.problems:
        lines.append(f"{len(r.problems)} record(s) skipped (listed on stderr)")
    return "\n".join(lines)


def _pct(rate: float, n: int) -> str:
    return f"{rate:.1%}" if n else "-"


# -- timelines -------------------------------------------------------------------------------------------

def format_events(events: Iterable[dict], titles: Mapping[str, str] | None = None) -> str:
    """One line per event: the date as read, the event, its sources as [n]; then the numbered sources. The
    corpus's text (a line break or a terminal escape in a sentence, title or file name) is made safe to print."""
    rows = [_printable_event(ev) for ev in events]
    if not rows:
        return "No dated events match."
    width = min(max(len(ev["label"]) for ev in rows), 28)
    numbers: dict[str, int] = {}
    lines = []
    for ev in rows:
        marks = sorted({numbers.setdefault(c["source"], len(numbers) + 1) for c in ev["citations"]})
        line = f"{ev['label']:<{width}}  {ev['text']}  {''.join(f'[{n}]' for n in marks)}"
        if ev.get("note"):
            line += f"  ({ev['note']})"
        lines.append(line)
    lines += ["", "Sources:"]
    for source, n in numbers.items():
        title = printable(" ".join((titles or {}).get(source, "").split()))
        lines.append(f"[{n}] {title} ({source})" if title and title != source else f"[{n}] {source}")
    return "\n".join(lines)


def _printable_event(ev: dict) -> dict:
    """The event with its texts on one line and safe to print; a file name is shown as it is, but escaped."""
    def tidy(key: str, value):
        if not isinstance(value, str):
            return value
        return printable(value if key == "source" else " ".join(value.split()))

    return {k: ([{ck: tidy(ck, cv) for ck, cv in c.items()} for c in v] if k == "citations" else tidy(k, v))
            for k, v in ev.items()}
