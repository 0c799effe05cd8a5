"""NAS-Bench-1shot1: search spaces 1, 2 and 3 carved out of NAS-Bench-101."""
