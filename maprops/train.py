"""The seed-batched training loop: paper Algorithm 1 for a block of seeds in lock-step.

Every tensor carries a leading seed axis. Nothing is reduced across that axis, every random
number comes from the seed's own stream (:mod:`maprops.rng`), and per-seed early stopping is
masked, so a seed's numbers are the same whether it trains alone or in a block of 100.

Per target update (iteration):
1. collect ``n = ppo.batch_size`` steps with the sampler; every ``m = sampler.batch_size`` steps
   the behavior policy is reset to the target and adapted on the newest steps of the buffer
   (which ones, and whether also right after a target update: :class:`~maprops.history.BehaviorWindow`);
2. fill a shadow buffer of the same size from the same target policies, on-policy, in a
   separate copy of the game (paper §6.2), and measure both buffers' sampling error;
3. update the target policies with MAPPO or IPPO on the sampler's buffer;
4. every ``eval_every`` iterations, evaluate the target policies.

With ``sampler.history_batches: b`` > 1 (beyond the paper) the buffer keeps the last b - 1
batches too (:mod:`maprops.history`): steps 1-3 then see all of it, and the behavior is adapted
on the kept batches before the first step of a new batch as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from maprops.action_heads import action_head
from maprops.config import RunSpec
from maprops.games import make_game
from maprops.history import BehaviorWindow, Buffer, History
from maprops.kinds import SAMPLERS, game_kind
from maprops.metrics import sampling_errors
from maprops.policies import Actors, Critic, GaussianActors, make_actors
from maprops.ppo import PPOLearner
from maprops.results import evaluates, result_columns
from maprops.rng import SeedStreams, Tag
from maprops.samplers import make_sampler
from maprops.samplers.base import BehaviorData

COLUMNS = result_columns("tv")  # the matrix games' and GridWorld's table


class Episodes:
    """A batch of game instances ``[S, E]`` that remembers its observations between calls.

    Game cores may keep state (positions, time steps), so every ``Episodes`` needs a core
    instance of its own: the training, shadow and evaluation episodes never share one.
    """

    def __init__(self, game, rng: SeedStreams, envs: int, reset_tag: Tag, step_tag: Tag):
        self.game = game
        self.rng = rng
        self.envs = envs
        self.step_tag = step_tag
        self.obs = game.reset((len(rng), envs), self._uniforms((reset_tag,), game.random_numbers_per_reset))

    def _uniforms(self, tag, count: int):
        return self.rng.uniform(tag, (self.envs, count)) if count else None

    def step(self, actions: torch.Tensor, tag: tuple[int, ...]):
        result = self.game.step(actions, self._uniforms((self.step_tag, *tag), self.game.random_numbers_per_step))
        self.obs = result.obs
        return result


def behavior_data(game, obs, actions, target_log_probs, minibatch_size: int | None = None, *, enumerable: bool) -> BehaviorData:
    """The buffer as the behavior update sees it, with state ids where the game enumerates its
    joint states (``enumerable``: its kind's ``enumerable_states``; the update then evaluates its
    networks once per state)."""
    if not enumerable:
        return BehaviorData(obs=obs, actions=actions, target_log_probs=target_log_probs, minibatch_size=minibatch_size)
    return BehaviorData(obs, actions, target_log_probs, game.state_index(obs), game.state_observations(), minibatch_size)


@torch.no_grad()
def buffer_errors(game, actors: Actors | GaussianActors, params, obs, actions, kl: tuple | None = None):
    """Joint and agent-1 sampling error ``[S]`` of a buffer (``obs [S, M, N, D]``, ``actions
    [S, M, N]``, or ``[S, M, N, A]`` for Gaussian actors) against the target policies ``params``:
    exact TV (``kl`` None: a game kind whose ``sampling_error`` is ``tv`` computes its on-policy
    visitation), else KL by maximum likelihood (``kl = (rng, tag, MLEConfig)``; a Gaussian fit for
    continuous actions)."""
    if kl is None:
        states = game.state_observations().expand(obs.shape[0], -1, -1, -1)  # [S, n_states, N, D]
        state_log_probs = actors.log_probs(params, states)
        distribution = game.state_distribution(state_log_probs)
        return sampling_errors(game.state_index(obs), actions, distribution, state_log_probs)
    from maprops.kl_error import gaussian_kl_sampling_errors, kl_sampling_errors  # only games without exact visitation

    rng, tag, config = kl
    if actors.head.continuous:
        return gaussian_kl_sampling_errors(obs, actions, actors.dist(params, obs), actors.head, rng, tag, config)
    log_probs = actors.log_probs(params, obs)
    return kl_sampling_errors(obs, actions, log_probs, game.n_actions, rng, tag, config)


@torch.no_grad()
def evaluate(game, learner: PPOLearner, rng: SeedStreams, episodes: int, iteration: int):
    """Success rate and mean total return over ``episodes`` fresh episodes per seed, each agent
    sampling from its own target policy."""
    run = Episodes(game, rng, episodes, Tag.EVAL_RESET, Tag.EVAL_GAME)
    s = len(rng)
    finished = torch.zeros(s, episodes, dtype=torch.bool)
    success = torch.zeros(s, episodes, dtype=torch.bool)
    returns = torch.zeros(s, episodes)
    head = learner.actors.head
    for t in range(game.max_episode_steps):
        dist = learner.actors.dist(learner.actor_params, run.obs)
        u = rng.uniform((Tag.EVAL_ACT, iteration, t), (episodes, game.n_agents, *head.noise_shape))
        result = run.step(head.sample(dist, u), (iteration, t))
        live = ~finished
        returns += result.rewards.sum(-1) * live
        success |= result.success & result.done & live
        finished |= result.done
        if bool(finished.all()):
            break
    return success.double().mean(1), returns.double().mean(1)


class Trainer:
    """One block of seeds of one run spec, advanced one target update at a time."""

    def __init__(self, spec: RunSpec, seeds: Sequence[int]):
        self.spec = spec
        self.seeds = np.asarray(seeds, dtype=np.int64)
        self.rng = rng = SeedStreams(seeds)
        self.game = game = make_game(spec.game)
        self.head = action_head(game, spec.game.name)
        self.envs = 1  # assumption: one environment per seed; Algorithm 1 collects one transition at a time
        self.steps = spec.ppo.batch_size // self.envs
        self.actors = make_actors(game, self.head, spec.ppo.hidden_sizes)
        critic = Critic(game.obs_dim, game.n_agents, spec.ppo.hidden_sizes, centralized=spec.algorithm == "mappo")
        self.learner = PPOLearner(spec.ppo, self.actors, critic, rng, spec.iterations)
        self.sampler = make_sampler(spec.sampler, self.actors, self.learner.actor_params, game, rng)
        self.adapts = SAMPLERS[spec.sampler.kind].has_behavior_update
        self.train_env = Episodes(game, rng, self.envs, Tag.RESET, Tag.GAME)
        self.shadow_env = Episodes(make_game(spec.game), rng, self.envs, Tag.SHADOW_RESET, Tag.SHADOW_GAME)
        self.eval_game = make_game(spec.game)
        self.columns = result_columns(spec.game.sampling_error)
        self.window = None  # which buffer steps a behavior update trains on (PROPS-like samplers)
        if self.adapts:
            self.window = BehaviorWindow.of(spec.sampler, self.steps, spec.total_steps if spec.fixed_target else None)
        reach = self.window is not None and self.window.reaches_back
        self.history = History(getattr(spec.sampler, "history_batches", 1), behavior_reach=reach)
        self.iteration = 0

    @property
    def kind(self):
        """The game's kind: what its core can do (its registry entry, :mod:`maprops.kinds`)."""
        return game_kind(self.spec.game.kind)

    def _new_batch(self, steps: int) -> Buffer:
        game, head = self.game, self.head
        return Buffer.empty(
            len(self.rng), steps, self.envs, game.n_agents, game.obs_dim, head.width, head.action_shape, head.action_dtype
        )

    def _behavior_data(self, rollout, run_step: int, end: int) -> BehaviorData:
        """What the behavior update after the run's ``run_step``-th step trains on: the window
        of the buffer ending at index ``end`` (exclusive)."""
        span = self.window.span(run_step, end)
        return behavior_data(
            self.game,
            rollout.obs[:, span].flatten(1, 2),
            rollout.actions[:, span].flatten(1, 2),
            rollout.log_probs[:, span].flatten(1, 2),
            self.window.minibatch_size,
            enumerable=self.kind.enumerable_states,
        )

    def _collect(self, it: int, buffer: Buffer, checkpoint=None) -> None:
        """Steps 1-2: fill the new batch of ``buffer`` (the sampler's, with behavior updates on
        all of the buffer so far, and the shadow on-policy one). ``checkpoint(collected,
        rollout, shadow)``, if given, runs after every step."""
        envs, n, head = self.envs, self.game.n_agents, self.head
        noise = (envs, n, *head.noise_shape)  # uniforms per step: one per agent (and action dimension)
        rollout, (shadow_obs, shadow_actions), start = buffer.rollout, buffer.shadow, buffer.start
        steps = rollout.obs.shape[1] - start
        params = self.learner.actor_params
        run_start = it * steps  # steps of the run before this batch
        if self.adapts and self.window.due(run_start, 0, start):  # right after a target update
            self.sampler.update(params, self._behavior_data(rollout, run_start, start), (it, -1))
        else:
            self.sampler.reset_to_target(params)
        for t in range(steps):
            i = start + t
            obs = self.train_env.obs
            log_probs, values = self.learner.act_info(obs)
            actions = self.sampler.act(obs, log_probs, self.rng.uniform((Tag.ACT, it, t), noise))
            result = self.train_env.step(actions, (it, t))
            rollout.obs[:, i] = obs
            rollout.actions[:, i] = actions
            rollout.log_probs[:, i] = log_probs
            rollout.rewards[:, i] = result.rewards
            rollout.dones[:, i] = result.done
            rollout.values[:, i] = values
            collected = t + 1
            # after a batch's last step the target update comes first (then the step above)
            if self.adapts and collected < steps and self.window.due(run_start + collected, collected, start):
                self.sampler.update(params, self._behavior_data(rollout, run_start + collected, i + 1), (it, t))

            with torch.no_grad():
                j = i - buffer.learn_start  # the shadow buffer holds the learned steps only
                shadow_obs[:, j] = self.shadow_env.obs
                dist = self.actors.dist(params, shadow_obs[:, j])
                shadow_actions[:, j] = head.sample(dist, self.rng.uniform((Tag.SHADOW_ACT, it, t), noise))
                self.shadow_env.step(shadow_actions[:, j], (it, t))
            if checkpoint is not None:
                checkpoint(collected, rollout, (shadow_obs, shadow_actions))

    def _errors(self, obs, actions, it: int, buffer: int):
        """Sampling error of one buffer ``[S, T, E, ...]`` (buffer 0: the sampler's, 1: shadow)."""
        kl = None
        if self.kind.sampling_error == "kl":
            kl = (self.rng, (Tag.SAMPLING_ERROR_FIT, it, buffer), self.spec.sampling_error_fit)
        return buffer_errors(self.game, self.actors, self.learner.actor_params, obs.flatten(1, 2), actions.flatten(1, 2), kl)

    def run_iteration(self) -> dict[str, np.ndarray] | None:
        """One target update (steps 1-4 above); returns this iteration's rows if evaluated."""
        it = self.iteration
        spec, learner = self.spec, self.learner
        buffer = self.history.extend(self._new_batch(self.steps), learner)
        self._collect(it, buffer)
        rollout, (shadow_obs, shadow_actions) = buffer.learned, buffer.shadow
        evaluated = evaluates(spec, (it + 1) * self.steps * self.envs)
        if evaluated:
            joint, agent1 = self._errors(rollout.obs, rollout.actions, it, 0)
            joint_on, agent1_on = self._errors(shadow_obs, shadow_actions, it, 1)
        learner.update(rollout, self.train_env.obs, it)
        self.history.keep(buffer, self.steps)
        self.iteration += 1
        if not evaluated:
            return None
        outcome = evaluate(self.eval_game, learner, self.rng, spec.eval_episodes, it)
        return self._row(it + 1, (it + 1) * self.steps * self.envs, outcome, (joint, agent1, joint_on, agent1_on))

    def _row(self, iteration: int, step: int, outcome, errors) -> dict[str, np.ndarray]:
        """One result row per seed: the target's (success rate, mean return) and the errors."""
        success, mean_return = outcome
        s = len(self.seeds)
        keys = (self.seeds, np.full(s, iteration, dtype=np.int64), np.full(s, step, dtype=np.int64))
        values = (*keys, success.numpy(), *(e.numpy() for e in errors), mean_return.numpy())
        return dict(zip(self.columns, values))

    def fixed_target_rows(self) -> list[dict[str, np.ndarray]]:
        """Paper §6.1 (Fig. 4): the initial target policies never change; one buffer grows to
        ``total_steps`` samples (behavior updates every m steps on all of it) and its sampling
        error, beside the shadow on-policy buffer's, is measured every ``eval_every`` steps.
        The target is evaluated once: it is the same policy at every checkpoint."""
        rows = []
        outcome = evaluate(self.eval_game, self.learner, self.rng, self.spec.eval_episodes, 0)

        def checkpoint(collected, rollout, shadow):
            if not evaluates(self.spec, collected * self.envs):
                return
            errors = (
                *self._errors(rollout.obs[:, :collected], rollout.actions[:, :collected], collected, 0),
                *self._errors(shadow[0][:, :collected], shadow[1][:, :collected], collected, 1),
            )
            rows.append(self._row(0, collected * self.envs, outcome, errors))

        self._collect(0, self._new_batch(self.spec.total_steps), checkpoint)
        return rows


