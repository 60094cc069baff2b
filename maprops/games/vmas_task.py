"""A VMAS scenario as a batched core: one vectorized VMAS environment for the whole run axis.

VMAS steps many environments as one batch of torch tensors, which is the engine's own layout:
the core holds ONE environment with ``num_envs = S * E`` (seeds x environments per seed,
row-major) and passes each step's joint actions as a batch.

Seeds. VMAS draws its random numbers for a whole batch at once from its own generators (torch,
numpy, ``random``; it swaps them in around every call), so a seed's draws would depend on the
entries around it. The core therefore resets entry by entry: every reset, the first and each
automatic one after an episode ends, seeds VMAS's generators with an integer drawn from that
entry's own stream (one uniform, :mod:`maprops.games.instances`) and resets that entry alone
(``env.seed(k); env.reset_at(i)``), which draws only that entry's numbers. Steps must draw none:
the spec probe refuses scenarios whose steps do (:mod:`maprops.kinds.vmas_probe`), and the core
checks every step again, stopping with an error if VMAS's random state moved. An entry's
trajectory is then a function of its own stream alone.

What the engine sees:

- Agents: the scenario's policy agents, in order; all act on every step.
- Actions: engine action ``k`` is VMAS's discrete action ``k`` (``continuous_actions=False``:
  one Discrete count per agent, the product of the agent's per-dimension choices).
- Observations: each agent's observation vector, float32, unbounded.
- Rewards: each agent's own reward, as the scenario pays it.
- Episode end: the scenario's ``done`` (termination) or ``max_episode_steps`` steps, whichever
  comes first; ``truncated`` = ended without the scenario terminating it.
- Success: the spec's declared rule at the end of the episode, from the termination and the team
  return (sum over steps of the mean of the agents' rewards).
- Sampling error: the KL estimator (paper App. C); the joint states are not enumerable.

Snapshots (:mod:`maprops.checkpoint`) pickle the core mid-episode. A VMAS environment does not
pickle (a scenario module is loaded from its file under an empty module name), so the core keeps
each entry's reset seed and its actions since, and a loaded core rebuilds the environment and
replays them: one batched replay in which each entry is reset (from its seed) at the step that
leaves exactly its own actions to replay.
"""

from __future__ import annotations

import torch

from maprops.games.base import JointActionCount, StepResult
from maprops.games.instances import SEED_RANGE
from maprops.kinds.package_tasks import SuccessRule
from maprops.kinds.vmas import VmasParams, describe
from maprops.kinds.vmas_probe import make, observe, random_state, reset_entry, state_key


class RandomStep(RuntimeError):
    """A scenario step drew random numbers, which would be shared across the batch."""


