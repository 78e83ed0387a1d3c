"""Command line: `citebot` or `python -m bot` ask|reindex|eval|timeline|run; the composition root."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from bot import add_cmd, timeline_cmd
from bot.service import QuestionError
from bot.settings import Settings, load_settings
from bot.terminal import (EXIT_FAILED, EXIT_PIPE, ProgressBar, clip, format_answer, format_answer_dict, format_build,
                          format_eval, open_service, printable, ready_service)
from corpus.errors import CitebotError
from index.evaluate import QuestionFileError, read_questions, score

log = logging.getLogger("bot")

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
    except CitebotError as exc:  # written for the user: printed as it is, without a traceback
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_status
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


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    service = ready_service(settings)
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


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    service = open_service(settings)
    with ProgressBar("Embedding passages and sentences") as progress:
        report = service.reindex_sync(progress)
    print(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else format_build(report))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    qfile = read_questions(Path(args.file))
    service = ready_service(settings)
    problems = list(qfile.problems)
    kept, outcomes, baselines = [], [], []
    with ProgressBar("Answering the questions") as progress:
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

    return run_bot(settings, open_service(settings))


def entry(argv: Sequence[str] | None = None, _main: Callable[[Sequence[str] | None], int] = main) -> None:
    sys.exit(_main(argv))
