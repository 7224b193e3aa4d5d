"""Faults done to a run's own fleet during the load, and what they did (faults.json)."""
