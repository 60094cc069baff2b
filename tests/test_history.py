"""``sampler.history_batches``: the buffer D keeps the last b target batches (beyond the paper).

What D holds at each behavior and target update is checked against an independent record of
every step the sampler took; b = 1 is the paper's engine (same identity, same code path);
a seed's numbers stay independent of its block with b > 1; a fixed-target run, which has no
target update, refuses b > 1."""

import numpy as np
import pytest
import torch

from maprops.config import RunSpec
from maprops.history import Buffer, History
from maprops.specs import SpecErrors, SpecLibrary
from maprops.train import COLUMNS, Trainer, train
from tests.helpers import tiny_spec
from tests.test_sampler_variants import SPECS, spec_copy

B, T, ITERATIONS = 3, 8, 5  # batches D keeps, steps per batch (n), target updates


class Recorder:
    """Wraps a trainer's sampler and learner: records every step's (obs, joint action) as the
    sampler chose it, and what each behavior and target update was given, with the target's
    log-probs (and values) of that data at that moment."""

    def __init__(self, trainer: Trainer):
        self.steps: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.behavior: list[tuple[int, tuple, object, torch.Tensor]] = []
        self.target: list[tuple[int, object, torch.Tensor, torch.Tensor]] = []
        sampler, learner = trainer.sampler, trainer.learner
        act, update, learn = sampler.act, sampler.update, learner.update

        def recording_act(obs, log_probs, uniforms):
            actions = act(obs, log_probs, uniforms)
            self.steps.append((obs.clone(), actions.clone()))
            return actions

        def recording_update(params, data, tag):
            current = trainer.actors.log_probs(params, data.obs)
            self.behavior.append((len(self.steps), tag, data, current))
            update(params, data, tag)

        def recording_learn(rollout, next_obs, iteration):
            log_probs, values = learner.act_info(rollout.obs.flatten(1, 2))
            self.target.append((len(self.steps), rollout, log_probs, values))
            learn(rollout, next_obs, iteration)

        sampler.act, sampler.update, learner.update = recording_act, recording_update, recording_learn

    def last_batches(self, taken: int, iteration: int):
        """obs ``[S, M, N, D]`` and actions ``[S, M, N]`` of every step from the first of the
        batch b - 1 before ``iteration``'s up to the ``taken``-th step of the run."""
        first = max(0, (iteration - (B - 1)) * T)
        steps = self.steps[first:taken]
        return torch.cat([o for o, _ in steps], 1), torch.cat([a for _, a in steps], 1)


def expected_behavior_window(record: Recorder, taken: int, iteration: int, behavior_buffer: str, m: int = 1):
    """What a behavior update after the run's ``taken``-th step must see: ``batch``, the steps
    from the batch b - 1 before this one's; ``ring`` (the authors' code), the newest
    ``min(taken, B * T - m)`` steps, reaching back into the batch before the learned ones."""
    if behavior_buffer == "batch":
        return record.last_batches(taken, iteration)
    steps = record.steps[taken - min(taken, B * T - m) : taken]
    return torch.cat([o for o, _ in steps], 1), torch.cat([a for _, a in steps], 1)


