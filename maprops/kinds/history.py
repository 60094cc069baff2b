"""``history_batches``: how many target batches the buffer ``D`` keeps (beyond the paper).

Paper §7 ("Batch size") names the limitation: MA-PROPS corrects the sampling error of states in
``D`` only on later visits to similar states, and a one-batch ``D`` sees few revisits. It
proposes letting ``D`` keep historic data, as Corrado and Hanna's PROPS does. The setting is
shared by the samplers for which it means something: PROPS and MA-PROPS (the behavior update
corrects the whole of ``D``) and on-policy sampling (``D`` of ``b`` batches and no correction:
Corrado and Hanna's "PPO-buffer" baseline). The ros oracle counts visits per target batch and
has no such setting. What ``D`` holds and who learns from it: :mod:`maprops.history` and
docs/assumptions.md#historic-data-reuse-history_batches.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from maprops.spec_types import Frozen, Int


class HistoryConfig(Frozen):
    """At its default (1: the paper, ``D`` cleared at every target update) the setting is left
    out of the run's identity, so adding it renamed no existing run."""

    history_batches: Int = Field(
        default=1,
        ge=1,
        description="target batches the buffer D holds: 1 (the paper) = the batch being collected; b > 1 = also the "
        "b - 1 batches before it. The behavior update corrects, and the target update learns from, all of D, "
        "with the current target's log-probabilities and values",
    )

    identity_defaults: ClassVar[dict] = {"history_batches": 1}
