"""Counter-based random numbers: one independent stream per seed, addressed by a tag.

Why not ``torch.Generator``? A block of seeds trains in lock-step with batched tensors, and a
seed's numbers must not depend on which other seeds share its block (the engine contract,
docs/implementation.md#the-engine-contract). One generator per seed would need a Python loop per
draw. Instead every
random number is a pure function ``hash(seed, tag, index)`` (SplitMix64 mixing), so a draw for
``S`` seeds is one vectorized tensor expression, and seed 3's numbers are the same whether it
trains alone or beside 99 others.

A *tag* is a tuple of small integers naming the draw's place in training, e.g.
``(Tag.BEHAVIOR_PERM, iteration, step, epoch)``. Tags are structural, never a running counter,
so skipping work (a seed that stopped early) never shifts another draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import torch

_M64 = (1 << 64) - 1


def _signed(x: int) -> int:
    """An unsigned 64-bit constant as the int64 torch stores (two's complement)."""
    x &= _M64
    return x - (1 << 64) if x >= 1 << 63 else x


_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB


def _shr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's ``>>`` is arithmetic)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def mix64(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finalizer on int64 tensors (multiplication wraps mod 2**64)."""
    x = x + _signed(_GOLDEN)
    x = (x ^ _shr(x, 30)) * _signed(_MUL1)
    x = (x ^ _shr(x, 27)) * _signed(_MUL2)
    return x ^ _shr(x, 31)


def mix64_int(x: int) -> int:
    """The same finalizer on a Python int: the reference the tests compare against."""
    x = (x + _GOLDEN) & _M64
    x = ((x ^ (x >> 30)) * _MUL1) & _M64
    x = ((x ^ (x >> 27)) * _MUL2) & _M64
    return x ^ (x >> 31)


def tag_hash(tag: Sequence[int]) -> int:
    """Fold a tag tuple into one 64-bit key, order-sensitive."""
    h = 0x6A09E667F3BCC908
    for part in tag:
        h = mix64_int(h ^ (int(part) & _M64))
    return h


class Tag(IntEnum):
    """The kinds of random draw in training; the first element of every tag."""

    INIT = 1
    RESET = 2
    ACT = 3
    SHADOW_ACT = 4
    SHADOW_RESET = 5
    EVAL_ACT = 6
    EVAL_RESET = 7
    PPO_PERM = 8
    BEHAVIOR_PERM = 9
    GAME = 10
    SHADOW_GAME = 11
    EVAL_GAME = 12
    SAMPLING_ERROR_FIT = 13


class SeedStreams:
    """Uniform random numbers for a block of seeds, one independent stream per seed."""

    def __init__(self, seeds: Sequence[int]):
        self.seeds = tuple(int(s) for s in seeds)
        self._keys = mix64(torch.tensor([_signed(mix64_int(s)) for s in self.seeds], dtype=torch.int64))

    def __len__(self) -> int:
        return len(self.seeds)

    def bits(self, tag: Sequence[int], shape: Sequence[int]) -> torch.Tensor:
        """Random int64 words of shape ``[S, *shape]``."""
        n = 1
        for d in shape:
            n *= int(d)
        base = mix64(self._keys ^ _signed(tag_hash(tag)))
        index = torch.arange(n, dtype=torch.int64) * _signed(_GOLDEN)
        return mix64(base[:, None] + index[None, :]).reshape(len(self.seeds), *shape)

    def uniform(self, tag: Sequence[int], shape: Sequence[int]) -> torch.Tensor:
        """Float64 uniforms in [0, 1) of shape ``[S, *shape]`` (53 random bits each)."""
        return _shr(self.bits(tag, shape), 11).to(torch.float64) * (1.0 / (1 << 53))

    def permutations(self, tag: Sequence[int], n: int) -> torch.Tensor:
        """One random permutation of ``range(n)`` per seed, shape ``[S, n]``."""
        return torch.argsort(self.bits(tag, (n,)), dim=1)

    def python_seed(self, index: int, tag: Sequence[int]) -> int:
        """A 63-bit integer for seeding a per-seed ``torch.Generator`` (used once, at init)."""
        return mix64_int(tag_hash((self.seeds[index], *tag))) >> 1


def sample_categorical(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sampling: ``probs [..., K]``, uniforms ``u [...]`` -> indices ``[...]``."""
    cdf = probs.to(torch.float64).cumsum(-1)
    idx = (cdf < u.unsqueeze(-1)).sum(-1)
    return idx.clamp_(max=probs.shape[-1] - 1)
