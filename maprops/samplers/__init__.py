"""Samplers by name: on-policy, PROPS and MA-PROPS (paper Algorithms 1-2), and any other the
registry (``maprops/kinds/``) lists."""

from __future__ import annotations

from maprops.kinds import sampler_kind


def make_sampler(config, actors, target_params, game, rng):
    """The sampler a run spec's ``sampler`` config names: the class its registry entry names for
    the config's case and the actors' action space, built by its ``from_config``."""
    return sampler_kind(config.kind).build(config, actors, target_params, game, rng)
