"""Command line: `citebot` or `python -m bot` ask|reindex|eval|timeline|run; the composition root."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from bot import add_cmd, timeline_cmd
from bot.service import DataDirError, QuestionError, ReindexRunning, Service
from bot.settings import Settings, SettingsError, load_settings
from corpus.models import CorpusError
from index.answer import Answer
from index.build import BuildReport
from index.encoder import EncoderError, Progress
from index.evaluate import EvalReport, QuestionFileError, read_questions, score
from index.ranker import ModelFileError
from index.reader import ReaderError
from index.onnx_encoder import OnnxEncoder
from index.store import StoreError

log = logging.getLogger("bot")

EXIT_USAGE = 2
EXIT_FAILED = 1

# Errors whose messages are written for users: printed as they are, without a traceback.
USER_ERRORS = (SettingsError, CorpusError, QuestionError, ReindexRunning, EncoderError, StoreError, DataDirError,
               ModelFileError, ReaderError)


EXIT_PIPE = 128 + 13  # what a shell reports for a program stopped by SIGPIPE, as `yes | head` does

EVAL_FORMAT = """\
FILE holds one JSON object per line, in either of two forms:

  {"id": "d01", "type": "fact", "question": "When did ...?", "answer": ["voted on Thursday", "last July"]}
      "type" is fact for a question the articles answer, ood for one they do not (the bot should
      decline); a quote holding any of the "answer" strings is a hit (a loose hit).

  {"id": "...", "type": "fact", "question": "...", "answer": ["..."], "source": "a.txt", "spans": [[0, 31]]}
      the SQuAD form: "type" is fact, or near-ood for a question that reads as answerable but is not
      ("answer" empty); "source" is the article file the answer is in, relative to the corpus folder,
      and "spans" the character offsets [start, end) of each answer in it. A quote of that file whose
      offsets cover a span is a hit (a strict hit).

Point corpus.path at the articles the questions are about (e.g. CITEBOT_CORPUS__PATH=folder). A record
that cannot be read is named on stderr and skipped.

It prints each question's rank of the first quote holding the answer (over the ranked quotes, the
answer's own first), whether it was answered or declined and the probability that it is answerable;
then hit@1/3/5 and MRR, how often the answer text itself holds an answer, wrong declines (answerable
questions declined) and unanswerable questions declined, beside plain baselines from the same run
(reciprocal-rank fusion of passages; a threshold on the dense top-1 cosine at the same rate of wrong
declines), and the decline curve: unanswerable declined at 1, 2, 5, 10 and 20% wrong declines."""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.INFO) if args.verbose
                            else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            stream=sys.stderr)
        status = args.func(args, settings)
        sys.stdout.flush()  # a closed pipe shows here, not later when Python exits
        return status
    except BrokenPipeError:  # `citebot timeline | head`: the reader has what it wanted
        _silence_stdout()
        return EXIT_PIPE
    except USER_ERRORS as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a file or folder the user pointed at cannot be used
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that flushing it again at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _global_options(parser: argparse.ArgumentParser) -> None:
    """-v and --config, accepted before or after the command: each parser has its own copy, and SUPPRESS
    keeps the command's parser from resetting what was given before the command (see `parse`)."""
    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                        help="settings file (default: $CITEBOT_CONFIG, else config/settings.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log what happens to stderr")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line's arguments, with -v and --config wherever they were given."""
    args = _parser().parse_args(argv)
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", False)
    return args


def prog_name(argv0: str | None = None) -> str:
    """How the user started the program: `citebot` (the console script) or `python -m bot`."""
    name = Path(argv0 if argv0 is not None else sys.argv[0]).name
    return "python -m bot" if name in ("__main__.py", "-m", "") else name


