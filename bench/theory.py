"""Does rightsizer measure what the operational laws predict? The known-demand check, longer.

A service that burns D ms of CPU per request (tests/load/demand_app.py) runs as one task capped
at C vCPU behind HAProxy; users GET, think Z seconds, repeat (a closed workload). The laws
(Little's law N = X (R + Z), the interactive response time law R = N / X - Z, the utilization
law U = X D; Lazowska et al., "Quantitative System Performance", 1984, ch. 3 and 5; Jain, "The
Art of Computer Systems Performance Analysis", 1991, ch. 33) predict

    Xmax = C / D,   N* = Xmax x (Z + D/C),   users at the SLO in [N*, Xmax x (Z + SLO)]

and per step X(N) = min(N / (Z + D/C), Xmax), R(N) = max(D/C, N / Xmax - Z). This script runs
`rightsizer run` over steps on both sides of N*, then prints, per step, predicted against
measured, and the three checks of tests/load/test_theory.py (throughput within 10%, knee within
20%, users at the SLO in range), with the service's own overhead per request (measured) and the
machine's load average, since a busy machine shows here first.

    .venv/bin/python bench/theory.py [--demand-ms 20] [--cpu 0.25] [--think 1]
                                     [--users 4,8,12,16,20,24,32] [--step-time 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The service and the laws live with the test that checks them (tests/load/).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rightsizer.analysis.recorded_run import RecordedRun, load_run
from rightsizer.analysis.rig import RigCheck, check_rig
from tests.load.demand_theory import LOCUSTFILE, Workload, compare, measure_overhead


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demand-ms", type=float, default=20.0, help="D, CPU ms per request")
    parser.add_argument("--cpu", type=float, default=0.25, help="C, the task's vCPU cap")
    parser.add_argument("--think", type=float, default=1.0, help="Z, seconds between requests")
    parser.add_argument("--users", default="4,8,12,16,20,24,32", help="users per step")
    parser.add_argument("--step-time", type=float, default=20.0, help="seconds per step")
    args = parser.parse_args()
    workload = Workload(args.demand_ms / 1000, args.cpu, args.think)
    overhead = measure_overhead()
    print(f"load average before: {_load()}")
    print(
        f"D {args.demand_ms:g} ms (+ {overhead * 1000:.2f} ms the service's own, measured), "
        f"C {args.cpu:g} vCPU, Z {args.think:g} s: Xmax = C/D = {workload.max_throughput:.2f} "
        f"rps (with the overhead {args.cpu / (workload.demand_s + overhead):.2f}), "
        f"N* = {workload.knee_users:.1f} users"
    )
    run, rig = _run(workload, args.users, args.step_time)
    print(f"load average after: {_load()}")
    _print_steps(workload, run)
    comparison = compare(workload, run.steps, run.slo)
    high = workload.slo_users(run.slo.p95_ms / 1000)
    print(
        f"peak throughput  predicted {workload.max_throughput:7.2f} rps   "
        f"measured {_fmt(comparison.peak_throughput, '.2f')} rps\n"
        f"knee N*          predicted {workload.knee_users:7.1f} users "
        f"measured {_fmt(comparison.knee_users, '.1f')} users "
        f"(reached: {comparison.knee_reached})\n"
        f"users at the SLO predicted {workload.knee_users:.1f}..{high:.1f}  "
        f"measured {_fmt(comparison.slo_users, '.1f')} (SLO broke: {comparison.slo_broke})"
    )
    print(f"rig check: {rig.note() or 'the machine was not the limit'} (measured: {rig.measured})")
    failures = comparison.failures()
    print("the laws hold" if not failures else "NOT as predicted: " + "; ".join(failures))
    return 0 if not failures else 1


def _run(workload: Workload, users: str, step_time: float) -> tuple[RecordedRun, RigCheck]:
    with tempfile.TemporaryDirectory(prefix="rightsizer-theory-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RIGHTSIZER_", "LOCUST"))}
        env |= {"RIGHTSIZER_STATE_DIR": f"{tmp}/state", "DEMAND_THINK_S": f"{workload.think_s:g}"}
        command = [
            sys.executable, "-m", "rightsizer", "run", "-f", str(LOCUSTFILE),
            "--task-cmd", workload.task_cmd(), "--tasks", "1", "--cpu", f"{workload.cap_cores:g}",
            "--users", users, "--step-time", f"{step_time:g}", "--port", "0",
            "--cooldown", "0", "--no-report", "--out", f"{tmp}/runs",
        ]  # fmt: skip
        subprocess.run(command, cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
        (run_dir,) = Path(tmp, "runs").iterdir()
        run = load_run(run_dir)
        return run, check_rig(run)


def _print_steps(workload: Workload, run: RecordedRun) -> None:
    print(
        f"{'users':>6} {'X pred':>7} {'X meas':>7} {'R pred ms':>10} {'R mean ms':>10} "
        f"{'p95 ms':>7} {'CPU %':>6}"
    )
    for step in sorted(run.steps, key=lambda s: s.users):
        window = step.window
        mean = run.latency.window(*window).mean() if window else None
        print(
            f"{step.users:>6} {workload.throughput(step.users):>7.2f} {_fmt(step.rps, '.2f'):>7} "
            f"{workload.response_s(step.users) * 1000:>10.0f} {_fmt(mean, '.0f'):>10} "
            f"{_fmt(step.p95_ms, '.0f'):>7} {_fmt(step.cpu_utilization, '.0f'):>6}"
        )


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
