"""NAS-Bench-101: model specs, the official graph hash, and a backend for a user's own data file."""
