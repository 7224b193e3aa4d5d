"""The fleet: N capped task processes behind HAProxy, replaced when they die, sampled each tick."""
