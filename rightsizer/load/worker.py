"""A Locust worker that also ships every request to the master: `python -m rightsizer.load.worker`.

It is `locust --worker` with rightsizer's recorder installed; every Locust option works:

    python -m rightsizer.load.worker --master-host 10.0.0.5 -f locustfile.py

`rightsizer run --workers N` starts N of these locally; run more on other machines and tell the
run to wait for them with `--expect-workers M` (see the README).
"""

from __future__ import annotations

import sys
from typing import Any


def main(argv: list[str] | None = None) -> None:
    """Run Locust's own main as a worker, with the recorder added at its `init` event."""
    # Locust monkey-patches the process on import: only when a worker really starts.
    import locust  # noqa: PLC0415
    from locust.main import main as locust_main  # noqa: PLC0415

    from rightsizer.load.recorder import ship_from_worker  # noqa: PLC0415

    def on_init(environment: Any, **_: Any) -> None:
        ship_from_worker(environment)

    locust.events.init.add_listener(on_init)  # type: ignore[no-untyped-call]
    sys.argv = ["locust", "--worker", *(sys.argv[1:] if argv is None else argv)]
    locust_main()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
