"""KL sampling error by maximum likelihood (paper Appendix C, Eqs. 6-9), batched over seeds.

Where the target policies' visitation cannot be computed (BoulderPush, LBF), the paper fits
a network ``pi_MLE`` to the buffer by maximum likelihood (Eq. 7) and estimates
``D_KL(pi_D || pi_theta)`` by Monte Carlo over the buffer (Eq. 8):
``mean over (s, a) in D of log pi_MLE(a|s) - log pi_theta(a|s)``. The paper writes a sum; we
report the mean, a per-sample divergence comparable across buffer sizes. Jointly, the MLE
network reads the concatenated observations and outputs logits over joint actions; for agent 1
(Eq. 9) it reads agent 1's observation and outputs its own action logits.

Continuous actions (Gaussian policies, beyond the paper's experiments): the same estimator with
a Gaussian ``pi_MLE``. The network reads the joint observation and outputs the mean and the log
standard deviation of a diagonal Gaussian over the joint action (every agent's action
dimensions; for agent 1, its own observation and its own action), fitted by maximum likelihood
to the buffer's unclipped actions; the estimate is the mean over the buffer of
``log pi_MLE(a|s) - log pi_theta(a|s)`` with Gaussian log densities. It is a KL divergence
between densities (it can be negative for a finite fit, and its scale is not the discrete
one's), reported in the same ``*_kl`` columns. A diagonal ``pi_MLE`` sees how each action
dimension's distribution given the joint state departs from the target's, not correlations
between dimensions within a state.

Every seed fits its own network (stacked ``[S, P]`` parameters, per-seed Adam, per-seed
minibatch order from its own stream), so a seed's estimate never depends on its block.
"""

from __future__ import annotations

import math

import torch

from maprops.action_heads import GaussianHead, joint_gaussian
from maprops.config import MLEConfig
from maprops.joint_actions import encode_joint
from maprops.nets import StackedAdam, StackedMLP
from maprops.policies import init_params, taken_log_prob
from maprops.rng import SeedStreams

JOINT_ROLE, AGENT1_ROLE = 20, 21  # initialization roles, distinct from the training networks'


def categorical_log_likelihood(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``[S, B, K]`` logits, ``[S, B]`` labels -> log-likelihood ``[S, B, 1]``."""
    return torch.log_softmax(logits, -1).gather(-1, labels.unsqueeze(-1))


def fit_log_likelihood(
    inputs: torch.Tensor,
    labels: torch.Tensor,
    n_classes: int,
    rng: SeedStreams,
    tag: tuple,
    role: int,
    config: MLEConfig,
    log_likelihood=categorical_log_likelihood,
) -> torch.Tensor:
    """Fit a per-seed model ``inputs [S, M, D] -> labels [S, M, ...]`` by maximum likelihood;
    return the fitted log-likelihood of every sample ``[S, M]``. The network has ``n_classes``
    outputs, read by ``log_likelihood(outputs [S, B, n_classes], labels [S, B, ...])`` -> ``[S, B, 1]``
    (by default a classifier's)."""
    s, m, d = inputs.shape
    mlp = StackedMLP((d, *config.hidden_sizes, n_classes))
    params = init_params(mlp, rng, role, per_seed=1, out_gain=0.01).requires_grad_(True)
    adam = StackedAdam(params, s, config.learning_rate, config.adam_eps)
    batch = min(config.minibatch_size, m)
    per_epoch = m // batch
    seeds = torch.arange(s)[:, None]
    order = None
    for step in range(config.steps):
        epoch, k = divmod(step, per_epoch)
        if k == 0:
            order = rng.permutations((*tag, role, epoch), m)
        idx = order[:, k * batch : (k + 1) * batch]
        with torch.enable_grad():  # callers measure under no_grad; this fit needs gradients
            logits = mlp.forward(params, inputs[seeds, idx])
            nll = -log_likelihood(logits, labels[seeds, idx]).mean((1, 2))
            (grad,) = torch.autograd.grad(nll.sum(), params)  # seeds' losses are independent
        adam.step(grad)
    with torch.no_grad():
        return log_likelihood(mlp.forward(params, inputs), labels).squeeze(-1)


def kl_sampling_errors(
    obs: torch.Tensor,
    actions: torch.Tensor,
    target_log_probs: torch.Tensor,
    n_actions: tuple[int, ...],
    rng: SeedStreams,
    tag: tuple,
    config: MLEConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint and agent-1 KL sampling error ``[S]`` (float64) of a buffer: ``obs [S, M, N, D]``,
    ``actions [S, M, N]``, the target's per-agent log-probs at those observations ``[S, M, N, K]``."""
    obs = obs.detach().float()
    taken = taken_log_prob(target_log_probs, actions).detach().double()  # [S, M, N]
    joint_fit = fit_log_likelihood(
        obs.flatten(2), encode_joint(actions, n_actions), math.prod(n_actions), rng, tag, JOINT_ROLE, config
    )
    agent1_fit = fit_log_likelihood(obs[:, :, 0], actions[..., 0], n_actions[0], rng, tag, AGENT1_ROLE, config)
    joint_kl = (joint_fit.double() - taken.sum(-1)).mean(1)
    agent1_kl = (agent1_fit.double() - taken[..., 0]).mean(1)
    return joint_kl, agent1_kl


def gaussian_log_likelihood(outputs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``[S, B, 2A]`` outputs read as mean and log std, ``[S, B, A]`` actions -> ``[S, B, 1]``."""
    return GaussianHead(actions.shape[-1]).log_prob(outputs, actions).unsqueeze(-1)


def gaussian_kl_sampling_errors(
    obs: torch.Tensor,
    actions: torch.Tensor,
    target_dist: torch.Tensor,
    head: GaussianHead,
    rng: SeedStreams,
    tag: tuple,
    config: MLEConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint and agent-1 KL sampling error ``[S]`` (float64) of a buffer of continuous actions
    (see the module docstring): ``obs [S, M, N, D]``, unclipped ``actions [S, M, N, A]``, the
    target's per-agent ``cat(mean, log std)`` at those observations ``[S, M, N, 2A]``."""
    obs, actions = obs.detach().float(), actions.detach().float()
    joint_actions = actions.flatten(2)  # [S, M, NA]
    joint_target = GaussianHead(joint_actions.shape[-1]).log_prob(joint_gaussian(target_dist.detach()), joint_actions)
    agent1_target = head.log_prob(target_dist[:, :, 0].detach(), actions[:, :, 0])
    joint_fit = fit_log_likelihood(
        obs.flatten(2), joint_actions, 2 * joint_actions.shape[-1], rng, tag, JOINT_ROLE, config, gaussian_log_likelihood
    )
    agent1_fit = fit_log_likelihood(
        obs[:, :, 0], actions[:, :, 0], head.width, rng, tag, AGENT1_ROLE, config, gaussian_log_likelihood
    )
    return (joint_fit.double() - joint_target.double()).mean(1), (agent1_fit.double() - agent1_target.double()).mean(1)
