"""maprops: reproduce and extend MA-PROPS (Corrado & Hanna), seed-batched.

The library knows nothing of Snakemake or the repository's file layout: it trains a
:class:`maprops.config.RunSpec` for a list of seeds and returns tidy per-seed metrics.
"""

__version__ = "0.1.0"
