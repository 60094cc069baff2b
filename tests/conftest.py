"""Tests train small models in process: one torch thread, as every training process runs
(maprops/train_cli.py). Several threads on tiny tensors only spin, and slow everything beside
them: the suite ran 5-20x slower with torch's default thread count while other jobs ran."""

import torch

torch.set_num_threads(1)