@pytest.mark.parametrize("behavior_buffer", ["ring", "batch"])
@pytest.mark.parametrize("sampler", ["props", "ma_props"])
def test_every_update_sees_exactly_the_last_b_batches_with_the_current_targets_log_probs(sampler, behavior_buffer):
    spec = tiny_spec(sampler, iterations=ITERATIONS, batch=T, history_batches=B, behavior_buffer=behavior_buffer)
    trainer = Trainer(spec, [0, 1])
    record = Recorder(trainer)
    for _ in range(ITERATIONS):
        trainer.run_iteration()

    starts = [tag for _, tag, _, _ in record.behavior if tag[1] == -1]
    assert starts == [(k, -1) for k in range(1, ITERATIONS)]  # right after each target update
    minibatch = (B * T - 1) // spec.sampler.minibatches if behavior_buffer == "ring" else None
    for taken, tag, data, current in record.behavior:
        iteration = tag[0]
        obs, actions = expected_behavior_window(record, taken, iteration, behavior_buffer)
        assert torch.equal(data.obs, obs) and torch.equal(data.actions, actions), tag
        assert data.minibatch_size == minibatch
        assert torch.allclose(data.target_log_probs, current, atol=1e-6), tag  # kept batches: recomputed
    assert len(record.behavior) == ITERATIONS * T - 1  # every step but the run's last

    assert len(record.target) == ITERATIONS
    for iteration, (taken, rollout, log_probs, values) in enumerate(record.target):
        assert taken == (iteration + 1) * T
        obs, actions = record.last_batches(taken, iteration)
        assert torch.equal(rollout.obs.flatten(1, 2), obs) and torch.equal(rollout.actions.flatten(1, 2), actions)
        assert rollout.obs.shape[1] == min(iteration + 1, B) * T
        assert torch.allclose(rollout.log_probs.flatten(1, 2), log_probs, atol=1e-6), iteration
        assert torch.allclose(rollout.values.flatten(1, 2), values, atol=1e-6), iteration


