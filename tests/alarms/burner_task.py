"""A fleet task that idles until told to burn: tests/fleet/task_app.py's server and burner,
with the burn starting once a file exists (so a live alarm sees OK first, then the crossing).

    python tests/alarms/burner_task.py --port 8000 --burn 0.8 --cpu 0.25 --burn-when FILE
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script by the fleet

from tests.fleet.task_app import Handler, burn


def burn_when(flag: Path, share: float) -> None:
    while not flag.exists():
        time.sleep(0.05)
    burn(share)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--burn", type=float, required=True, help="fraction of --cpu to use")
    parser.add_argument("--cpu", type=float, default=0.25)
    parser.add_argument("--burn-when", type=Path, required=True)
    args = parser.parse_args()
    share = args.burn * args.cpu
    threading.Thread(target=burn_when, args=(args.burn_when, share), daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
