"""Packaging: the wheel's contents, a clean install, fast lazy imports, the dependency report.

The wheel test builds from a copy of the source tree (so the build's ``build/`` and
``*.egg-info`` never touch the working tree), with decoy folders that a too-greedy package
search would pick up, installs the wheel with ``--no-deps`` into a fresh venv that has no
torch and no numpy, and imports ``sciml`` there.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from sciml.core.environment import (
    OPTIONAL_DEPENDENCIES,
    OptionalDependency,
    dependency_report,
    optional_dependencies,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sciml"
IMPORT_BUDGET_S = 1.0
# Never in a wheel: build output, caches, data and everything outside the package.
_COPY_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".hypothesis", "*.h5", "*.pt", "runs", "output", "sciml-quickstart", ".venv", "venv",
)
# Folders that a package search other than "sciml, sciml.*" would wrongly include.
_DECOYS = ("sciml-quickstart", "sciml_extras", "scimlx", "runs", "tests", "examples")


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    return env


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _import_seconds(python: str, statement: str = "import sciml", cwd: Path | None = None
                    ) -> float:
    """Cumulative import time of the top module imported by ``statement``, from -X importtime."""
    proc = _run([python, "-X", "importtime", "-c", statement], cwd=cwd)
    top = statement.split()[1].split(".")[0]
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == top:
            return int(parts[1]) / 1e6
    raise AssertionError(f"no import-time line for {top!r} in:\n{proc.stderr[-2000:]}")


def _package_files() -> set[str]:
    """Paths (relative to the repo root, '/'-separated) the wheel must hold from sciml/."""
    out = set()
    for path in PACKAGE.rglob("*"):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if path.suffix == ".py" or path.name == "py.typed":
            out.add(path.relative_to(ROOT).as_posix())
    return out


# ------------------------------------------------------------------------------ fast pieces
def test_import_sciml_is_fast_and_lazy_here():
    seconds = _import_seconds(sys.executable, cwd=ROOT)
    assert seconds < IMPORT_BUDGET_S, f"import sciml took {seconds:.2f} s"
    proc = _run([sys.executable, "-c",
                 "import sys, sciml, sciml.data, sciml.core; "
                 "print(sorted(m for m in ('torch', 'numpy', 'scipy', 'h5py', 'matplotlib') "
                 "if m in sys.modules))"], cwd=ROOT)
    assert proc.stdout.strip() == "[]", f"import sciml pulled in {proc.stdout.strip()}"


def test_package_layout_is_complete():
    """Every folder of sciml/ with Python files is a package, and py.typed ships."""
    assert (PACKAGE / "py.typed").is_file()
    for folder in {p.parent for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}:
        assert (folder / "__init__.py").is_file(), f"{folder} has modules but no __init__.py"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    assert sorted(find["include"]) == ["sciml", "sciml.*"]
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["sciml"]
    assert config["project"]["scripts"]["sciml"] == "sciml.cli:main"


def test_optional_dependencies_match_metadata_without_importing():
    found = optional_dependencies()
    assert list(found) == [d.module for d in OPTIONAL_DEPENDENCIES]
    for dep in OPTIONAL_DEPENDENCIES:
        try:
            installed = importlib.metadata.version(dep.distribution)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is not None:
            assert found[dep.module] == installed, dep
    fake = (
        OptionalDependency("sciml_no_such_module_xyz", "sciml-no-such", "bench", "nothing"),
        OptionalDependency("json", "sciml-no-such-dist", "", "stdlib, no metadata"),
        OptionalDependency("pytest", "pytest", "test", "tests"),
    )
    got = optional_dependencies(fake)
    assert got == {"sciml_no_such_module_xyz": None, "json": "unknown",
                   "pytest": importlib.metadata.version("pytest")}
    report = dependency_report(got, fake, indent=1).splitlines()
    assert report[0].split() == ["sciml_no_such_module_xyz", "missing",
                                 "(pip", "install", "sciml[bench]):", "nothing"]
    assert report[1].split()[:2] == ["json", "unknown"]
    assert report[2].startswith(" pytest ")
    with pytest.raises(ValueError, match=r"dependencies\[0\]: expected an OptionalDependency"):
        optional_dependencies(("neuralop",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="indent"):
        dependency_report(got, fake, indent=-1)
    # Looking packages up must not import them (neuralop alone takes seconds).
    heavy = [d.module for d in OPTIONAL_DEPENDENCIES] + ["torch"]
    proc = _run([sys.executable, "-c",
                 "import sys; from sciml.core.environment import dependency_report; "
                 f"dependency_report(); print([m for m in {heavy!r} if m in sys.modules])"],
                cwd=ROOT)
    assert proc.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ the wheel
@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_COPY_IGNORE)
    for name in _DECOYS:
        decoy = src / name
        decoy.mkdir(exist_ok=True)
        (decoy / "__init__.py").touch()
        (decoy / "stray_module.py").write_text("VALUE = 1\n")
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", str(tmp / "dist")], cwd=src)
    wheels = list((tmp / "dist").glob("sciml-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contents(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = zf.read(metadata).decode()
        entry_points = zf.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    tops = {n.split("/", 1)[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"sciml"}, f"stray top-level entries: {sorted(tops - dist_info)}"
    assert len(dist_info) == 1
    missing = _package_files() - names
    assert not missing, f"files of sciml/ missing from the wheel: {sorted(missing)}"
    assert "sciml/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".h5", ".pt"))]
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.\-]+)", meta, flags=re.M)
    for dep in ("torch", "numpy", "scipy", "h5py", "matplotlib", "tqdm"):
        assert dep in requires, f"{dep} is not a dependency of the wheel"
    assert re.search(r"^sciml = sciml\.cli:main$", entry_points, flags=re.M)


def test_wheel_installs_in_a_fresh_venv_and_imports_fast(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "-q", str(wheel)])
    # The venv must really lack the heavy dependencies, or the test proves nothing.
    probe = _run([str(python), "-c",
                  "import importlib.util as u; "
                  "print([m for m in ('torch', 'numpy', 'h5py') if u.find_spec(m)])"],
                 cwd=tmp_path)
    assert probe.stdout.strip() == "[]"
    where = _run([str(python), "-c",
                  "import sys, sciml; print(sciml.__file__); print(sciml.__version__); "
                  "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules)); "
                  "print('Box' in dir(sciml))"], cwd=tmp_path).stdout.split("\n")
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    assert Path(where[0]).resolve().is_relative_to(site.resolve()), where[0]
    assert where[1] == importlib.metadata.version("sciml")
    assert where[2] == "[]"
    assert where[3] == "True"
    seconds = _import_seconds(str(python), cwd=tmp_path)
    assert seconds < IMPORT_BUDGET_S, f"import sciml took {seconds:.2f} s in a fresh venv"
    # The dependency report itself needs none of the core dependencies.
    report = _run([str(python), "-c",
                   "from sciml.core.environment import dependency_report; "
                   "print(dependency_report())"], cwd=tmp_path).stdout
    assert "neuralop" in report and "missing (pip install sciml[bench])" in report
