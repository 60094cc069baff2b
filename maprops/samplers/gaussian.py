"""PROPS and MA-PROPS for Gaussian actors: continuous actions (paper Appendix D).

Both reuse Algorithm 2's loop (:func:`behavior_update`) unchanged; only the behavior policy
differs from the discrete samplers':

- PROPS: a behavior copy of each agent's Gaussian actor (its mean MLP and its log stds), reset
  to the target at every behavior update; ``log pi_phi(a|s)`` is the sum over agents and action
  dimensions of the copies' Gaussian log densities of the buffer's (unclipped) actions.
- MA-PROPS (Eq. 10): ``Delta_phi``, an MLP on the joint observation
  (:mod:`maprops.samplers.delta_phi`), outputs an adjustment of
  the joint Gaussian's mean and of its *log* standard deviation, one per agent and action
  dimension: ``pi_phi(.|s) = N(mu(s) + Delta_mu(s), (exp(log sigma(s) + Delta_log_sigma(s)))^2)``.
  The paper adjusts the variance itself; adjusting its logarithm keeps the standard deviation
  positive whatever the network outputs. The last layer is zeroed at every reset, so
  ``pi_phi == pi_theta`` exactly there. Like the paper's, the behavior is a diagonal Gaussian
  given the joint state: it shifts and widens each agent's action dimensions depending on every
  agent's observation, but puts no correlation between agents' actions within a state.

The discrete samplers' gradients are written by hand (thousands of tiny steps per update make
autograd's bookkeeping the bottleneck there). Here the gradient is autograd's
(:class:`AutogradPolicy`): correctness first, as this path is new and not yet a hot spot.
"""

from __future__ import annotations

import torch

from maprops.action_heads import GaussianHead, joint_gaussian
from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.nets import StackedMLP
from maprops.policies import GaussianActors
from maprops.rng import SeedStreams
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update
from maprops.samplers.delta_phi import build_head, zero_output
from maprops.samplers.props import PropsSampler


class AutogradPolicy:
    """The :class:`~maprops.samplers.behavior_update.BehaviorPolicy` protocol for a policy
    written as a differentiable ``differentiable_log_prob(params, idx) -> [S, B]``: the forward
    pass keeps its graph, :meth:`backward` asks autograd for the parameter gradient."""

    def differentiable_log_prob(self, params: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, params, idx):
        with torch.enable_grad():  # the update may run inside no_grad code
            leaf = params.detach().requires_grad_(True)
            out = self.differentiable_log_prob(leaf, idx)
        return out.detach(), (leaf, out)

    def backward(self, params, ctx, d_log_prob, grad):
        leaf, out = ctx
        (d_params,) = torch.autograd.grad(out, leaf, grad_outputs=d_log_prob)
        grad.copy_(d_params)


class _GaussianProductPolicy(AutogradPolicy):
    """PROPS: ``log pi_phi(a|s) = sum_i log pi_phi_i(a_i|s_i)`` over the buffer."""

    def __init__(self, actors: GaussianActors, obs: torch.Tensor, actions: torch.Tensor):
        self.actors = actors
        self.obs = obs  # [S, M, N, D]
        self.actions = actions  # [S, M, N, A]
        self.seeds = torch.arange(obs.shape[0])[:, None]

    def take(self, ids):
        return _GaussianProductPolicy(self.actors, self.obs[ids], self.actions[ids])

    def differentiable_log_prob(self, params, idx):
        dist = self.actors.dist(params, self.obs[self.seeds, idx])  # [S, B, N, 2A]
        return self.actors.head.log_prob(dist, self.actions[self.seeds, idx]).sum(-1)


