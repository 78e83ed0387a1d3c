"""Rewrite README.md's sample outputs with what the commands print now: `make readme-sample`.

A sample is a fenced block between two markers that name the command::

    <!-- sample: citebot ask "When did ...?" -->
    ```text
    (what `citebot ask "When did ...?"` prints on the shipped corpus)
    ```
    <!-- /sample -->

Each command runs as the `citebot` console script beside this Python (`.venv/bin/citebot`), in the project
folder with the default settings, so on the shipped articles; only its standard output is kept. `--check`
rewrites nothing and exits 1 when a sample is not current (tests/test_readme.py checks the same).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CITEBOT = Path(sys.executable).parent / "citebot"  # the console script `make` installs beside this Python
SAMPLE = re.compile(r"(<!-- sample: (?P<command>.+?) -->\n```text\n)(?P<output>.*?)(```\n<!-- /sample -->)", re.S)


def run(command: str, data_dir: Path | None = None) -> str:
    """What `citebot ARGS` prints on stdout; raises RuntimeError when it fails."""
    args = shlex.split(command)
    if not args or args[0] != "citebot":
        raise RuntimeError(f"a sample's command must start with citebot: {command!r}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="100")
    if data_dir is not None:
        env["CITEBOT_DATA__DIR"] = str(data_dir)
    done = subprocess.run([str(CITEBOT), *args[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def samples(text: str) -> list[re.Match[str]]:
    return list(SAMPLE.finditer(text))


def rewrite(text: str, data_dir: Path | None = None) -> str:
    """The README text with every sample replaced by its command's current output."""
    def fresh(m: re.Match[str]) -> str:
        out = run(m.group("command"), data_dir)
        return m.group(1) + out.rstrip("\n") + "\n" + m.group(4)

    return SAMPLE.sub(fresh, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only say whether every sample is current (exit 1 if not)")
    ap.add_argument("--data-dir", type=Path, help="data folder for the runs (default: the settings' data.dir)")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    if not samples(text):
        print("README.md has no sample blocks", file=sys.stderr)
        return 1
    new = rewrite(text, args.data_dir)
    changed = [m.group("command") for m, n in zip(samples(text), samples(new))
               if m.group("output") != n.group("output")]
    if args.check:
        for command in changed:
            print(f"README.md: the sample of `{command}` is not what it prints now", file=sys.stderr)
        return 1 if changed else 0
    if new != text:
        README.write_text(new, encoding="utf-8")
    print(f"README.md: {len(samples(new))} samples, {len(changed)} rewritten"
          + (f" ({', '.join(changed)})" if changed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
