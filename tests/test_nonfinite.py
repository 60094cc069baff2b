"""A run whose parameters become NaN or infinite stops, naming the seed and the step."""

import pytest

from maprops.cli import main as cli_main
from maprops.config import MatrixGameConfig
from maprops.train import NonFiniteError, Trainer, train
from tests.helpers import GAME_19_MODIFIED, tiny_spec


def test_overflowing_rewards_stop_the_run_with_seed_and_step(tmp_path, capsys):
    huge = [[[v * 1e38 for v in cell] for cell in row] for row in GAME_19_MODIFIED]
    base = tiny_spec("props", iterations=3)
    spec = base.model_copy(
        update={"game": MatrixGameConfig(name="nonconflict_19", variant="modified", payoffs=huge, optimal=((0, 0),))}
    )
    spec_file, out = tmp_path / "run.json", tmp_path / "seeds_4-5.csv"
    spec_file.write_text(spec.model_dump_json())
    assert cli_main(["train", "--run-spec", str(spec_file), "--seeds", "4-5", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "seed 4: actor parameters became NaN or infinite by iteration 1 (environment step 8)" in err, err
    assert not out.exists()


def test_the_first_broken_seed_is_named(monkeypatch):
    """Only seed 7 of the block breaks, in its second target update."""
    original = Trainer.run_iteration

    def breaks_seed_7(self):
        row = original(self)
        if self.iteration == 2:
            self.learner.actor_params.view(len(self.seeds), -1)[1, 5] = float("nan")
        return row

    monkeypatch.setattr(Trainer, "run_iteration", breaks_seed_7)
    with pytest.raises(
        NonFiniteError, match=r"^seed 7: actor parameters became NaN or infinite by iteration 2 \(environment step 16\)"
    ):
        train(tiny_spec("ma_props", iterations=4), [3, 7, 9])
