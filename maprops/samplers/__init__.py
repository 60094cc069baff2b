"""Samplers by name: on-policy, PROPS and MA-PROPS (paper Algorithms 1-2)."""

from __future__ import annotations

from maprops.samplers.ma_props import MaPropsSampler
from maprops.samplers.on_policy import OnPolicySampler
from maprops.samplers.props import PropsSampler


def make_sampler(config, actors, target_params, game, rng):
    if config.kind == "on_policy":
        return OnPolicySampler()
    if config.kind == "props":
        return PropsSampler(config, actors, target_params, rng)
    if config.kind == "ma_props":
        return MaPropsSampler(config, game.obs_dim, game.n_actions, rng)
    raise ValueError(f"unknown sampler {config.kind!r}; known: on_policy, props, ma_props")
