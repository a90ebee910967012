"""Reliability and security suites (issue 5): run them alone with `pytest -m reliability`."""
