"""Locust's web UI for `rightsizer run --web`, with a "Tasks & alarms" tab.

Pure parts (no Locust, no Flask): `options` (flags, safety checks), `stats` (the tab's JSON),
`source` (the fleet's readings), `steps` (steps the UI sets), `control` (what the UI may ask).
Flask parts: `blueprint` (routes and hooks), `auth` (login); the Locust part, imported only by
the process that runs the load: `server`.
"""
