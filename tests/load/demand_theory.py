"""What the operational laws predict for demand_app.py in a capped task, and the check of a run.

A closed system (N users who each send a request, wait for it, think Z seconds, repeat) with one
bottleneck of demand D per request obeys, whatever the distributions (Lazowska, Zahorjan,
Graham and Sevcik, "Quantitative System Performance", 1984, ch. 3 and 5; Jain, "The Art of
Computer Systems Performance Analysis", 1991, ch. 33):

    utilization law          U = X x D, and U <= C (the cap, in cores), so X <= Xmax = C / D
    Little's law             N = X x (R + Z)  over the whole loop (users thinking or waiting)
    response time law        R = N / X - Z    (the interactive form of Little's law)
    asymptotic bounds        X(N) <= min(N / (D/C + Z), C / D),  R(N) >= max(D/C, N D / C - Z)
    saturation point         N* = Xmax x (Z + D/C), where the two throughput bounds meet

Under a CFS quota a lone request runs at a full core's speed until the quota is spent, so at
low load R is nearer D than D/C; with Z = 1 s and D/C = 80 ms that moves N* by at most 6%.
The SLO bound: past N*, R = N / Xmax - Z grows by 1 / Xmax per user, so the mean reaches the
SLO at N = Xmax x (Z + SLO); the p95 is at least the mean, so the users at the SLO lie between
N* and that bound.

    w = Workload(demand_s=0.020, cap_cores=0.25, think_s=1.0)
    w.max_throughput, w.knee_users, w.slo_users(1.0)       # 12.5, 13.5, 25.0
    compare(w, run.steps, run.slo).failures()              # [] when the laws hold
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.slo_limit import users_at_slo
from rightsizer.analysis.step_points import load_points
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step

DEMAND_APP = Path(__file__).with_name("demand_app.py")
LOCUSTFILE = Path(__file__).with_name("demand_locustfile.py")
# The tolerances.
THROUGHPUT_TOLERANCE = 0.10
KNEE_TOLERANCE = 0.20


@dataclass(frozen=True)
class Workload:
    """D (`demand_s`, CPU seconds a request), C (`cap_cores`) and Z (`think_s`)."""

    demand_s: float
    cap_cores: float
    think_s: float

    @property
    def max_throughput(self) -> float:
        """Xmax = C / D: the cap spent on nothing but requests."""
        return self.cap_cores / self.demand_s

    @property
    def knee_users(self) -> float:
        """N* = Xmax x (Z + D/C)."""
        return self.max_throughput * (self.think_s + self.demand_s / self.cap_cores)

    def slo_users(self, slo_s: float) -> float:
        """Xmax x (Z + SLO): where the mean response time reaches the SLO."""
        return self.max_throughput * (self.think_s + slo_s)

    def throughput(self, users: float) -> float:
        """The asymptotic bound on X at `users`."""
        return min(users / (self.think_s + self.demand_s / self.cap_cores), self.max_throughput)

    def response_s(self, users: float) -> float:
        """The asymptotic bound on R at `users` (the response time law past N*)."""
        return max(self.demand_s / self.cap_cores, users / self.max_throughput - self.think_s)

    def task_cmd(self, python: str = sys.executable) -> str:
        return f"{python} {DEMAND_APP} --port {{port}} --demand-ms {self.demand_s * 1000:g}"


@dataclass(frozen=True)
class Comparison:
    """A run's measured figures next to the workload's predicted ones."""

    workload: Workload
    slo: Slo
    peak_throughput: float | None
    knee_users: float | None
    knee_reached: bool
    slo_users: float | None
    slo_broke: bool

    def failures(self) -> list[str]:
        """Each law the run did not meet, in a sentence; empty when all hold."""
        w, out = self.workload, []
        if self.peak_throughput is None or not _near(
            self.peak_throughput, w.max_throughput, THROUGHPUT_TOLERANCE
        ):
            out.append(f"peak throughput {self.peak_throughput} rps, C/D {w.max_throughput:.2f}")
        if not self.knee_reached or not _near(self.knee_users, w.knee_users, KNEE_TOLERANCE):
            out.append(
                f"knee {self.knee_users} users (reached {self.knee_reached}), N* {w.knee_users:.1f}"
            )
        high = w.slo_users(self.slo.p95_ms / 1000)
        if not (self.slo_broke and self.slo_users and w.knee_users <= self.slo_users <= high):
            out.append(
                f"users at the SLO {self.slo_users} (broke {self.slo_broke}), "
                f"expected {w.knee_users:.1f}..{high:.1f}"
            )
        return out


def compare(workload: Workload, steps: Sequence[Step], slo: Slo) -> Comparison:
    """Measure `steps` the way the report does (find_knee, users_at_slo)."""
    knee = find_knee(load_points(steps))
    limit = users_at_slo(steps, slo)
    return Comparison(
        workload,
        slo,
        peak_throughput=knee.peak_throughput if knee else None,
        knee_users=knee.users if knee else None,
        knee_reached=bool(knee and knee.reached),
        slo_users=limit.users,
        slo_broke=limit.broke,
    )


def measure_overhead(requests: int = 300) -> float:
    """CPU seconds demand_app spends per request beyond D (HTTP parsing, threads, hand-off to
    the burner), measured on an uncapped instance with D = 0 over `requests` keep-alive GETs."""
    command = [sys.executable, str(DEMAND_APP), "--port", "0", "--demand-ms", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline().split()[-1])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            before = _stats(conn)
            for _ in range(requests):
                conn.request("GET", "/work")
                conn.getresponse().read()
            after = _stats(conn)
            conn.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    done = after["requests"] - before["requests"]
    return float(after["process_cpu_s"] - before["process_cpu_s"]) / done


def _stats(conn: http.client.HTTPConnection) -> dict[str, float]:
    conn.request("GET", "/stats")
    stats: dict[str, float] = json.loads(conn.getresponse().read())
    return stats


def _near(measured: float | None, expected: float, tolerance: float) -> bool:
    return measured is not None and abs(measured - expected) <= tolerance * expected
