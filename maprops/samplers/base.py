"""What a sampler sees and the interface every sampler implements (paper Algorithm 1).

The learner never knows which sampler produced its data: a sampler only chooses actions and,
for PROPS and MA-PROPS, adapts its behavior policy from the data collected so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass(frozen=True)
class BehaviorData:
    """The steps of the buffer the behavior update trains on, flattened per seed: ``M = t * E``."""

    obs: torch.Tensor  # [S, M, N, D]
    actions: torch.Tensor  # [S, M, N]
    target_log_probs: torch.Tensor  # [S, M, N, K] per-agent log-probs under the target policy
    # Games with a small enumerable state space (matrix games, GridWorld) also give each
    # sample's state id and every state's observations, so the behavior update can evaluate
    # its network once per state rather than once per sample (maprops.samplers.state_table).
    states: torch.Tensor | None = None  # [S, M] state id of each sample
    state_obs: torch.Tensor | None = None  # [U, N, D] every agent's observation in each state
    # Fixed by the buffer's capacity (behavior_buffer: ring), or None: the data present divided
    # into the config's minibatches (behavior_buffer: batch). See maprops.history.BehaviorWindow.
    minibatch_size: int | None = None

    @property
    def size(self) -> int:
        return self.obs.shape[1]


class Sampler(Protocol):
    """What every sampler class implements. The registry entry of its kind names the class
    (:class:`maprops.kinds.base.Implementation`) and builds it with :meth:`from_config`."""

    @classmethod
    def from_config(cls, config, actors, target_params: torch.Tensor, game, rng) -> Sampler:
        """The sampler for a run: its ``sampler`` config, the target actors and their parameters
        ``[S*N, P]``, the game core and the block's seed streams."""

    def reset_to_target(self, target_params: torch.Tensor) -> None:
        """Make the behavior policy equal to the (new) target policy."""

    def act(self, obs: torch.Tensor, target_log_probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
        """Choose joint actions ``[S, E, N]`` given observations ``[S, E, N, D]``, the target's
        per-agent log-probs ``[S, E, N, K]`` and uniforms ``[S, E, N]``."""

    def update(self, target_params: torch.Tensor, data: BehaviorData, tag: tuple[int, ...]) -> None:
        """Algorithm 2: reset to the target, then adapt to raise under-sampled actions."""
