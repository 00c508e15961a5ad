"""Which optional dependencies are installed, found without importing them.

``sciml info`` prints this report. Importing ``neuralop``, ``pymor`` or ``mkdocs`` takes
seconds and can fail noisily on a broken install, so a package is looked up with
:func:`importlib.util.find_spec` (is it importable?) and
:func:`importlib.metadata.version` (which version?) only: nothing here runs a package's
code.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "OPTIONAL_DEPENDENCIES",
    "OptionalDependency",
    "dependency_report",
    "optional_dependencies",
]


@dataclass(frozen=True)
class OptionalDependency:
    """An optional package, how to find it and what sciml uses it for.

    Attributes
    ----------
    module : str
        Top-level import name (``"neuralop"``).
    distribution : str
        Name on the package index, whose metadata holds the version (``"neuraloperator"``).
    extra : str
        The ``pip install sciml[extra]`` group that installs it, or ``""`` for none.
    purpose : str
        One line on what needs it.
    """

    module: str
    distribution: str
    extra: str
    purpose: str


#: Optional packages, in report order. Keys of :func:`optional_dependencies` are the
#: ``module`` names.
OPTIONAL_DEPENDENCIES: tuple[OptionalDependency, ...] = (
    OptionalDependency("neuralop", "neuraloperator", "bench", "FNO reference in benchmarks"),
    OptionalDependency("linear_operator", "linear_operator", "bench",
                       "Kronecker GP reference in benchmarks"),
    OptionalDependency("pymor", "pymor", "bench", "reduced-basis reference in benchmarks"),
    OptionalDependency("yaml", "PyYAML", "", "YAML configuration files (TOML needs nothing)"),
    OptionalDependency("mkdocs", "mkdocs", "docs", "building the documentation"),
    OptionalDependency("material", "mkdocs-material", "docs", "documentation theme"),
    OptionalDependency("mkdocstrings", "mkdocstrings", "docs", "API reference pages"),
    OptionalDependency("pytest", "pytest", "test", "running the tests"),
    OptionalDependency("hypothesis", "hypothesis", "test", "property-based tests"),
    OptionalDependency("ruff", "ruff", "test", "lint"),
)


def _importable(module: str) -> bool:
    try:
        # find_spec of a top-level name locates the package without executing it.
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # ValueError: a module in sys.modules without __spec__ (e.g. made by a test).
        return False


def _version(dep: OptionalDependency) -> str:
    try:
        return importlib.metadata.version(dep.distribution)
    except importlib.metadata.PackageNotFoundError:
        # Importable but without metadata: vendored, or on PYTHONPATH from a source tree.
        return "unknown"


def optional_dependencies(
    dependencies: tuple[OptionalDependency, ...] = OPTIONAL_DEPENDENCIES,
) -> dict[str, str | None]:
    """Version of each optional package, or ``None`` when it cannot be imported.

    Parameters
    ----------
    dependencies : tuple of OptionalDependency
        What to look for; default :data:`OPTIONAL_DEPENDENCIES`.

    Returns
    -------
    dict of str to (str or None)
        Import name to installed version (``"unknown"`` when importable without package
        metadata), in the order given. No package is imported.

    Raises
    ------
    ValueError
        If ``dependencies`` holds something that is not an :class:`OptionalDependency`.
    """
    out: dict[str, str | None] = {}
    for i, dep in enumerate(dependencies):
        if not isinstance(dep, OptionalDependency):
            raise ValueError(
                f"dependencies[{i}]: expected an OptionalDependency, got {type(dep).__name__}"
            )
        out[dep.module] = _version(dep) if _importable(dep.module) else None
    return out


def dependency_report(
    found: Mapping[str, str | None] | None = None,
    dependencies: tuple[OptionalDependency, ...] = OPTIONAL_DEPENDENCIES,
    indent: int = 2,
) -> str:
    """Text table of the optional packages: version, or ``missing`` and how to install it.

    Parameters
    ----------
    found : mapping, optional
        Output of :func:`optional_dependencies`; looked up now when omitted.
    dependencies : tuple of OptionalDependency
        Rows, in order.
    indent : int
        Spaces before each line.

    Returns
    -------
    str
        One line per package, e.g. ``"  neuralop         2.0.0"`` or
        ``"  pymor            missing (pip install sciml[bench]): reduced-basis ..."``.
    """
    if isinstance(indent, bool) or not isinstance(indent, int) or indent < 0:
        raise ValueError(f"indent: expected a non-negative int, got {indent!r}")
    if found is None:
        found = optional_dependencies(dependencies)
    width = max((len(d.module) for d in dependencies), default=0) + 2
    lines = []
    for dep in dependencies:
        version = found.get(dep.module)
        if version is None:
            target = f"sciml[{dep.extra}]" if dep.extra else dep.distribution
            how = f"pip install {target}"
            text = f"missing ({how}): {dep.purpose}"
        else:
            text = version
        lines.append(f"{' ' * indent}{dep.module:<{width}}{text}")
    return "\n".join(lines)
