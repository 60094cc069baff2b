"""Game cores by kind; :func:`make_game` builds one from a resolved game config."""

from __future__ import annotations

from maprops.games.matrix import MatrixGame


def make_game(config):
    if config.kind == "matrix":
        return MatrixGame(config.payoffs, config.optimal, name=config.name)
    raise ValueError(f"unknown game kind {config.kind!r}; known: matrix")
