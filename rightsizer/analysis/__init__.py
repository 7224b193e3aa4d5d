"""What a run directory answers: the knee, users at the SLO, scaling (USL), capacity,
the limiting part, and run-to-run comparison.

Every function here is pure: frozen dataclasses or sequences in, frozen dataclasses out.
`rightsizer.analysis.recorded_run.load_run` is the one place that reads files.
"""
