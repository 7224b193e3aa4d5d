"""How long does `rightsizer size` take on three sizes? Issue 15's targets: within 10 minutes,
`--quick` within 4, on this machine.

Runs `rightsizer size --sizes 0.25/512,0.5/1024,1/2048` (with `--quick` when asked) on the
bundled uploader in a fresh temporary state directory, prints its answer's sentence, the wall
time against the target, and the machine's load average before and after (on a shared machine
the time measures the neighbours too).

    .venv/bin/python bench/size.py [--quick] [--sizes 0.25/512,0.5/1024,1/2048] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rightsizer.sizing.sizes_document import SizesDocument

SIZES = "0.25/512,0.5/1024,1/2048"
TARGET_S = {False: 600.0, True: 240.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="`size --quick`")
    parser.add_argument("--sizes", default=SIZES, help=f"sizes (default {SIZES})")
    parser.add_argument("--keep", type=Path, help="copy the sweep's directory here")
    args = parser.parse_args()
    print(f"load average before: {_load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="rightsizer-bench-size-") as scratch:
        root = Path(scratch)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIGHTSIZER_")}
        env["RIGHTSIZER_STATE_DIR"] = str(root / "state")
        command = [sys.executable, "-m", "rightsizer", "size", "--sizes", args.sizes,
                   "--no-report", "--out", str(root / "runs")]  # fmt: skip
        if args.quick:
            command.append("--quick")
        started = time.monotonic()
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              check=False)  # fmt: skip
        wall = time.monotonic() - started
        if done.returncode != 0:
            print(done.stderr[-2000:])
            print(f"size failed (exit code {done.returncode}) after {wall:.0f} s")
            return 1
        [directory] = (root / "runs").iterdir()
        sized = SizesDocument.from_json(json.loads((directory / "sizes.json").read_text()))
        if args.keep:
            shutil.copytree(directory, args.keep / directory.name)
    target = TARGET_S[args.quick]
    print(sized.sentence())
    for row in sized.rows:
        users = row.measured.users_per_task
        print(f"  {row.size}: {users} users per task, limited by {row.limiter.value}")
    print(f"load average after: {_load()}")
    verdict = "within" if wall <= target else "NOT within"
    print(f"size{' --quick' if args.quick else ''} on {args.sizes}: {wall:.0f} s "
          f"(target <= {target:.0f} s): {verdict}")  # fmt: skip
    return 0 if wall <= target else 1


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