class NonFiniteError(FloatingPointError):
    """Training produced NaN or infinity; the message names the seed, iteration and step."""


def check_finite(trainer: Trainer) -> None:
    """Stop a block as soon as any seed's parameters (target actors, critic, behavior policy)
    stop being finite: NaN spreads silently through Adam, and a curve built on it is garbage.
    A NaN or infinite loss reaches the parameters through its gradient at the same update."""
    s = len(trainer.seeds)
    tensors = {
        "actor parameters": trainer.learner.actor_params,
        "critic parameters": trainer.learner.critic_params,
    }
    if trainer.adapts:  # a sampler with a behavior update has behavior parameters
        tensors["behavior-policy parameters"] = trainer.sampler.params
    for name, tensor in tensors.items():
        finite = torch.isfinite(tensor.reshape(s, -1)).all(1)
        if not bool(finite.all()):
            seed = int(trainer.seeds[int((~finite).nonzero()[0])])
            spec = trainer.spec
            step = spec.total_steps if spec.fixed_target else trainer.iteration * trainer.steps * trainer.envs
            raise NonFiniteError(
                f"seed {seed}: {name} became NaN or infinite by iteration {trainer.iteration} "
                f"(environment step {step}) of run {spec.run_id()}"
            )


def train(spec: RunSpec, seeds: Sequence[int], checkpoints=None, progress=None) -> dict[str, np.ndarray]:
    """Train ``spec`` for every seed in ``seeds`` at once; returns tidy columns (:func:`result_columns`),
    one row per (seed, evaluated iteration). With ``checkpoints`` (:class:`maprops.checkpoint.
    Checkpoints`) the block resumes from its last snapshot and snapshots after target updates;
    ``progress`` (:class:`maprops.progress.Progress`) hears of every target update."""
    resumed = checkpoints.load(spec.run_id(), seeds) if checkpoints is not None else None
    trainer, rows = resumed if resumed is not None else (Trainer(spec, seeds), [])
    if progress is not None:
        progress.start(trainer.iteration)
    if spec.fixed_target:  # one growing buffer, minutes at most: no intermediate snapshots
        rows = trainer.fixed_target_rows()
        check_finite(trainer)
    else:
        while trainer.iteration < spec.iterations:
            if (row := trainer.run_iteration()) is not None:
                rows.append(row)
            check_finite(trainer)
            if progress is not None:
                progress.after_iteration(trainer.iteration)
            if checkpoints is not None and trainer.iteration < spec.iterations:
                checkpoints.after_iteration(trainer, rows)
    return {c: np.concatenate([r[c] for r in rows]) for c in trainer.columns}
