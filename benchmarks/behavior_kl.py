"""How far one behavior update moves, and how many minibatch steps it takes before the KL
cut-off stops it: per behavior update of the first target update of a figure cell, at the cut-off
the run spec gives and at any others asked for.

    python -m benchmarks.behavior_kl fig11 "Game 19 (modified)" ma_props --kl 6 0.03 --seeds 100

Prints, per cut-off: the mean number of minibatch steps per behavior update, the fraction of
updates stopped after their first step, and the exact KL(target || behavior) on the buffer's
states after each update (median and range), as a multiple of the cut-off. A diagnostic, not a
test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

import maprops.samplers.ma_props as ma_props_module
import maprops.samplers.props as props_module
from maprops.specs import SpecLibrary
from maprops.train import Trainer

REPO = Path(__file__).resolve().parents[1]


def exact_kl(sampler, data) -> torch.Tensor:
    """KL(target || behavior) per seed, averaged over the buffer's states, summed exactly over
    (joint) actions."""
    target = data.target_log_probs  # [S, M, N, K]
    if isinstance(sampler, ma_props_module.MaPropsSampler):
        joint_target = torch.log_softmax(ma_props_module.joint_log_probs(target), -1)
        behavior = torch.log_softmax(sampler.joint_logits(data.obs, target), -1)
        return (joint_target.exp() * (joint_target - behavior)).sum(-1).mean(1)
    behavior = sampler.actors.log_probs(sampler.params, data.obs)  # [S, M, N, K]
    return (target.exp() * (target - behavior)).sum(-1).sum(-1).mean(1)  # agents independent


def measure(spec, seeds: int) -> tuple[list[int], list[np.ndarray]]:
    steps, kls = [], []
    trainer = Trainer(spec, list(range(seeds)))
    sampler = trainer.sampler
    for module in (ma_props_module, props_module):
        original = module.behavior_update

        def recording(params, optimizer, policy, target_log_prob, config, rng, tag, _original=original):
            taken = _original(params, optimizer, policy, target_log_prob, config, rng, tag)
            steps.append(taken)
            return taken

        module.behavior_update = recording
    original_update = type(sampler).update

    def update(self, target_params, data, tag):
        original_update(self, target_params, data, tag)
        with torch.no_grad():
            kls.append(exact_kl(self, data).numpy())

    type(sampler).update = update
    try:
        trainer.run_iteration()
    finally:
        type(sampler).update = original_update
        ma_props_module.behavior_update = props_module.behavior_update = original
    return steps, kls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure")
    parser.add_argument("panel", help="panel title")
    parser.add_argument("sampler", choices=["props", "ma_props"])
    parser.add_argument("--kl", type=float, nargs="+", default=[6.0, 0.03])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    library = SpecLibrary(REPO / "specs")
    figure = library.figure(args.figure)
    panel = next(p for p in figure.panels if p.title == args.panel)
    for kl in args.kl:
        spec = library.run_spec(figure, panel, args.sampler, library.scale("full"), setting={"sampler.target_kl": kl})
        steps, kls = measure(spec, args.seeds)
        ratio = np.concatenate(kls) / kl
        print(
            f"{args.figure} {args.panel} {args.sampler} target_kl={kl:g}: {len(steps)} behavior updates, "
            f"{np.mean(steps):.1f} minibatch steps each (block's slowest seed; max {max(steps)}), "
            f"{np.mean(np.array(steps) <= 1):.0%} stopped after one step; KL after an update / cut-off: "
            f"median {np.median(ratio):.3g}, 5-95% {np.percentile(ratio, 5):.3g}-{np.percentile(ratio, 95):.3g}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
