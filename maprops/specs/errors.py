"""One error type for every bad spec, printed the way compilers do: ``FILE:LINE: field: message``."""

from __future__ import annotations


class SpecError(ValueError):
    """A spec problem located in a file. ``field`` is a dotted path such as ``panels.3.game``."""

    def __init__(self, file: str, line: int | None, field: str, message: str):
        self.file, self.line, self.field, self.message = str(file), line, field, message
        super().__init__(self.format())

    def format(self) -> str:
        """``FILE:LINE: field: message``; ``FILE: message`` for a problem with the whole file
        (its name, its encoding), ``FILE:?: field: message`` where the line is unknown."""
        if self.line is None and not self.field:
            return f"{self.file}: {self.message}"
        where = f"{self.file}:{self.line if self.line is not None else '?'}"
        return f"{where}: {self.field or '<file>'}: {self.message}"


class SpecErrors(ValueError):
    """Several spec errors at once (Pydantic reports every bad field of a file together)."""

    def __init__(self, errors: list[SpecError]):
        # one mistake, one error: a check repeated per cell (a figure-wide override is checked
        # for every panel) reports the same FILE:LINE: field: message once
        self.errors = list({e.format(): e for e in errors}.values())
        super().__init__("\n".join(e.format() for e in self.errors))
