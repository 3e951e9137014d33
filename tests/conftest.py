"""Shared fixtures: the device to test on and small seeded problems."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def restore_threads():
    """Commands may set torch's thread count (e.g. ``--threads``); give it back after."""
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


@pytest.fixture(params=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def device(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def no_thread_handshake(monkeypatch):
    """Commands wait briefly to see others started with them; tests run one at a time."""
    monkeypatch.setattr("untrained_cs.runtime.HANDSHAKE", 0.0)
