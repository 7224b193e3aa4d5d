"""cgroups: find our own groups, make capped task groups (v1 or v2), read them, sweep leftovers."""