class VmasGame(JointActionCount):
    """Batched core over one vectorized VMAS environment; see the module docstring."""

    random_numbers_per_reset = 1  # per entry: the seed of its reset
    random_numbers_per_step = 1  # per entry: the seed of its automatic reset, used if the episode ends here
    obs_bounds = (float("-inf"), float("inf"))

    def __init__(self, *, scenario: str, kwargs: dict, max_episode_steps: int, success: SuccessRule | dict, name: str = "vmas"):
        params = VmasParams(scenario=scenario, kwargs=kwargs, max_episode_steps=max_episode_steps, success=success)
        self.name = name
        self.scenario, self.kwargs, self.success = params.scenario, dict(params.kwargs), params.success
        shape = describe(self.scenario, self.kwargs)
        self.agents = shape.agents
        self.n_agents = len(shape.agents)
        self.n_actions = (shape.n_actions,) * self.n_agents
        self.obs_dim = shape.obs_dim
        self.max_episode_steps = max_episode_steps
        self.env = None
        self._batch: tuple[int, int] | None = None
        self._t = torch.zeros(0, dtype=torch.long)  # steps into the current episode, per entry
        self._return = torch.zeros(0, dtype=torch.float64)  # team return so far, per entry
        self._seed = torch.zeros(0, dtype=torch.long)  # the seed of each entry's current episode
        self._actions = torch.zeros(0, 0, self.n_agents, dtype=torch.long)  # [B, T, N] actions since

    # -- the environment ---------------------------------------------------------------------

    def _make(self, entries: int):
        return make(self.scenario, entries, self.kwargs)

    def _uniform_seeds(self, uniforms, what: str) -> torch.Tensor:
        s, e = self._batch
        if uniforms is None or tuple(uniforms.shape) != (s, e, 1):
            got = None if uniforms is None else tuple(uniforms.shape)
            raise ValueError(f"{self.name} {what} needs uniforms of shape {(s, e, 1)}, got {got}")
        return (uniforms.reshape(-1).double() * SEED_RANGE).long()  # maprops.games.instances.reset_seed, batched

    def _restart(self, entries: list[int], seeds: torch.Tensor) -> None:
        """New episodes for ``entries``, each from its own seed."""
        for i in entries:
            reset_entry(self.env, i, int(seeds[i]))
            self._seed[i] = seeds[i]
        self._t[entries] = 0
        self._return[entries] = 0.0

    def _step_env(self, joint: torch.Tensor):
        """One VMAS step of every entry (``joint [B, N]``), checking that it drew no random number."""
        before = state_key(random_state())
        obs, rewards, dones, _ = self.env.step(list(joint.T.clone()))
        if state_key(random_state()) != before:
            raise RandomStep(
                f"{self.name}: VMAS scenario {self.scenario!r} drew random numbers on a step, for the whole batch at "
                "once: a seed's numbers would depend on its block. This kind needs scenarios whose steps are deterministic."
            )
        return torch.stack(obs, 1), torch.stack(rewards, 1).float(), dones.bool()

    # -- the engine's interface ----------------------------------------------------------------

    def reset(self, batch, uniforms) -> torch.Tensor:
        """New episodes for ``batch = (S, E)``; entry ``i`` is seeded by its uniform alone. The
        environment is rebuilt only when the batch shape changes."""
        s, e = (int(b) for b in batch)
        if (s, e) != self._batch or self.env is None:
            self.env = self._make(s * e)
            self._batch = (s, e)
        seeds = self._uniform_seeds(uniforms, "reset")
        b = s * e
        self._t = torch.zeros(b, dtype=torch.long)
        self._return = torch.zeros(b, dtype=torch.float64)
        self._seed = torch.zeros(b, dtype=torch.long)
        self._actions = torch.zeros(b, self.max_episode_steps, self.n_agents, dtype=torch.long)
        self._restart(list(range(b)), seeds)
        return observe(self.env).view(s, e, self.n_agents, self.obs_dim)

    def step(self, actions: torch.Tensor, uniforms) -> StepResult:
        """One batched VMAS step; an ended entry restarts from its step uniform."""
        if self._batch is None:
            raise ValueError(f"{self.name}: call reset before step")
        s, e = self._batch
        if tuple(actions.shape) != (s, e, self.n_agents):
            raise ValueError(f"{self.name} step needs actions of shape {(s, e, self.n_agents)}, got {tuple(actions.shape)}")
        k = self.n_actions[0]
        if actions.numel() and not (0 <= int(actions.min()) and int(actions.max()) < k):
            raise ValueError(f"{self.name} actions must lie in 0..{k - 1}")
        seeds = self._uniform_seeds(uniforms, "step")
        b = s * e
        joint = actions.reshape(b, self.n_agents).long()
        entries = torch.arange(b)
        self._actions[entries, self._t] = joint
        obs, rewards, terminated = self._step_env(joint)
        self._t += 1
        self._return += rewards.double().mean(1)
        done = terminated | (self._t >= self.max_episode_steps)
        success = torch.zeros(b, dtype=torch.bool)
        ended = done.nonzero().flatten().tolist()
        if ended:
            for i in ended:
                success[i] = self.success.solved(bool(terminated[i]), float(self._return[i]))
            self._restart(ended, seeds)
            obs[ended] = observe(self.env)[ended]
        return StepResult(
            obs=obs.view(s, e, self.n_agents, self.obs_dim),
            rewards=rewards.view(s, e, self.n_agents),
            done=done.view(s, e),
            success=success.view(s, e),
            truncated=(done & ~terminated).view(s, e),
        )

    # -- snapshots -------------------------------------------------------------------------------

    def __getstate__(self) -> dict:
        return {**self.__dict__, "env": None}

    def __setstate__(self, state: dict) -> None:
        """Rebuild the environment and replay each entry's episode so far (module docstring)."""
        self.__dict__.update(state)
        if self._batch is None:
            return
        self.env = self._make(self._batch[0] * self._batch[1])
        lengths = self._t.clone()
        horizon = int(lengths.max()) if len(lengths) else 0
        start = horizon - lengths  # the replay step at which each entry's episode begins
        for r in range(horizon + 1):
            for i in (start == r).nonzero().flatten().tolist():
                reset_entry(self.env, i, int(self._seed[i]))
            if r < horizon:
                at = (r - start).clamp(min=0)
                self._step_env(self._actions[torch.arange(len(at)), at])
