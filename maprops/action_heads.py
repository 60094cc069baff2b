"""How an agent's policy turns a network output into actions: categorical or Gaussian.

The engine handles one tensor per agent that fully describes its action distribution, the
*distribution parameters*, and never looks inside it; only the head does:

- :class:`CategoricalHead` (every game of the paper): the log-probabilities of the ``K``
  actions, ``[..., K]``; an action is an int64 index.
- :class:`GaussianHead` (continuous actions, beyond the paper's experiments, its Appendix D):
  the mean and the log standard deviation of a diagonal Gaussian over ``A`` dimensions,
  concatenated, ``[..., 2A]``; an action is a float32 vector ``[..., A]``, sampled unclipped
  (the game clips it to its bounds when it acts, the learner sees the unclipped one).

Both draw actions from uniforms of the seed's own stream (:mod:`maprops.rng`), so a seed's
actions never depend on its block: the categorical head by inverse CDF (one uniform per
agent), the Gaussian one by the inverse normal CDF (one uniform per agent and dimension).
The categorical head's methods are the very operations the engine used before heads existed,
in the same order, so discrete training is unchanged number for number.
"""

from __future__ import annotations

import math

import torch

from maprops.rng import sample_categorical

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
HALF_ULP = 2.0**-54
"""Half the spacing of :meth:`SeedStreams.uniform`'s grid (53-bit multiples of 2**-53): a
uniform ``u`` in [0, 1) moved to ``u + 2**-54`` lies strictly inside (0, 1), so its normal
quantile is finite (at most about 8.3 in magnitude)."""


class CategoricalHead:
    """``K`` discrete actions; the distribution parameters are log-probabilities ``[..., K]``."""

    continuous = False
    action_shape: tuple[int, ...] = ()  # an action per agent is a scalar index
    action_dtype = torch.int64

    def __init__(self, n_actions: int):
        self.n_actions = n_actions
        self.width = n_actions

    @property
    def noise_shape(self) -> tuple[int, ...]:
        """Uniforms per agent and action, beyond the ``[..., N]`` axes: one per agent."""
        return ()

    def sample(self, params: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
        """``params [..., K]``, ``uniforms [...]`` -> actions ``[...]`` (inverse CDF)."""
        return sample_categorical(params.exp(), uniforms)

    def log_prob(self, params: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``[..., K]``, ``[...]`` -> log-prob of each action ``[...]``."""
        return params.gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def entropy(self, params: torch.Tensor) -> torch.Tensor:
        return -(params.exp() * params).sum(-1)


def standard_normal(uniforms: torch.Tensor) -> torch.Tensor:
    """Standard normal draws from uniforms in [0, 1) by the inverse CDF (float64 in, float64 out)."""
    return torch.special.ndtri(uniforms + HALF_ULP)


class GaussianHead:
    """A diagonal Gaussian over ``A`` action dimensions; the distribution parameters are
    ``cat(mean, log_std)`` ``[..., 2A]``. Actions are unclipped: the game core clips them to its
    bounds when it acts (:mod:`maprops.games.pettingzoo_task`)."""

    continuous = True
    action_dtype = torch.float32

    def __init__(self, action_dim: int):
        self.action_dim = action_dim
        self.width = 2 * action_dim
        self.action_shape = (action_dim,)

    @property
    def noise_shape(self) -> tuple[int, ...]:
        return (self.action_dim,)

    def split(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[..., 2A]`` -> mean ``[..., A]``, log std ``[..., A]``."""
        return params[..., : self.action_dim], params[..., self.action_dim :]

    def sample(self, params: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
        """``params [..., 2A]``, ``uniforms [..., A]`` -> unclipped actions ``[..., A]`` (float32):
        ``mean + std * z`` with ``z`` the normal quantile of each uniform."""
        mean, log_std = self.split(params)
        return mean + log_std.exp() * standard_normal(uniforms).to(mean.dtype)

    def log_prob(self, params: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log density of (unclipped) actions ``[..., A]``, summed over dimensions -> ``[...]``."""
        mean, log_std = self.split(params)
        z = (actions - mean) * torch.exp(-log_std)
        return (-0.5 * z * z - log_std - HALF_LOG_2PI).sum(-1)

    def entropy(self, params: torch.Tensor) -> torch.Tensor:
        """Differential entropy, summed over dimensions -> ``[...]``."""
        _, log_std = self.split(params)
        return (0.5 + HALF_LOG_2PI + log_std).sum(-1)


def joint_gaussian(params: torch.Tensor) -> torch.Tensor:
    """Per-agent Gaussian parameters ``[..., N, 2A]`` -> the joint (product) Gaussian's
    ``[..., 2NA]``: means of agent 0's dimensions, then agent 1's, ..., then the log stds in the
    same order, so a joint action is the per-agent actions ``[..., N, A]`` flattened."""
    a = params.shape[-1] // 2
    return torch.cat((params[..., :a].flatten(-2), params[..., a:].flatten(-2)), -1)


def action_head(game, name: str) -> CategoricalHead | GaussianHead:
    """The head of a game core's actions (``name``: the game's, for errors): Gaussian where the
    core has continuous actions (it declares ``action_bounds``, which it applies itself), else
    categorical over the count every agent shares."""
    if getattr(game, "action_bounds", None) is not None:
        return GaussianHead(game.action_dim)
    if len(set(game.n_actions)) != 1:
        raise ValueError(f"game {name}: agents must share one action count, got {game.n_actions}")
    return CategoricalHead(game.n_actions[0])
