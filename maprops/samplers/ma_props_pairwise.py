"""MA-PROPS with a factored adjustment over a chain of agent pairs (beyond the paper, §7).

The paper's Delta_phi has one output per joint action, ``K**N`` of them, so both the network
and acting (a softmax over every joint action) grow exponentially with the number of agents.
Here the adjustment is a sum of pairwise terms over neighbouring agents::

    pi_phi(a|s) ∝ pi_theta(a|s) * exp(sum_{i<N-1} f_i(s)[a_i, a_{i+1}])

with ``f(s)`` an MLP on the joint observation that outputs ``N-1`` tables of ``K x K``
(:mod:`maprops.samplers.delta_phi`; its last layer zeroed at every reset, so ``pi_phi ==
pi_theta`` exactly there, as with the full head).
With the target's per-agent log-probs as unary terms this is a chain-structured discrete
graphical model, so everything the sampler needs is exact and linear in ``N``:

* the log-normalizer ``log Z(s)`` by a forward pass of messages (``O(N K^2)``);
* ``log pi_phi`` of a buffer joint action, hence the behavior loss, exactly;
* its gradient: d log pi_phi / d f_i[x, y] = [a_i = x, a_{i+1} = y] - P_phi(a_i = x, a_{i+1} = y),
  the pair marginals from a backward pass of messages;
* acting by forward filtering, backward sampling: ``a_{N-1}`` from its marginal, then each
  ``a_i`` from ``P(a_i | a_{i+1})``, using agent ``i``'s uniform. At a reset every conditional is
  agent ``i``'s own target policy, so the sampler then draws exactly what on-policy sampling draws.

Why a chain and not all pairs: with every pair ``(i, j)`` the model is a dense graph whose
normalizer and samples cost ``K**N`` again (or an approximate sampler such as Gibbs); a chain
keeps sampling and log-probs exact. With two agents the chain is one pair: a full ``K x K`` table
per state, the same function class as the paper's joint head (tests check the log-probs agree).
Coordination between agents that are not neighbours in the chain is only expressed through the
agents between them.
"""

from __future__ import annotations

import torch

from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.policies import taken_log_prob
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update
from maprops.samplers.delta_phi import build_head, zero_output


