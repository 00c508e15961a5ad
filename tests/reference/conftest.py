"""Shared fixtures of the reference-solver tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Small FFTs run fastest on one thread; several threads thrash on a loaded machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
