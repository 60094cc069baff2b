"""Wall time of whole train jobs of a figure, for this source tree and optionally a baseline commit.

Speed-ups of the training code are judged on what users run: whole cells (one game x one
sampler x a block of seeds, at the figure's full budget), trained by ``maprops train`` exactly
as the pipeline does. With ``--baseline COMMIT`` the same cells are also trained by that commit
(checked out into a temporary git worktree), alternating old and new job by job so that both see
the same machine load, and the script prints the per-cell and total ratio. It then extrapolates
the whole figure's wall time on ``--cores`` cores from the cells it ran (same game kind and
sampler -> same cost), assuming the cores run jobs side by side without slowing each other.

    python -m benchmarks.cells fig11 --games nonconflict_01 nonconflict_19 --baseline 22cd639
    python -m benchmarks.cells fig5_matrix --seeds 100
    python -m benchmarks.cells fig4a --games climbing --baseline e3f612d --new 3bd8a53   # one change alone

Seeds default to the figure's own (100 at full scale). One torch thread per job, as in training.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pipeline.expand import Plan

REPO = Path(__file__).resolve().parents[1]


def train_seconds(tree: Path, run_json: Path, seeds: int, workdir: Path) -> float:
    """Wall time of ``maprops train`` for seeds 0..seeds-1, with ``tree``'s code."""
    out = workdir / f"out-{time.monotonic_ns()}.csv"
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [
        sys.executable,
        "-m",
        "maprops.cli",
        "train",
        "--run-spec",
        str(run_json),
        "--seeds",
        f"0-{seeds - 1}",
        "--out",
        str(out),
        "--checkpoint-every",
        "1e9",
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def commit_tree(commit: str, parent: Path, name: str) -> Path:
    tree = parent / name
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), commit], check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure")
    parser.add_argument("--games", nargs="*", help="panel games to run (default: all of the figure's)")
    parser.add_argument("--samplers", nargs="*", help="samplers to run (default: the figure's)")
    parser.add_argument("--seeds", type=int, help="seeds per cell (default: the figure's)")
    parser.add_argument("--scale", default="full")
    parser.add_argument("--baseline", help="a commit to time the same cells with")
    parser.add_argument("--new", help="a commit to time instead of this working tree")
    parser.add_argument("--cores", type=int, default=2, help="cores for the whole-figure extrapolation")
    args = parser.parse_args()

    cells = Plan(REPO / "specs", args.scale).cells(args.figure)
    chosen = [
        c for c in cells if (not args.games or c.panel.game in args.games) and (not args.samplers or c.sampler in args.samplers)
    ]
    if not chosen:
        sys.exit(f"no cells of {args.figure} match --games/--samplers")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        trees = {"new": commit_tree(args.new, tmp_path, "new") if args.new else REPO}
        if args.baseline:
            trees = {"old": commit_tree(args.baseline, tmp_path, "old"), **trees}
        measured: dict[tuple[str, str], dict[str, float]] = {}
        try:
            for i, cell in enumerate(chosen):
                run_json = tmp_path / f"run{i}.json"
                run_json.write_text(cell.run.canonical_json())
                seeds = args.seeds or cell.seeds
                times = {name: train_seconds(tree, run_json, seeds, tmp_path) for name, tree in trees.items()}
                measured[(cell.panel.game, cell.sampler)] = times
                ratio = f"  old/new {times['old'] / times['new']:.2f}x" if "old" in times else ""
                shown = "  ".join(f"{k} {v:7.1f} s" for k, v in times.items())
                print(f"{cell.panel.game:24s} {cell.sampler:9s} {seeds:4d} seeds: {shown}{ratio}", flush=True)
        finally:
            for tree in trees.values():
                if tree != REPO:
                    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)
    summarize(measured, cells, chosen, trees, args.cores)


def summarize(measured, cells, chosen, trees, cores: int) -> None:
    """Totals over the cells run, and the whole figure extrapolated per (game kind, sampler)."""
    for name in trees:
        total = sum(t[name] for t in measured.values())
        print(f"{name}: {total:.1f} s over {len(measured)} cells")
    if "old" in trees:
        old, new = (sum(t[k] for t in measured.values()) for k in ("old", "new"))
        print(f"old/new over these cells: {old / new:.2f}x")
    by_kind: dict[tuple[str, str], list[float]] = defaultdict(list)
    kind_of = {c.panel.game: c.run.game.kind for c in chosen}
    for (game, sampler), times in measured.items():
        by_kind[(kind_of[game], sampler)].append(times["new"])
    estimate, missing = 0.0, 0
    for cell in cells:
        known = by_kind.get((cell.run.game.kind, cell.sampler))
        if known is None:
            missing += 1
            continue
        estimate += sum(known) / len(known)
    note = f" ({missing} cells of kinds not run are left out)" if missing else ""
    print(
        f"whole figure, {len(cells)} cells: about {estimate / 60:.1f} CPU-min, "
        f"{estimate / cores / 60:.1f} min wall on {cores} cores{note}"
    )


if __name__ == "__main__":
    main()