def forward_messages(unary: torch.Tensor, pair: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """``unary [..., N, K]``, ``pair [..., N-1, K, K]`` -> forward messages ``alpha_i [..., K]``
    (log of the unnormalized marginal of agents ``0..i`` summed over ``a_0..a_{i-1}``) and ``log Z [...]``."""
    alphas = [unary[..., 0, :]]
    for i in range(pair.shape[-3]):
        alphas.append(unary[..., i + 1, :] + torch.logsumexp(alphas[-1].unsqueeze(-1) + pair[..., i, :, :], -2))
    return alphas, torch.logsumexp(alphas[-1], -1)


def pair_marginals(unary, pair, alphas, log_z) -> torch.Tensor:
    """``P(a_i = x, a_{i+1} = y)`` of the chain model, ``[..., N-1, K, K]``."""
    n_pairs = pair.shape[-3]
    beta = torch.zeros_like(alphas[-1])  # backward message into agent i+1 from agents after it
    marginals = [None] * n_pairs
    for i in reversed(range(n_pairs)):
        right = (unary[..., i + 1, :] + beta).unsqueeze(-2)  # [..., 1, K]
        joint = alphas[i].unsqueeze(-1) + pair[..., i, :, :] + right
        marginals[i] = (joint - log_z[..., None, None]).exp()
        beta = torch.logsumexp(pair[..., i, :, :] + right, -1)
    return torch.stack(marginals, -3)


def pair_index(actions: torch.Tensor, k: int) -> torch.Tensor:
    """Joint actions ``[..., N]`` -> each neighbouring pair's cell in a flattened ``K x K`` table ``[..., N-1]``."""
    return actions[..., :-1] * k + actions[..., 1:]


def chain_log_prob(unary, pair, actions, log_z) -> torch.Tensor:
    """log pi_phi of joint actions ``[..., N]`` -> ``[...]``."""
    k = unary.shape[-1]
    score = taken_log_prob(unary, actions).sum(-1)
    score = score + pair.flatten(-2).gather(-1, pair_index(actions, k).unsqueeze(-1)).squeeze(-1).sum(-1)
    return score - log_z


def sample_chain(unary, pair, uniforms) -> torch.Tensor:
    """Exact samples of the chain model by forward filtering, backward sampling: ``uniforms [..., N]``
    -> joint actions ``[..., N]``, agent ``i`` drawn with ``uniforms[..., i]``."""
    alphas, _ = forward_messages(unary, pair)
    n = unary.shape[-2]
    actions = [None] * n
    actions[-1] = sample_categorical(torch.softmax(alphas[-1], -1), uniforms[..., -1])
    for i in reversed(range(n - 1)):
        column = pair[..., i, :, :].gather(-1, actions[i + 1][..., None, None].expand(*pair.shape[:-3], pair.shape[-1], 1))
        actions[i] = sample_categorical(torch.softmax(alphas[i] + column.squeeze(-1), -1), uniforms[..., i])
    return torch.stack(actions, -1)


class _ChainPolicy:
    """log pi_phi of the buffer's joint actions under the chain model, with its gradient w.r.t. f_phi."""

    def __init__(self, mlp, joint_obs, target_log_probs, actions):
        self.mlp = mlp
        self.joint_obs = joint_obs  # [S, M, N*D]
        self.target_log_probs = target_log_probs  # [S, M, N, K]
        self.actions = actions  # [S, M, N]
        self.seeds = torch.arange(joint_obs.shape[0])[:, None]

    def take(self, ids):
        return _ChainPolicy(self.mlp, self.joint_obs[ids], self.target_log_probs[ids], self.actions[ids])

    def log_prob(self, params, idx):
        unary = self.target_log_probs[self.seeds, idx]  # [S, B, N, K]
        actions = self.actions[self.seeds, idx]
        out, inputs = self.mlp.forward_cached(params, self.joint_obs[self.seeds, idx])
        n, k = unary.shape[-2:]
        pair = out.view(*out.shape[:2], n - 1, k, k)
        alphas, log_z = forward_messages(unary, pair)
        return chain_log_prob(unary, pair, actions, log_z), (inputs, unary, pair, actions, alphas, log_z)

    def backward(self, params, ctx, d_log_prob, grad):
        inputs, unary, pair, actions, alphas, log_z = ctx
        k = unary.shape[-1]
        d_pair = pair_marginals(unary, pair, alphas, log_z).flatten(-2).neg_()  # [S, B, N-1, K*K]
        d_pair.scatter_add_(-1, pair_index(actions, k).unsqueeze(-1), torch.ones_like(d_pair[..., :1]))
        d_out = d_pair.flatten(2).mul_(d_log_prob.unsqueeze(-1))
        self.mlp.backward(params, inputs, d_out, grad)


class PairwiseMaPropsSampler:
    """MA-PROPS whose Delta_phi is a sum of chain-pair tables (``delta_phi: pairwise``)."""

    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(config, game.obs_dim, game.n_actions, rng)

    def __init__(self, config: BehaviorSamplerConfig, obs_dim: int, n_actions: tuple[int, ...], rng: SeedStreams):
        if len(set(n_actions)) != 1:
            raise ValueError(f"a pairwise delta_phi needs every agent to have the same action count, not {n_actions}")
        if len(n_actions) < 2:
            raise ValueError("a pairwise delta_phi needs at least two agents")
        self.config = config
        self.n_actions = n_actions
        self.k = n_actions[0]
        head = (len(n_actions) - 1) * self.k * self.k
        self.mlp, self.params, self.optimizer = build_head(config, obs_dim * len(n_actions), head, rng)
        self.rng = rng
        self.steps_taken = 0

    def reset_to_target(self, target_params=None) -> None:
        """Zero f_phi's output layer: every pair table is zero and the behavior is the target exactly."""
        zero_output(self.mlp, self.params)

    def pair_tables(self, obs: torch.Tensor) -> torch.Tensor:
        """``[S, B, N, D]`` -> f_phi(s) ``[S, B, N-1, K, K]``."""
        out = self.mlp.forward(self.params, obs.flatten(2))
        return out.view(*out.shape[:2], len(self.n_actions) - 1, self.k, self.k)

    @torch.no_grad()
    def act(self, obs, target_log_probs, uniforms):
        return sample_chain(target_log_probs, self.pair_tables(obs), uniforms)

    def update(self, target_params, data: BehaviorData, tag) -> None:
        self.reset_to_target()
        if self.config.reset_moments:
            self.optimizer.reset_state()
        policy = _ChainPolicy(self.mlp, data.obs.flatten(2), data.target_log_probs, data.actions)
        target = taken_log_prob(data.target_log_probs, data.actions).sum(-1)  # [S, M]
        self.steps_taken += behavior_update(
            self.params, self.optimizer, policy, target, self.config, self.rng, tag, data.minibatch_size
        )
