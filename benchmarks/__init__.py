"""Speed measurements that print their numbers; run from the repository root: ``python -m benchmarks.cells ...``."""
