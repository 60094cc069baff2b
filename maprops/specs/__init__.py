"""YAML specs: line-aware loading, Pydantic models, cross-checks and resolution to run specs."""

from maprops.specs.cells import Cell
from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.library import SpecLibrary

__all__ = ["Cell", "SpecError", "SpecErrors", "SpecLibrary"]
