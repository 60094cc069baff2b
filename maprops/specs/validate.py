"""``maprops validate``: load every spec of the folders given and print each problem as
``FILE:LINE: field.path: message``. Exit status 1 if any spec is invalid."""

from __future__ import annotations

import sys
from pathlib import Path

from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.library import SpecLibrary


def spec_root(path: Path) -> Path:
    """The ``specs/`` folder holding ``path``: the nearest ancestor with a ``scales.yaml``."""
    path = path.resolve()
    for candidate in (path, *path.parents):
        if (candidate / "scales.yaml").is_file():
            return candidate
    raise SpecError(str(path), None, "", "not inside a spec folder (no scales.yaml in any parent)")


def validate_main(paths: list[str]) -> int:
    failed = False
    for root in dict.fromkeys(_roots(paths)):
        if isinstance(root, SpecError):
            print(root.format(), file=sys.stderr)
            failed = True
            continue
        try:
            library = SpecLibrary(root)
        except (SpecErrors, SpecError) as err:
            print(err, file=sys.stderr)
            failed = True
            continue
        print(
            f"{root}: {len(library.games)} games, {len(library.figures)} figures, {len(library.studies)} studies, "
            f"{len(library.sweeps)} sweeps, {len(library.calibrations)} calibrations, {len(library.claims.claims)} claims, scales {', '.join(library.scales)}: ok"
        )
    return 1 if failed else 0


def _roots(paths: list[str]):
    for p in paths:
        path = Path(p)
        if not path.exists():
            yield SpecError(
                p,
                None,
                "",
                f"no such file or folder (looked for {path.resolve()}; without arguments `maprops validate` "
                "checks ./specs: run it in a maprops checkout, or name spec files or folders)",
            )
            continue
        try:
            yield spec_root(path)
        except SpecError as err:
            yield err
