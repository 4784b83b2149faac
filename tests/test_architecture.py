"""The shape of the code, checked on its source: imports go one way (no cycles, even through
function-local imports), the demo never imports TensorFlow, nothing imports the tests, files stay small."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("train", "export", "demo", "bench")
HEAVY = ("tensorflow", "keras", "tf2onnx")
MAX_LINES = 300


def sources():
    files = [ROOT / "app.py"] + [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in files}


def imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def graph():
    mods = sources()
    return {m: {i for i in imports(p) if i in mods and i != m} for m, p in mods.items()}


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_demo_and_app_never_import_tensorflow():
    """Not even through our own modules: everything the demo reaches, transitively."""
    edges, mods = graph(), sources()
    seen, todo = set(), [m for m in mods if m == "app" or m.startswith("demo")]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += edges[m]
    heavy = {m: sorted(i for i in imports(mods[m]) if i.split(".")[0] in HEAVY) for m in seen}
    assert {m: h for m, h in heavy.items() if h} == {}
    assert not any(m.startswith(("train", "export")) for m in seen)


def test_nothing_imports_the_tests():
    mods = sources()
    assert {
        m: sorted(i for i in imports(p) if i.split(".")[0] == "tests")
        for m, p in mods.items()
        if any(i.split(".")[0] == "tests" for i in imports(p))
    } == {}


def test_every_file_is_under_300_lines():
    files = [*sources().values(), *sorted((ROOT / "tests").glob("*.py"))]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) >= MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    """ruff, configured in pyproject.toml: the same `ruff check .` and `ruff format --check .` run by hand."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