class GaussianPropsSampler(PropsSampler):
    """PROPS with one behavior copy of each agent's Gaussian actor (see the module docstring):
    the discrete PROPS's state and reset (a copy of the target actors, Adam moments kept across
    resets), with Gaussian acting and a Gaussian behavior policy in the update."""

    @torch.no_grad()
    def act(self, obs, target_dist, uniforms):
        """``obs [S, E, N, D]``, uniforms ``[S, E, N, A]`` -> unclipped actions ``[S, E, N, A]``."""
        return self.actors.head.sample(self.actors.dist(self.params, obs), uniforms)

    def update(self, target_params: torch.Tensor, data: BehaviorData, tag) -> None:
        self.reset_to_target(target_params)
        if self.config.reset_moments:
            self.optimizer.reset_state()
        target_joint = self.actors.head.log_prob(data.target_log_probs, data.actions).sum(-1)  # [S, M]
        policy = _GaussianProductPolicy(self.actors, data.obs, data.actions)
        self.steps_taken += behavior_update(
            self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag, data.minibatch_size
        )


class _GaussianCentralizedPolicy(AutogradPolicy):
    """MA-PROPS: the joint Gaussian with ``Delta_phi``'s adjustment, over the buffer."""

    def __init__(self, mlp: StackedMLP, head: GaussianHead, joint_obs, target, joint_actions):
        self.mlp = mlp
        self.head = head  # the joint head, N*A dimensions
        self.joint_obs = joint_obs  # [S, M, N*D]
        self.target = target  # [S, M, 2NA]: the target's joint mean and log std
        self.joint_actions = joint_actions  # [S, M, NA]
        self.seeds = torch.arange(joint_obs.shape[0])[:, None]

    def take(self, ids):
        return _GaussianCentralizedPolicy(self.mlp, self.head, self.joint_obs[ids], self.target[ids], self.joint_actions[ids])

    def differentiable_log_prob(self, params, idx):
        adjustment = self.mlp.forward(params, self.joint_obs[self.seeds, idx])
        return self.head.log_prob(self.target[self.seeds, idx] + adjustment, self.joint_actions[self.seeds, idx])


class GaussianMaPropsSampler:
    """MA-PROPS over continuous joint actions (Eq. 10 with a log-std adjustment; see the module
    docstring)."""

    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(config, game.obs_dim, game.n_agents, actors.head.action_dim, rng)

    def __init__(self, config: BehaviorSamplerConfig, obs_dim: int, n_agents: int, action_dim: int, rng: SeedStreams):
        self.config = config
        self.rng = rng
        self.head = GaussianHead(n_agents * action_dim)
        self.mlp, self.params, self.optimizer = build_head(config, obs_dim * n_agents, self.head.width, rng)
        self.steps_taken = 0

    def reset_to_target(self, target_params=None) -> None:
        """Zero Delta_phi's output layer: the behavior policy becomes the target exactly."""
        zero_output(self.mlp, self.params)

    def joint_params(self, obs: torch.Tensor, target_dist: torch.Tensor) -> torch.Tensor:
        """``[S, B, N, D]``, ``[S, B, N, 2A]`` -> the behavior's joint mean and log std ``[S, B, 2NA]``."""
        return joint_gaussian(target_dist) + self.mlp.forward(self.params, obs.flatten(2))

    @torch.no_grad()
    def act(self, obs, target_dist, uniforms):
        """Uniforms ``[S, E, N, A]`` -> unclipped joint actions ``[S, E, N, A]``; agent ``i``'s
        dimensions use its own uniforms, so at a reset this draws what on-policy sampling draws."""
        joint = self.head.sample(self.joint_params(obs, target_dist), uniforms.flatten(2))
        return joint.view(uniforms.shape)

    def update(self, target_params, data: BehaviorData, tag) -> None:
        self.reset_to_target()
        if self.config.reset_moments:
            self.optimizer.reset_state()
        target = joint_gaussian(data.target_log_probs)  # [S, M, 2NA]
        joint_actions = data.actions.flatten(2)  # [S, M, NA]
        policy = _GaussianCentralizedPolicy(self.mlp, self.head, data.obs.flatten(2), target, joint_actions)
        target_joint = self.head.log_prob(target, joint_actions)
        self.steps_taken += behavior_update(
            self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag, data.minibatch_size
        )
