"""Game cores by kind; :func:`make_game` builds one from a resolved game config."""

from __future__ import annotations

from maprops.kinds import game_kind


def make_game(config):
    """The batched core for a resolved game config (``maprops.config.GameConfig``): the core
    class the game kind's registry entry names, built by its ``from_config``."""
    return game_kind(config.kind).build(config)
