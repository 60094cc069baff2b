"""KL sampling error by maximum likelihood (paper Appendix C, Eqs. 6-9), batched over seeds.

Where the target policies' visitation cannot be computed (BoulderPush, LBF), the paper fits
a network ``pi_MLE`` to the buffer by maximum likelihood (Eq. 7) and estimates
``D_KL(pi_D || pi_theta)`` by Monte Carlo over the buffer (Eq. 8):
``mean over (s, a) in D of log pi_MLE(a|s) - log pi_theta(a|s)``. The paper writes a sum; we
report the mean, a per-sample divergence comparable across buffer sizes. Jointly, the MLE
network reads the concatenated observations and outputs logits over joint actions; for agent 1
(Eq. 9) it reads agent 1's observation and outputs its own action logits.

Every seed fits its own network (stacked ``[S, P]`` parameters, per-seed Adam, per-seed
minibatch order from its own stream), so a seed's estimate never depends on its block.
"""

from __future__ import annotations

import math

import torch

from maprops.config import MLEConfig
from maprops.games.base import encode_joint
from maprops.nets import StackedAdam, StackedMLP
from maprops.policies import init_params, taken_log_prob
from maprops.rng import SeedStreams

JOINT_ROLE, AGENT1_ROLE = 20, 21  # initialization roles, distinct from the training networks'


def fit_log_likelihood(
    inputs: torch.Tensor, labels: torch.Tensor, n_classes: int, rng: SeedStreams, tag: tuple, role: int, config: MLEConfig
) -> torch.Tensor:
    """Fit a per-seed classifier ``inputs [S, M, D] -> labels [S, M]`` by maximum likelihood;
    return the fitted log-likelihood of every sample ``[S, M]``."""
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
            nll = -torch.log_softmax(logits, -1).gather(-1, labels[seeds, idx].unsqueeze(-1)).mean((1, 2))
            (grad,) = torch.autograd.grad(nll.sum(), params)  # seeds' losses are independent
        adam.step(grad)
    with torch.no_grad():
        return torch.log_softmax(mlp.forward(params, inputs), -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)


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
