"""Tests train small models in process: one torch thread, as every training process runs
(maprops/train_cli.py). Several threads on tiny tensors only spin, and slow everything beside
them: the suite ran 5-20x slower with torch's default thread count while other jobs ran."""

import torch

torch.set_num_threads(1)


import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SPECS = Path(__file__).resolve().parents[1] / "specs"


@pytest.fixture
def specs_copy(tmp_path):
    """A private copy of the shipped specs folder, for tests that edit specs."""
    root = tmp_path / "specs"
    shutil.copytree(SPECS, root)
    return root
