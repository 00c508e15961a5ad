"""The package namespace: every public name resolves, and importing is cheap."""

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["sciml", "sciml.core", "sciml.data"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves(name):
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, f"{name}.{attr}"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        module.nope


def test_import_and_data_open_do_not_import_torch():
    code = (
        "import sys, sciml; sciml.data.open; sciml.Box; sciml.Report; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
