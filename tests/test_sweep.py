"""The Table 1 sweep: expansion into runs, scoring, and the choice of the best setting."""

from pathlib import Path

import pandas as pd
import pytest

from maprops.specs import SpecLibrary
from pipeline.sweep import sweep_table

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_a_sweep_expands_into_one_run_per_sampler_and_table1_setting():
    library = SpecLibrary(SPECS)
    cells = library.sweep_cells("sweep_nonconflict_19", "smoke")
    grid = library.table1
    assert len(cells) == 2 * len(grid.learning_rate) * len(grid.batch_size) * len(grid.target_kl) * len(grid.clip_coef)
    assert len({cell.run.run_id() for _, cell in cells}) == len(cells)
    for setting, cell in cells:
        run = cell.run.sampler
        assert (run.kind, run.learning_rate, run.batch_size, run.target_kl, run.clip_coef) == (
            setting["sampler"],
            setting["learning_rate"],
            setting["batch_size"],
            setting["target_kl"],
            setting["clip_coef"],
        )
        assert cell.run.game.payoffs[0][0] == [5.0, 5.0]  # game 19 as modified
        assert run.epochs == library.behavior.epochs  # everything off the grid stays as specified


def curves(scores: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for label, values in scores.items():
        for step, value in zip((20, 40), values):
            rows.append(
                {"sampler": label, "step": step, "mean": value, "ci_low": value - 0.1, "ci_high": value + 0.1, "n_seeds": 10}
            )
    return pd.DataFrame(rows)


def setting(sampler, label, lr):
    return {
        "sampler": sampler,
        "label": label,
        "learning_rate": lr,
        "batch_size": 1,
        "target_kl": 0.03,
        "clip_coef": 0.3,
        "run_id": label,
    }


def test_the_best_setting_is_the_highest_final_score_per_sampler_ties_to_the_first():
    table = sweep_table(
        curves({"p a": [0.9, 0.5], "p b": [0.1, 0.7], "m a": [0.2, 0.8], "m b": [0.9, 0.8]}),
        [
            setting("props", "p a", 0.3),
            setting("props", "p b", 0.03),
            setting("ma_props", "m a", 0.3),
            setting("ma_props", "m b", 0.03),
        ],
    )
    assert table.loc[table["best"], "label"].tolist() == ["p b", "m a"]  # final step decides; tie -> first listed
    assert table["score"].tolist() == [0.5, 0.7, 0.8, 0.8]


def test_a_setting_without_a_curve_is_an_error():
    with pytest.raises(ValueError, match="no curve for setting 'p c'"):
        sweep_table(curves({"p a": [0.1, 0.2]}), [setting("props", "p c", 0.3)])
