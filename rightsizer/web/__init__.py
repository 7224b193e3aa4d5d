"""Locust's web UI for `rightsizer run --web`, with a "Tasks & alarms" tab.

Pure parts (no Locust, no Flask): `options` (flags, safety checks), `stats` (the tab's JSON),
`source` (the fleet's readings), `run_control` (what the UI may ask; the steps it sets are
rightsizer.load.ui_steps, since web imports nothing of load).
Flask parts: `blueprint` (routes and hooks), `auth` (login); the Locust part, imported only by
the process that runs the load: `server`.
"""
