"""The load tests' `run_cli` (a `rightsizer run` in a subprocess), for the fault runs."""

from tests.load.conftest import run_cli

__all__ = ["run_cli"]
