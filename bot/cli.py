"""Command line: `python -m bot ask|reindex|eval|run`; the composition root of the application."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import add_cmd, timeline_cmd
from bot.service import DataDirError, QuestionError, ReindexRunning, Service
from bot.settings import Settings, SettingsError, load_settings
from corpus.models import CorpusError
from index.answer import Answer
from index.build import BuildReport
from index.encoder import EncoderError, Progress
from index.evaluate import EvalReport, read_questions, score
from index.store import StoreError

log = logging.getLogger("bot")

EXIT_USAGE = 2
EXIT_FAILED = 1

# Errors whose messages are written for users: printed as they are, without a traceback.
USER_ERRORS = (SettingsError, CorpusError, QuestionError, ReindexRunning, EncoderError, StoreError, DataDirError)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.INFO) if args.verbose
                            else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            stream=sys.stderr)
        return args.func(args, settings)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a file or folder the user pointed at cannot be used
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Answer questions from news articles, with citations.")
    p.add_argument("--config", help="settings file (default: config/settings.toml, or $CITEBOT_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question (or '-' to read one question per line from stdin)")
    ask.add_argument("question", help="the question, or - for one question per line on stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.set_defaults(func=cmd_ask)

    re_ = sub.add_parser("reindex", help="build or update the index from the corpus folder")
    re_.add_argument("--json", action="store_true", help="print the report as JSON")
    re_.set_defaults(func=cmd_reindex)

    ev = sub.add_parser("eval", help="measure retrieval and abstention on a question file")
    ev.add_argument("file", help="JSON lines with question, type, answer")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_eval)

    run = sub.add_parser("run", help="run the Discord bot")
    run.set_defaults(func=cmd_run)
    timeline_cmd.register(sub)
    add_cmd.register(sub)
    return p


def make_service(settings: Settings) -> Service:
    """The service with everything it is built from; the one place where the parts are put together."""
    return Service(settings)


def _ready_service(settings: Settings) -> Service:
    service = make_service(settings)
    with _progress_bar("Embedding passages and sentences") as progress:
        service.ensure_index(progress=progress, notify=lambda msg: print(msg, file=sys.stderr))
    return service


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    service = _ready_service(settings)
    if args.question != "-":
        answer = service.ask_sync(args.question)
        print(json.dumps(answer.as_json(), ensure_ascii=False) if args.json else format_answer(answer))
        return 0
    status = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = service.ask_sync(line).as_json()
        except QuestionError as exc:
            out, status = {"question": line.rstrip("\n"), "error": str(exc)}, EXIT_FAILED
        print(json.dumps(out, ensure_ascii=False) if args.json else format_answer_dict(out), flush=True)
    return status


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    service = make_service(settings)
    with _progress_bar("Embedding passages and sentences") as progress:
        report = service.reindex_sync(progress)
    print(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else format_build(report))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    questions = read_questions(Path(args.file))
    service = _ready_service(settings)
    answers = [service.ask_sync(q.question) for q in questions]
    report = score(questions, answers)
    print(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else format_eval(report))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.client import run_bot  # discord is imported only by the command that needs it

    return run_bot(settings, make_service(settings))


# -- text output ---------------------------------------------------------------------------------------

def format_answer(answer: Answer) -> str:
    text = format_answer_dict(answer.as_json(), {c.n: c for c in answer.citations})
    if answer.when:
        first, _, rest = text.partition("\n")
        text = f"{first}\nWhen: {answer.when} (the date in the articles' timeline)\n{rest}"
    return text


def format_answer_dict(out: dict, full: dict | None = None) -> str:
    if "error" in out:
        return f"Q: {out['question']}\nerror: {out['error']}\n"
    lines = [out["answer"]]
    if out["citations"]:
        lines += ["", "Sources:"]
    for c in out["citations"]:
        date = c["date"] or "date unknown"
        if full and full[c["n"]].date_inferred:
            date += " (inferred)"
        lines.append(f"[{c['n']}] {c['title'] or c['source']} ({date}; {c['source']})")
        lines.append(f"    “{' '.join(c['text'].split())}”")
    return "\n".join(lines)


def format_build(r: BuildReport) -> str:
    lines = [f"Indexed {r.articles} articles as {r.chunks} passages ({r.index_type} index) in {r.seconds:.1f}s: "
             f"{r.embedded} newly embedded, {r.reused} reused."]
    for s in r.skipped:
        lines.append(f"skipped {s.path}: {s.reason}")
    for s in r.warnings:
        lines.append(f"warning {s.path}: {s.reason}")
    return "\n".join(lines)


def format_eval(r: EvalReport) -> str:
    lines = []
    for row in r.rows:
        mark = (f"rank {row.rank}" if row.rank else "miss") if row.in_scope else "out of scope"
        lines.append(f"{row.id:>6}  {mark:<13} {'abstained' if row.abstained else 'answered':<10} {row.question}")
    lines += [
        "",
        f"in scope: {r.in_scope}  hit@1 {r.hit_at_1:.2f}  hit@3 {r.hit_at_3:.2f}  hit@5 {r.hit_at_5:.2f}  "
        f"MRR {r.mrr:.3f}  wrong abstentions {r.wrong_abstentions}",
        f"answer text holds an answer string: {round(r.answer_holds_it * r.in_scope)} of {r.in_scope} "
        f"({r.answer_holds_it:.2f})",
        f"out of scope: {r.out_of_scope}  abstained {r.abstained_out_of_scope} "
        f"({r.abstention_rate_out_of_scope:.0%})",
    ]
    return "\n".join(lines)


class _progress_bar:
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


def entry(argv: Sequence[str] | None = None, _main: Callable[[Sequence[str] | None], int] = main) -> None:
    sys.exit(_main(argv))
