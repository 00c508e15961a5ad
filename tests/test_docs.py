"""The documentation: the site builds with warnings as errors, and every snippet runs.

Two checks, both run by plain ``python3 -m pytest`` (so in CI, through the ``test`` extra):

- ``mkdocs build --strict`` into a temporary folder, then every page in the nav must have
  been rendered, the benchmarks page must carry every section of ``benchmarks/RESULTS.md``
  and every API page must document its modules.
- Every fenced ``python`` block in ``docs/*.md`` and ``README.md`` is run: each file's blocks
  in order, sharing one namespace (a later block may use an earlier block's names), in one
  fresh interpreter whose working folder is an empty temporary folder, with
  ``MPLBACKEND=Agg`` and a timeout. A failure names the Markdown file and the line of the
  failing block, and the traceback points at lines of the Markdown file itself.

Skipping a snippet: put the line ``<!-- skip-snippet -->`` directly above its opening
fence (blank lines between are allowed). Use it only for code that cannot run in a test,
such as an example that must be launched with ``torchrun``; a slow snippet should be made
smaller instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_MARKER = "<!-- skip-snippet -->"
SNIPPET_FILES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
# Per Markdown file. The whole snippet run takes about a minute on a 2-core CPU; the margin
# is for loaded CI machines.
SNIPPET_TIMEOUT_S = float(os.environ.get("SCIML_SNIPPET_TIMEOUT", "600"))
BUILD_TIMEOUT_S = 600
API_PACKAGES = ("core", "data", "neural", "train", "gp", "pig", "rom", "linalg", "plot",
                "reference", "problems")

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)")


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """Return the fenced ``python`` blocks of a Markdown text.

    Returns
    -------
    list of (int, str, bool)
        For each block, in order: the 1-based line of its first code line, the code
        (dedented by the fence's indentation) and whether it carries the skip marker.
    """
    lines = text.splitlines()
    blocks: list[tuple[int, str, bool]] = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        start = i + 1
        end = start
        # A fence closes on a line of the same character, at least as long, and nothing else.
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and set(lines[end].strip()) == {fence[0]}
        ):
            end += 1
        if match["info"].lower() in ("python", "py"):
            prev = i - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            skip = prev >= 0 and lines[prev].strip() == SKIP_MARKER
            body = [line[indent:] if line[:indent].strip() == "" else line
                    for line in lines[start:end]]
            blocks.append((start + 1, "\n".join(body) + "\n", skip))
        i = end + 1
    return blocks


# Runs in the child: the blocks of one file in one namespace. Each block is compiled with
# blank lines in front so that tracebacks give the line numbers of the Markdown file.
_DRIVER = textwrap.dedent(
    """
    import json, sys, time, traceback
    spec = json.load(open(sys.argv[1]))
    namespace = {"__name__": "__main__"}
    timings = []
    for line, code in spec["blocks"]:
        t0 = time.perf_counter()
        try:
            exec(compile("\\n" * (line - 1) + code, spec["path"], "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            print(f"SNIPPET FAILED: {spec['path']}, block at line {line}", file=sys.stderr)
            sys.exit(1)
        timings.append([line, time.perf_counter() - t0])
    print("SNIPPET TIMINGS " + json.dumps(timings))
    """
)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ---------------------------------------------------------------------------------------
# The snippet extractor itself (fast, no subprocess).


def test_python_blocks_finds_skips_and_dedents() -> None:
    text = textwrap.dedent(
        """\
        # Title

        ```python
        a = 1
        ```

        ```bash
        echo not python
        ```

        <!-- skip-snippet -->

        ```python
        torchrun_only()
        ```

        - a list item:

          ```py
          b = a + 1
          ```

        ````python
        s = '''
        ```
        '''
        ````
        """
    )
    blocks = python_blocks(text)
    assert [(line, skip) for line, _, skip in blocks] == [(4, False), (14, True), (20, False),
                                                           (24, False)]
    assert blocks[0][1] == "a = 1\n"
    assert blocks[2][1] == "b = a + 1\n"
    assert blocks[3][1] == "s = '''\n```\n'''\n"


# ---------------------------------------------------------------------------------------
# Every snippet runs.


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=_relative)
def test_snippets_run(path: Path, tmp_path: Path) -> None:
    blocks = [(line, code) for line, code, skip in python_blocks(path.read_text("utf-8"))
              if not skip]
    if not blocks:
        pytest.skip(f"{_relative(path)} has no python snippets")
    spec = tmp_path / "snippets.json"
    spec.write_text(json.dumps({"path": str(path), "blocks": blocks}))
    work = tmp_path / "cwd"
    work.mkdir()
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        result = subprocess.run(
            [sys.executable, "-c", _DRIVER, str(spec)], cwd=work, env=env,
            capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{_relative(path)}: snippets did not finish within {SNIPPET_TIMEOUT_S:.0f} s "
                    f"(blocks at lines {[line for line, _ in blocks]})\n{exc.stderr or ''}")
    if result.returncode != 0:
        failed = re.search(r"block at line (\d+)", result.stderr)
        where = f"block at line {failed[1]}" if failed else "before any block finished"
        pytest.fail(f"{_relative(path)}: snippet failed ({where})\n"
                    f"--- stdout ---\n{result.stdout[-4000:]}\n"
                    f"--- stderr ---\n{result.stderr[-8000:]}")
    timings = re.search(r"^SNIPPET TIMINGS (.*)$", result.stdout, re.MULTILINE)
    assert timings is not None, result.stdout[-2000:]
    ran = json.loads(timings[1])
    assert [line for line, _ in ran] == [line for line, _ in blocks]
    # Shown with -rP or -s: which snippets are slow.
    print(", ".join(f"{_relative(path)}:{line} {seconds:.1f}s" for line, seconds in ran))


# ---------------------------------------------------------------------------------------
# The API reference lists every public module.


@pytest.mark.parametrize("package", API_PACKAGES)
def test_api_page_lists_every_module(package: str) -> None:
    page = DOCS / "api" / f"{package}.md"
    assert page.is_file(), f"missing API page {_relative(page)}"
    listed = set(re.findall(rf"^::: (sciml\.{package}(?:\.\w+)?)\s*$", page.read_text("utf-8"),
                            re.MULTILINE))
    modules = {f"sciml.{package}.{p.stem}" for p in (ROOT / "sciml" / package).glob("*.py")
               if not p.stem.startswith("_")}
    missing = sorted(modules - listed)
    assert not missing, f"{_relative(page)} lacks '::: module' lines for {missing}"
    stale = sorted(listed - modules - {f"sciml.{package}"})
    assert not stale, f"{_relative(page)} documents modules that do not exist: {stale}"


# ---------------------------------------------------------------------------------------
# The site builds with --strict.


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    return []


def _html_path(site: Path, page: str) -> Path:
    # use_directory_urls: a.md -> a/index.html, index.md -> index.html
    stem = page[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return site / f"{stem}.html"
    return site / stem / "index.html"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: install the test extra, "
                        f"pip install -e '.[test]'")
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, (
        f"mkdocs build --strict failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    )
    return site


def test_docs_build_renders_every_nav_page(built_site: Path) -> None:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    pages = _nav_pages(config["nav"])
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    # benchmarks.md is generated at build time from benchmarks/RESULTS.md.
    assert "benchmarks.md" not in on_disk
    assert set(pages) == on_disk | {"benchmarks.md"}, "the nav must list every page in docs/"
    for page in pages:
        html = _html_path(built_site, page)
        assert html.is_file(), f"{page} was not rendered to {html}"
        assert "<h1" in html.read_text("utf-8"), f"{html} has no title"


def test_benchmarks_page_is_results_md(built_site: Path) -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text("utf-8")
    html = (built_site / "benchmarks" / "index.html").read_text("utf-8")
    headings = re.findall(r"^#{1,3} (.+)$", results, re.MULTILINE)
    assert len(headings) >= 3
    plain = re.sub(r"<[^>]+>", "", html)
    for heading in headings:
        # Markdown inline code and emphasis are rendered to tags; compare the bare words.
        words = re.sub(r"`|\*\*", "", heading).strip()
        words = words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert words in plain, f"RESULTS.md section {heading!r} missing from the benchmarks page"


@pytest.mark.parametrize("package", API_PACKAGES)
def test_api_pages_document_objects(built_site: Path, package: str) -> None:
    html = (built_site / "api" / package / "index.html").read_text("utf-8")
    page = (DOCS / "api" / f"{package}.md").read_text("utf-8")
    for module in re.findall(rf"^::: (sciml\.{package}\.\w+)\s*$", page, re.MULTILINE):
        assert f'id="{module}"' in html, f"{module} not rendered on the {package} API page"
    # Objects inside modules, not only module headings.
    objects = re.findall(rf'id="(sciml\.{package}\.\w+\.\w+)"', html)
    assert objects, f"no documented object on the {package} API page"
