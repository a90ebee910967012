"""Benchmarks: `python bench/<name>.py [--quick]`, each printing one JSON line of figures.

See `bench/README.md` for what each one measures and why it is measured that way.
"""
