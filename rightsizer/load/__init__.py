"""Step-load runs: Locust drives the target through a list of user counts, every request is
recorded exactly, and each step's client figures are joined to the tasks' metrics.

Pure parts (no Locust import, tested directly): `plan` (what to run), `records` (one request),
`client_series` (per-second client series), `step_stats` (per-step statistics), `run_facts`
(versions and the load's figures for rightsizer.manifest), `ui_steps` (the steps a user sets
in the web UI). Parts that run inside a Locust process: `shape`, `recorder`, `locust_driver`,
`worker`. The run itself (`execution.execute`) imports Locust only once the target is up,
because Locust monkey-patches the whole process on import.
"""
