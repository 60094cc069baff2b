"""MA-PROPS's joint head against the pairwise (chain) head as the number of agents grows.

For N agents with K actions each, the paper's Delta_phi has K**N outputs and acting takes a
softmax over K**N joint actions; the pairwise head (``delta_phi: pairwise``) has (N-1) K**2
outputs and samples exactly by forward filtering, backward sampling. This prints, per N, each
head's parameter count per seed, the time of one act step (S seeds x one environment) and of one
behavior minibatch step (forward, hand-written backward, clipping, Adam), best of a few repeats.
The joint head is skipped where its parameters alone would exceed ``--max-joint-params`` per seed.

    python -m benchmarks.many_agents [--agents 2 4 6 8] [--actions 5] [--seeds 10]

Shapes: Simple Spread with N agents (obs 6N per agent, 5 actions), hidden (64, 64).
"""

from __future__ import annotations

import argparse
from functools import partial

import torch

from benchmarks.behavior_update import best_of
from maprops.config import sampler_config
from maprops.joint_actions import encode_joint, joint_log_probs
from maprops.nets import clip_grad_norm_
from maprops.rng import SeedStreams
from maprops.samplers.ma_props import MaPropsSampler, _CentralizedPolicy
from maprops.samplers.ma_props_pairwise import PairwiseMaPropsSampler, _ChainPolicy


def one_step(sampler, policy, target, batch: int):
    idx = torch.arange(batch).expand(target.shape[0], -1)

    def step():
        log_prob, ctx = policy.log_prob(sampler.params, idx)
        ratio = (log_prob - target[:, :batch]).exp()
        sampler.optimizer.grad.zero_()
        policy.backward(sampler.params, ctx, ratio / batch, sampler.optimizer.grad)
        clip_grad_norm_(sampler.optimizer.grad, target.shape[0], 0.5)
        sampler.optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[2, 4, 6, 8])
    parser.add_argument("--actions", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--buffer", type=int, default=256)
    parser.add_argument("--minibatch", type=int, default=32)
    parser.add_argument("--max-joint-params", type=int, default=5_000_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    s, k, m = args.seeds, args.actions, args.buffer
    print("| N | joint actions | head | params / seed | act step (ms) | behavior step (ms) |\n|---|---|---|---|---|---|")
    for n in args.agents:
        d = 6 * n
        rng = SeedStreams(range(s))
        gen = torch.Generator().manual_seed(n)
        obs = torch.randn(s, m, n, d, generator=gen)
        target_lp = torch.log_softmax(torch.randn(s, m, n, k, generator=gen), -1)
        actions = torch.randint(0, k, (s, m, n), generator=gen)
        target = target_lp.gather(-1, actions.unsqueeze(-1)).squeeze(-1).sum(-1)
        uniforms = torch.rand(s, 1, n, generator=gen, dtype=torch.float64)
        for head in ("network", "pairwise"):
            outputs = k**n if head == "network" else (n - 1) * k * k
            params = (n * d + 1) * 64 + 65 * 64 + 65 * outputs
            if params > args.max_joint_params:
                print(f"| {n} | {k**n} | {head} | {params:,} | skipped | skipped |")
                continue
            config = sampler_config("ma_props", delta_phi=head, hidden_sizes=(64, 64))
            if head == "network":
                sampler = MaPropsSampler(config, d, (k,) * n, rng)
                policy = _CentralizedPolicy(
                    sampler.mlp, obs.flatten(2), joint_log_probs(target_lp), encode_joint(actions, (k,) * n).unsqueeze(-1)
                )
            else:
                sampler = PairwiseMaPropsSampler(config, d, (k,) * n, rng)
                policy = _ChainPolicy(sampler.mlp, obs.flatten(2), target_lp, actions)
            sampler.params[:, sampler.mlp.last_layer] = 0.01
            act = best_of(partial(sampler.act, obs[:, :1], target_lp[:, :1], uniforms), repeats=3, inner=5)
            step = best_of(one_step(sampler, policy, target, args.minibatch), repeats=3, inner=5)
            print(f"| {n} | {k**n} | {head} | {params:,} | {1e3 * act:.2f} | {1e3 * step:.2f} |")


if __name__ == "__main__":
    main()
