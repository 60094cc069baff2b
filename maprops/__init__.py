"""maprops: reproduce and extend MA-PROPS (Corrado & Hanna), seed-batched.

The library knows nothing of Snakemake or the repository's file layout: it trains a
:class:`maprops.config.RunSpec` for a list of seeds and returns tidy per-seed metrics.

Numerical reproducibility: a seed's numbers must not depend on the block it trains in. A seed's
parameters sit at a different memory address in each block, and MKL's matrix kernels by default
pick their code path by the alignment of the data, so the same product can round differently by
position (measured: a 64x64 gradient product differed by 4e-7 between a seed trained alone and
in a block, enough to change a chaotic run's outcome). MKL's strict reproducibility mode fixes
the code path whatever the alignment; the AVX2 branch also keeps it the same on every AVX2 or
AVX-512 machine. It costs nothing measurable here (benchmarks/behavior_update.py: within noise).
It must be set before MKL's first call, hence here; a value the user exported is kept.
"""

import os

os.environ.setdefault("MKL_CBWR", "AVX2,STRICT")

__version__ = "0.2.0"
