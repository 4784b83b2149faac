"""The README stays true: its Python and shell examples run as written on a fresh clone (their `# -> ...`
comments are what they must print), the HTTP ones against a real app, and every relative link in it and
in docs/ resolves. A block preceded by `<!-- not run: why -->` is one that installs, trains or serves."""

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"(?:<!-- ([^>]*) -->\n)?```(python|bash)\n(.*?)```", re.S)
EXPECT = re.compile(r"#\s*->\s*(.+)$")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)|src=\"([^\"]+)\"")
DEFAULT_URL = "http://127.0.0.1:7860/"


def examples(note: str) -> list[tuple[str, str]]:
    return [(lang, code) for mark, lang, code in BLOCK.findall(README) if mark.strip() == note]


def run_example(lang: str, code: str, url: str = DEFAULT_URL) -> None:
    code = code.replace(DEFAULT_URL, url)
    if lang == "python":
        runs = [[sys.executable, "-c", code]]
    else:  # each command on its own, `python` being this environment's
        commands = [c for c in code.replace("\\\n", " ").splitlines() if c.strip()]
        runs = [["bash", "-c", re.sub(r"^python ", f"{sys.executable} ", "\n".join(commands), flags=re.M)]]
    for argv in runs:
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (code, result.stderr[-2000:])
        for want in (m.group(1).strip() for line in code.splitlines() if (m := EXPECT.search(line))):
            assert want in result.stdout, (want, result.stdout[-2000:])


def test_the_readme_is_one_page():
    assert len(README.splitlines()) < 250


@pytest.mark.parametrize("lang, code", examples(""), ids=lambda v: v.splitlines()[0][:40] if "\n" in v else v)
def test_examples_run_as_written(lang, code):
    run_example(lang, code)


@pytest.mark.server
@pytest.mark.parametrize("lang, code", examples("run against the app"), ids=["python", "curl"])
def test_http_examples_answer_from_a_running_app(app_url, lang, code):
    run_example(lang, code, app_url)


def test_every_relative_link_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = []
    for page in pages:
        for groups in LINK.findall(page.read_text()):
            target = next(g for g in groups if g)
            if not target.startswith(("http://", "https://", "mailto:", "data:")):
                if not (page.parent / target).exists():
                    missing.append(f"{page.relative_to(ROOT)}: {target}")
    assert not missing, missing
    assert examples("") and examples("run against the app")  # the README still has both kinds


FIGURE = re.compile(r"(?<![\w.])(\d[\d,]*\.\d+|\d[\d,]*)\s?(%|ms|MB|min|s)?(?![\w])")


def figures(cells: str) -> list[tuple[str, str]]:
    """(number, unit) of every measured figure: a decimal, or a number with a unit."""
    return [(n, u) for n, u in FIGURE.findall(cells) if u or "." in n]


def test_every_figure_in_the_results_comes_from_a_bench_table_or_the_shipped_metrics():
    """The Results table quotes what `bench/` wrote into BENCHMARKS.md (or, for the test accuracy, the shipped
    model's metrics): a figure from an older model or a doc of its own fails here."""
    bench = (ROOT / "BENCHMARKS.md").read_text()
    metrics = "".join(p.read_text() for p in (ROOT / "models").glob("*.metrics.json"))
    results = README[README.index("## Results") : README.index("## Layout")]
    missing = []
    for line in results.splitlines():
        if not line.startswith("| ") or line.startswith("| what"):
            continue
        measured_and_beside = " ".join(line.split("|")[2:4])
        for number, unit in figures(measured_and_beside):
            plain = number.replace(",", "")
            found = re.search(rf"(?<![\d.]){re.escape(number)}{re.escape(unit) if unit == '%' else ''}(?![\d])", bench)
            in_metrics = unit == "%" and f"{float(plain) / 100:.4f}".rstrip("0") in metrics
            if not (found or in_metrics or re.search(rf"(?<![\d.]){re.escape(plain)}(?![\d])", bench) and unit != "%"):
                missing.append(f"{number}{unit}")
    assert not missing, f"figures in the README's Results that no bench table holds: {missing}"
