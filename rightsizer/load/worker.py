"""A Locust worker that also ships every request to the master: `python -m rightsizer.load.worker`.

It is `locust --worker` with rightsizer's recorder and handshake installed; every Locust option
works:

    python -m rightsizer.load.worker --master-host 10.0.0.5 -f locustfile.py

`rightsizer run --workers N` starts N of these locally; `rightsizer worker --master HOST:PORT`
starts them on other machines (rightsizer.load.worker_pool), and the run waits for them with
`--expect-workers M` (see the README). Once connected, the worker says hello with its versions
and its locustfile's digest; a master that finds them different refuses it, and it exits with
code 2 (rightsizer.load.handshake).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> None:
    """Run Locust's own main as a worker, with the recorder added at its `init` event."""
    # Locust monkey-patches the process on import: only when a worker really starts.
    import locust  # noqa: PLC0415
    from locust.main import main as locust_main  # noqa: PLC0415

    from rightsizer.load.handshake import Identity, install_worker  # noqa: PLC0415
    from rightsizer.load.recorder import ship_from_worker  # noqa: PLC0415

    def on_init(environment: Any, **_: Any) -> None:
        ship_from_worker(environment)
        (locustfile, *_others) = environment.parsed_locustfiles
        install_worker(environment, Identity.of(Path(locustfile)))

    locust.events.init.add_listener(on_init)  # type: ignore[no-untyped-call]
    sys.argv = ["locust", "--worker", *(sys.argv[1:] if argv is None else argv)]
    locust_main()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
