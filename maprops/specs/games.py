"""Game specs (``specs/games/*.yaml``): a game is data, and so is each reward modification.

Each game kind's module (``maprops/kinds/``) owns the model of its spec files; this module is
their union, told apart by ``kind:``, and the parts every kind shares.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from maprops.kinds import GAMES
from maprops.kinds.base import ORIGINAL, Budget, ParamGameSpec, ParamVariant
from maprops.kinds.matrix import MatrixGameSpec

__all__ = ["ORIGINAL", "Budget", "GameSpec", "MatrixGameSpec", "ParamGameSpec", "ParamVariant"]

GameSpec = Annotated[Union[tuple(kind.spec for kind in GAMES.values())], Field(discriminator="kind")]  # noqa: UP007
