"""The shape a newcomer can draw: imports point one way (bot -> index -> corpus), no module imports itself back
through others, every module imports on its own, and the libraries never load discord."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "corpus", "index", "training")
# What each package may import from the project: the layers, top to bottom.
ALLOWED = {"bot": {"bot", "index", "corpus"}, "training": {"training", "index", "corpus"},
           "index": {"index", "corpus"}, "corpus": {"corpus"}}


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of the project's packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path, known: set[str], package: str) -> set[str]:
    """The project modules a file imports, anywhere in it (a function's late import is an edge too), except under
    `if TYPE_CHECKING:`, which runs only for type checkers."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from bot import render` imports bot.render
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in known}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    out = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out[name] = imports_of(path, known, package) - {name}
    return out


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_graph_sees_the_imports_that_made_the_old_cycles() -> None:
    edges = graph()
    assert "bot.terminal" in edges["bot.cli"] and "bot.service" in edges["bot.terminal"]
    assert "index.encoder" in edges["index.onnx_encoder"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_itself_back_through_others() -> None:
    assert find_cycle(graph()) is None


def test_imports_point_one_way_bot_index_corpus() -> None:
    wrong = [(m, d) for m, deps in graph().items() for d in deps if d.split(".")[0] not in ALLOWED[m.split(".")[0]]]
    assert not wrong


# The Discord side of the bot: only these modules may load discord (the command line, the service, fetching
# and the libraries never do, so `citebot ask` does not pay for it).
DISCORD_SIDE = {"bot.checks", "bot.client", "bot.render", "bot.views"}


def test_every_module_imports_on_its_own_and_only_the_discord_side_loads_discord() -> None:
    """Each module imported first, in a process where no other project module (nor discord) is loaded yet."""
    names = sorted(m for m in modules() if not m.endswith("__main__"))  # __main__ runs the program
    allowed = sorted(DISCORD_SIDE | {m for m in names if m.startswith("bot.cogs.")})
    code = f"""
import importlib, sys
bad = []
for name in {names!r}:
    for loaded in [m for m in sys.modules if m.split(".")[0] in {PACKAGES!r} or m.split(".")[0] == "discord"]:
        del sys.modules[loaded]
    importlib.import_module(name)
    if "discord" in sys.modules and name not in {allowed!r}:
        bad.append(name)
assert not bad, "these load discord: " + ", ".join(bad)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("package", ["index", "corpus"])
def test_the_libraries_do_not_import_discord_or_the_bot(package) -> None:
    for name, deps in graph().items():
        if name.split(".")[0] == package:
            assert not {d for d in deps if d.split(".")[0] == "bot"}, name
            source = modules()[name].read_text(encoding="utf-8")
            assert "import discord" not in source and "from discord" not in source, name


LONG = 420  # lines: about 400, the size a module is read in one sitting


@pytest.mark.parametrize("folder", ["bot", "corpus", "index", "training", "tests", "benchmarks", "scripts"])
def test_a_long_module_says_why_it_is_one(folder) -> None:
    for path in sorted((ROOT / folder).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > LONG:
            doc = ast.get_docstring(ast.parse(source)) or ""
            assert "on purpose" in doc, f"{path.relative_to(ROOT)}: over {LONG} lines; split it or say why"
