"""Is the 1-task answer repeatable? The demo's first search, N times, and the spread of its answer.

Each run is `rightsizer run --users auto` on the bundled uploader, one 0.25-vCPU task, with the
demo's own settings (rightsizer.demo.plan.DemoPlan: step time, warm-up, steps, SLO; `--quick`
for the quick demo's), each in a fresh temporary state directory. For each run it prints users
per task at the SLO (with the interval the search measured) and the knee; then the median, the
spread (the largest deviation from the median, in % of it) and whether every run lies within
10% of the median (the target of issue 12). The machine's load average is printed before and
after each run: on a shared machine the spread measures the neighbours too.

    .venv/bin/python bench/repeatability.py [--runs 3] [--quick] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rightsizer.analysis.answer import build_answer
from rightsizer.analysis.recorded_run import load_run
from rightsizer.demo.plan import DemoPlan

TARGET_SPREAD_PCT = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="searches to run (default 3)")
    parser.add_argument("--quick", action="store_true", help="the quick demo's settings")
    parser.add_argument("--keep", type=Path, help="copy each run's directory under this one")
    args = parser.parse_args()
    plan = DemoPlan(out=Path("runs"), quick=args.quick)
    users: list[float] = []
    for number in range(1, args.runs + 1):
        print(f"run {number}/{args.runs}: load average {_load()}", flush=True)
        found = _search(plan, args.keep and args.keep / f"run-{number}")
        if found is not None:
            users.append(found)
    if not users:
        print("no run measured users per task")
        return 1
    median = statistics.median(users)
    spread = max(abs(u - median) for u in users) / median * 100
    print(
        f"users per task: median {median:.0f}, runs {', '.join(f'{u:.0f}' for u in users)}, "
        f"spread {spread:.1f}% of the median (target <= {TARGET_SPREAD_PCT:g}%): "
        + ("within" if spread <= TARGET_SPREAD_PCT else "NOT within")
    )
    return 0 if spread <= TARGET_SPREAD_PCT else 1


def _search(plan: DemoPlan, keep: Path | None) -> float | None:
    """One 1-task search; prints its answer; returns users per task."""
    tasks = plan.task_counts[0]
    with tempfile.TemporaryDirectory(prefix="rightsizer-repeat-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RIGHTSIZER_", "LOCUST"))}
        env["RIGHTSIZER_STATE_DIR"] = f"{tmp}/state"
        command = [
            sys.executable, "-m", "rightsizer", "run", "--users", "auto",
            "--tasks", str(tasks), "--cpu", f"{plan.cpu:g}", "--memory", str(plan.memory),
            "--port", "0", "--lb", "roundrobin", "--step-time", f"{plan.step_time:g}",
            "--warmup", f"{plan.warmup:g}", "--max-steps", str(plan.max_steps(tasks)),
            "--slo-p95-ms", f"{plan.slo.p95_ms:g}", "--slo-failures", f"{plan.slo.failure_pct:g}",
            "--cooldown", "0", "--reset", "--no-report", "--out", f"{tmp}/runs",
        ]  # fmt: skip
        if (first := plan.first_users(tasks)) is not None:
            command += ["--search-from", str(first)]
        subprocess.run(command, cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
        (run_dir,) = Path(tmp, "runs").iterdir()
        run = load_run(run_dir)
        if keep is not None:
            shutil.copytree(run_dir, keep)
    answer = build_answer(run)
    steps = ", ".join(str(s.users) for s in run.steps)
    knee = "-" if answer.knee_users is None else f"{answer.knee_users:.0f}"
    found = answer.users_per_task
    print(
        f"  users per task {'-' if found is None else f'{found:.0f}'} "
        f"({answer.users_basis()}), knee {knee} (reached: {answer.knee_reached}); "
        f"steps {steps}; load average after {_load()}",
        flush=True,
    )
    return found


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} / {five:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
