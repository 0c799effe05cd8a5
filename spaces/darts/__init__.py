"""The DARTS CNN search space (genotypes, text form, derivation) and the NAS-Bench-301 surrogate.

Not yet wired into the runner (issue 12): usable from Python, tested on its own."""
