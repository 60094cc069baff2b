# Training: one process per (run, seed block). A run is named by the hash of its resolved spec.

from pipeline.resources import train_group, train_mem_mb, train_runtime_minutes


def block_seeds(wc):
    return int(wc.hi) - int(wc.lo) + 1


rule run_spec:
    """The resolved run spec as JSON: the run's identity and the train job's input."""
    output:
        "results/{scale}/runs/{run_id}/run.json",
    params:
        spec=lambda wc: plan(wc.scale).runs[wc.run_id],
    log:
        "results/{scale}/logs/run_spec/{run_id}.log",
    localrule: True
    shell:
        "{PYTHON:q} -m pipeline.atomic write {output:q} {params.spec:q} > {log:q} 2>&1"


rule train:
    """Train seeds lo..hi of one run in lock-step (one thread; parallelism is across jobs)."""
    input:
        # ancient: a run.json's content is fixed by its path (the hash of that content), so a
        # rewritten run.json (e.g. after an edit to the run_spec rule) never means a new run
        spec=ancient("results/{scale}/runs/{run_id}/run.json"),
    output:
        "results/{scale}/runs/{run_id}/seeds_{lo}-{hi}.csv",
    log:
        "results/{scale}/logs/train/{run_id}/seeds_{lo}-{hi}.log",
    threads: 1
    group: lambda wc: train_group(plan(wc.scale).runs[wc.run_id], block_seeds(wc))
    # Cluster requests derived from the run spec and block size (pipeline/resources.py); locally
    # they are only hints. One thread: parallelism is across jobs (and seeds within a job).
    resources:
        runtime=lambda wc, attempt: train_runtime_minutes(plan(wc.scale).runs[wc.run_id], block_seeds(wc), attempt),
        mem_mb=lambda wc, attempt: train_mem_mb(plan(wc.scale).runs[wc.run_id], block_seeds(wc), attempt),
        cpus_per_task=1,
    # exec: the job's PID is the trainer itself, so killing it stops the training (no orphan left
    # behind a shell). The trainer writes its own log and, on failure, echoes the log's last lines
    # (e.g. the seed, iteration and step of a NaN) to Snakemake's console.
    shell:
        "exec {PYTHON:q} -m maprops.cli train --run-spec {input.spec:q} --seeds {wildcards.lo:q}-{wildcards.hi:q}"
        " --out {output:q} --log {log:q}"
