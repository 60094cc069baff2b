"""Game cores by kind; :func:`make_game` builds one from a resolved game config."""

from __future__ import annotations

from maprops.games.gridworld import GridWorldGame
from maprops.games.matrix import MatrixGame


def _params(config) -> dict:
    return config.model_dump(exclude={"kind", "variant"})


def make_game(config):
    """The batched core for a resolved game config (``maprops.config.GameConfig``)."""
    if config.kind == "matrix":
        return MatrixGame(config.payoffs, config.optimal, name=config.name)
    if config.kind == "gridworld":
        return GridWorldGame(**_params(config))
    if config.kind == "boulderpush":
        from maprops.games.boulderpush import BoulderPushGame

        return BoulderPushGame(**_params(config))
    if config.kind == "lbf":
        from maprops.games.lbf import LBFGame

        return LBFGame(**_params(config))
    raise ValueError(f"unknown game kind {config.kind!r}; known: matrix, gridworld, boulderpush, lbf")