def _parser() -> argparse.ArgumentParser:
    prog = prog_name()
    p = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Answer questions from the news articles in corpus/articles, quoting them with numbered "
                    "citations;\nlist the dated events they report; run the Discord bot.",
        epilog=f"examples:\n  {prog} ask \"When did Lithuania withdraw from the Convention on Cluster Munitions?\"\n"
               f"  {prog} timeline --from 2024 --query \"parliament vote\"\n\n"
               f"Run `{prog} COMMAND --help` for a command's options.")
    _global_options(p)
    sub = p.add_subparsers(required=True, metavar="COMMAND", title="commands")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.\n\n{description}",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        _global_options(cmd)
        return cmd

    ask = command("ask", "answer a question from the articles, with numbered sources",
                  "Prints the answer, then each source: title, date, outlet, author, file, the quoted passage and\n"
                  "its link. When the articles do not cover the question, it says so instead of guessing.\n"
                  "The index is built first if it is missing, and updated if the articles changed.")
    ask.add_argument("question", help='the question, in quotes; "-" reads one question per line from stdin '
                                      "(the model loads once)")
    ask.add_argument("--json", action="store_true",
                     help="print one JSON object per answer: question, answer, abstained and citations (n, "
                          "source, title, date, text, start, end, score, outlet, author, url)")
    ask.set_defaults(func=cmd_ask)
    timeline_cmd.register(command)

    re_ = command("reindex", "build or update the index from the articles folder",
                  "Reads the articles folder (corpus.path), embeds only new or changed passages and publishes a\n"
                  "new index generation; when nothing changed, says the index is up to date and keeps it.\n"
                  "Files that cannot be read are listed with the reason.")
    re_.add_argument("--json", action="store_true",
                     help="print the report as one JSON object (counts, skipped files, seconds, up_to_date)")
    re_.set_defaults(func=cmd_reindex)

    ev = command("eval", "measure answers and declines on a file of questions", EVAL_FORMAT)
    ev.add_argument("file", help="the questions, one JSON object per line (formats above)")
    ev.add_argument("--json", action="store_true", help="print the scores and every question's row as JSON")
    ev.set_defaults(func=cmd_eval)

    run = command("run", "run the Discord bot",
                  "Connects to Discord and answers slash commands, mentions and question channels until\n"
                  "Ctrl-C or SIGTERM. The bot token is read from the DISCORD_TOKEN environment variable, or else\n"
                  "from the file that discord.token_file names in the settings (keep it outside the\n"
                  "repository); it is never printed or logged. See README.md, 'Run it in your server'.")
    run.set_defaults(func=cmd_run)
    add_cmd.register(command)
    return p


def make_service(settings: Settings) -> Service:
    """The service with everything it is built from; the one place where the parts are put together."""
    service = Service(settings)
    if isinstance(service.encoder, OnnxEncoder):  # the first use exports the model: say so, it takes ~30 s
        service.encoder.notify = lambda message: print(message, file=sys.stderr, flush=True)
    return service


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
    max_chars = settings.answer.max_question_chars
    for n, (line, problem) in enumerate(read_lines(sys.stdin.buffer, 4 * max_chars + 64), 1):
        if not line.strip() and problem is None:
            continue
        try:
            if problem is not None:
                raise QuestionError(problem)
            out = service.ask_sync(line).as_json()
        except QuestionError as exc:  # one line of output for each line of input, whatever it held
            out, status = {"question": clip(line, ECHO_CHARS), "line": n, "error": str(exc)}, EXIT_FAILED
        print(json.dumps(out, ensure_ascii=False) if args.json else format_answer_dict(out), flush=True)
    return status


ECHO_CHARS = 200  # how much of a refused question is repeated in its error record


def read_lines(stream: BinaryIO, limit: int) -> Iterator[tuple[str, str | None]]:
    """The lines of a byte stream as (text, problem): never more than `limit` bytes of a line in memory (the
    rest is skipped), bytes that are not UTF-8 replaced; `problem` says what was wrong with the line, if anything."""
    while raw := stream.readline(limit + 1):
        problem = None
        if len(raw) > limit and not raw.endswith(b"\n"):
            problem = f"The question is too long (the line has over {limit:,} bytes)."
            while (rest := stream.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
            raw = raw[:limit]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            problem = problem or f"The line is not UTF-8 text (invalid byte at offset {exc.start}); nothing was asked."
        yield text.rstrip("\r\n"), problem


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Terminal controls: C0/C1 characters (escape sequences, bell, carriage return) and bidirectional overrides.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from the corpus made safe to print on one terminal line: control characters shown escaped (\\x1b)."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    service = make_service(settings)
    with _progress_bar("Embedding passages and sentences") as progress:
        report = service.reindex_sync(progress)
    print(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else format_build(report))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    qfile = read_questions(Path(args.file))
    service = _ready_service(settings)
    problems = list(qfile.problems)
    kept, outcomes, baselines = [], [], []
    with _progress_bar("Answering the questions") as progress:
        for i, q in enumerate(qfile.questions, 1):
            try:
                outcome, baseline = service.evaluate_sync(q.question)
            except QuestionError as exc:
                problems.append(f"question {q.id}: {exc}")
            else:
                kept.append(q)
                outcomes.append(outcome)
                baselines.append(baseline)
            progress(i, len(qfile.questions))
    for p in problems:
        print(f"skipped {p}", file=sys.stderr)
    if not kept:
        raise QuestionFileError(f"{args.file}: no question could be asked")
    report = score(kept, outcomes, baselines, problems)
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
    kind = "strict: a quote covers a gold span" if r.strict else "loose: a quote holds an answer string"
    b = r.baseline
    lines += [
        f"{r.in_scope} answerable, {r.out_of_scope} not answerable; hits are {kind}",
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
