"""Shared fixtures: the device to test on and small seeded problems."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(params=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def device(request) -> str:
    return request.param
