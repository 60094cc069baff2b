"""Delta_phi's network: the MLP on the joint observation that every MA-PROPS implementation
built on a network shares (the paper's head over joint actions, :mod:`maprops.samplers.ma_props`;
the chain of pair tables, :mod:`maprops.samplers.ma_props_pairwise`; Eq. 10's adjustment of a
joint Gaussian, :mod:`maprops.samplers.gaussian`). They differ only in what its outputs mean.

Its output layer starts at zero and is zeroed at every behavior reset, so the behavior policy is
then exactly the target; hidden layers and the Adam moments persist across resets
(docs/implementation.md#behavior-policy-reset-and-adam-state).
"""

from __future__ import annotations

import torch

from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.nets import StackedAdam, StackedMLP
from maprops.policies import init_params
from maprops.rng import SeedStreams

ROLE = 3
"""The network's initialization stream (:func:`maprops.policies.init_params`): the same for every
implementation, apart from the actors' (1) and the critics' (2)."""


def build_head(
    config: BehaviorSamplerConfig, joint_obs_dim: int, outputs: int, rng: SeedStreams
) -> tuple[StackedMLP, torch.Tensor, StackedAdam]:
    """Delta_phi's MLP on the joint observation (``joint_obs_dim`` inputs, the config's hidden
    sizes, ``outputs`` outputs), its parameters per seed (output layer zeroed) and their Adam."""
    mlp = StackedMLP((joint_obs_dim, *config.hidden_sizes, outputs))
    params = init_params(mlp, rng, ROLE, 1, out_gain=0.01)
    zero_output(mlp, params)
    return mlp, params, StackedAdam(params, len(rng), config.learning_rate, config.adam_eps)


def zero_output(mlp: StackedMLP, params: torch.Tensor) -> None:
    """Zero the output layer: the adjustment is 0 everywhere, the behavior is the target exactly."""
    params[:, mlp.last_layer] = 0.0
