"""MkDocs hooks for the sciml docs site.

The benchmarks page is not a file in ``docs/``: it is made from ``benchmarks/RESULTS.md`` at
every build, so the site can never show numbers that differ from the results file that the
benchmark scripts update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "RESULTS.md"
PAGE = "benchmarks.md"
NOTE = (
    "<!-- Generated at build time from benchmarks/RESULTS.md by docs/hooks.py: "
    "edit that file, not this page. -->\n\n"
    "*This page is `benchmarks/RESULTS.md`, included as it is at build time; each section "
    "names the script in `benchmarks/` that reproduces it.*\n\n"
)


def benchmarks_page(results: Path = RESULTS) -> str:
    """Return the markdown of the benchmarks page built from ``results``.

    The note goes after the first heading so that the page keeps RESULTS.md's title.
    """
    text = results.read_text(encoding="utf-8")
    head, _, rest = text.partition("\n")
    if head.startswith("# "):
        body = rest.lstrip("\n")
        return f"{head}\n\n{NOTE}{body}"
    return f"# Benchmark results\n\n{NOTE}{text}"


def on_files(files: Files, config: Any) -> Files:
    if files.get_file_from_path(PAGE) is not None:
        # A hand-written docs/benchmarks.md would silently shadow the generated one.
        raise ValueError(
            f"docs/{PAGE} must not exist: the page is generated from {RESULTS.name}"
        )
    files.append(File.generated(config, PAGE, content=benchmarks_page()))
    # Figures that RESULTS.md shows (benchmarks/*.png) go next to the page.
    for figure in sorted(RESULTS.parent.glob("*.png")):
        files.append(File.generated(config, figure.name, abs_src_path=str(figure)))
    return files


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    # `mkdocs serve` watches docs/ only; rebuild when the results change too.
    server.watch(str(RESULTS))
    return server
