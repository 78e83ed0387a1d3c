import sys

try:
    from bot.cli import entry
except ModuleNotFoundError as exc:  # `python -m bot` with a Python that lacks the project's packages
    if (exc.name or "").partition(".")[0] in ("bot", "index", "corpus"):
        raise
    sys.exit(f"error: {exc.name} is not installed for {sys.executable}: run `make` once, then use "
             ".venv/bin/citebot (or activate the environment first: . .venv/bin/activate)")

entry()
