"""External tuning: the benchmark's protocol, better searches, and freezing a search space."""