@pytest.mark.parametrize("m", [1, 3])
def test_one_batch_ring_reaches_into_the_previous_batch_and_learns_from_this_one(m):
    """b = 1, the printed setting: the behavior trains on the newest min(g, n - m) steps, every
    m steps of the run (also right after a target update), in minibatches of (n - m) // 8;
    the target learns from its own batch alone."""
    spec = tiny_spec("ma_props", iterations=ITERATIONS, batch=T, batch_size=m)
    trainer = Trainer(spec, [0, 1])
    record = Recorder(trainer)
    for _ in range(ITERATIONS):
        trainer.run_iteration()
    taken = [t for t, *_ in record.behavior]
    assert taken == [g for g in range(m, ITERATIONS * T, m)]
    for g, tag, data, _ in record.behavior:
        steps = record.steps[g - min(g, T - m) : g]
        assert torch.equal(data.actions, torch.cat([a for _, a in steps], 1)), tag
        assert data.minibatch_size == max(1, (T - m) // spec.sampler.minibatches)
    for g, rollout, _, _ in record.target:
        assert torch.equal(rollout.actions.flatten(1, 2), torch.cat([a for _, a in record.steps[g - T : g]], 1))


def test_the_shadow_buffer_keeps_the_same_batches_each_from_its_own_target():
    trainer = Trainer(tiny_spec("on_policy", iterations=4, batch=T, history_batches=B), [0])
    shadows = []
    collect = trainer._collect

    def recording_collect(it, buffer, checkpoint=None):
        collect(it, buffer, checkpoint)
        shadows.append(tuple(x[:, buffer.start :].clone() for x in buffer.shadow) + (buffer.shadow,))

    trainer._collect = recording_collect
    for _ in range(4):
        trainer.run_iteration()
    obs, actions, (d_obs, d_actions) = shadows[-1][0], shadows[-1][1], shadows[-1][2]
    expected_obs = torch.cat([s[0] for s in shadows[-B:]], 1)
    expected_actions = torch.cat([s[1] for s in shadows[-B:]], 1)
    assert torch.equal(d_obs, expected_obs) and torch.equal(d_actions, expected_actions)
    assert obs.shape[1] == actions.shape[1] == T


def test_one_batch_is_the_papers_engine_and_identity():
    printed, spelled_out = tiny_spec("ma_props"), tiny_spec("ma_props", history_batches=1)
    assert printed.run_id() == spelled_out.run_id()
    assert printed.run_id() != tiny_spec("ma_props", history_batches=2).run_id()
    assert tiny_spec("on_policy").run_id() == tiny_spec("on_policy", history_batches=1).run_id()
    # b = 1 keeps nothing: every target update collects into a fresh buffer, as before the option
    history, fresh = History(1), Buffer.empty(2, T, 1, 2, 1, 2)
    assert history.extend(fresh, learner=None) is fresh
    history.keep(fresh, T)
    assert history.kept is None
    a, b = train(printed, [0, 1]), train(spelled_out, [0, 1])
    for column in COLUMNS:
        assert np.array_equal(a[column], b[column]), column


@pytest.mark.parametrize(
    "sampler, kw", [("on_policy", {}), ("props", {}), ("ma_props", {}), ("ma_props", {"delta_phi": "tabular"})]
)
def test_a_seeds_numbers_do_not_depend_on_its_block_with_history(sampler, kw):
    spec = tiny_spec(sampler, iterations=4, batch=T, history_batches=B, **kw)
    alone, block = train(spec, [2]), train(spec, [0, 1, 2])
    for column in COLUMNS:
        assert np.array_equal(alone[column], block[column][block["seed"] == 2]), column


def test_history_changes_the_numbers_only_from_the_second_target_update():
    plain = train(tiny_spec("ma_props", iterations=3), [0, 1])
    kept = train(tiny_spec("ma_props", iterations=3, history_batches=2), [0, 1])
    first = plain["iteration"] == 1
    for column in COLUMNS:
        assert np.array_equal(plain[column][first], kept[column][first]), column
    assert not np.array_equal(plain["joint_tv"], kept["joint_tv"])


def test_a_fixed_target_run_refuses_history():
    spec = tiny_spec("ma_props", history_batches=2)
    with pytest.raises(ValueError, match="a fixed-target run has none"):
        RunSpec(**{**spec.model_dump(), "fixed_target": True})
    with pytest.raises(ValueError, match="history_batches"):  # the oracle counts one batch only
        tiny_spec("ros", history_batches=2)


def test_a_fixed_target_figure_listing_a_history_variant_is_refused_at_its_line(tmp_path):
    specs = spec_copy(tmp_path, figure_samplers="[on_policy, ma_props, ma_props_history_4]")
    with pytest.raises(SpecErrors) as err:
        SpecLibrary(specs)
    text = str(err.value)
    assert "fig4a.yaml" in text and "samplers.2" in text and "a fixed-target run has none" in text, text


def test_the_history_variants_resolve_to_the_base_samplers_runs_with_b_set():
    library = SpecLibrary(SPECS)
    for name in ("on_policy_history_4", "props_history_4", "ma_props_history_4"):
        variant = library.sampler_variants[name]
        config = library.sampler_config(name, "nonconflict_19")
        assert config.history_batches == 4 and config.kind == variant.sampler
        base = library.sampler_config(variant.sampler, "nonconflict_19")
        assert config == base.model_copy(update={"history_batches": 4})


def test_the_ring_fixes_minibatches_from_the_capacity_so_a_partly_filled_buffer_takes_fewer_steps():
    """5 samples in a buffer of capacity 1024 (m = 1): the ring's minibatch is (1024 - 1) // 8 =
    127 samples, one minibatch step per epoch (16 in all); the per-batch rule cuts the 5 samples
    into 8ths of at least 1 sample: 5 steps per epoch (80)."""
    from maprops.history import BehaviorWindow
    from maprops.samplers.base import BehaviorData

    ring = BehaviorWindow(ring=True, capacity=1024, every=1, minibatches=8)
    batch = BehaviorWindow(ring=False, capacity=1024, every=1, minibatches=8)
    assert ring.minibatch_size == 127 and batch.minibatch_size is None
    steps = {}
    for name, window in (("ring", ring), ("batch", batch)):
        spec = tiny_spec("ma_props", target_kl=None)
        trainer = Trainer(spec, [0, 1])
        obs = torch.zeros(2, 5, 2, trainer.game.obs_dim)
        actions = torch.zeros(2, 5, 2, dtype=torch.int64)
        log_probs = torch.log_softmax(torch.zeros(2, 5, 2, 2), -1)
        data = BehaviorData(obs, actions, log_probs, minibatch_size=window.minibatch_size)
        before = trainer.sampler.steps_taken
        trainer.sampler.update(trainer.learner.actor_params, data, (0, 0))
        steps[name] = trainer.sampler.steps_taken - before
    assert steps == {"ring": 16, "batch": 80}
    assert ring.span(run_step=3000, end=2000) == slice(977, 2000)  # the newest C - m steps
    assert batch.span(run_step=3000, end=2000) == slice(0, 2000)
