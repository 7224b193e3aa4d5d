"""Which part limits a run, named from its measurements, with the numbers that say so.

The examined step is the first bad one by the limit rule (rightsizer.analysis.limit: it broke
the SLO or was past the knee, where users started to suffer), or the highest step when none
was. The rules, in order:

1. the generator: that step is generator-bound or the generator used >= 85% of a core, so
   the figures describe the load generator more than the service; then this machine, when
   rightsizer.analysis.rig finds the rig was the limit at that step;
2. nothing yet: no step was past the limit (the SLO held and throughput still grew);
3. tasks' CPU: the service average >= 85% of the reservation (or the busiest task >= 95%);
4. tasks' memory: >= 90% of the limit (MemoryUtilization leaves out the inactive page cache,
   as Docker and the ECS agent count it, so a task that merely wrote files is not "full");
5. HAProxy: clients waited much longer than HAProxy saw the tasks answer (time is spent in
   the load balancer's queue);
6. the shared database: tasks have CPU to spare and HAProxy adds little, yet throughput is
   flat and latency grows: the tasks wait on what they share. This one is inferred, since the
   database is not sampled; the evidence says so.

    name_bottleneck(run).summary   # "tasks' CPU: 98% of the reservation at 20 users ..."
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rightsizer.analysis.knee import Knee
from rightsizer.analysis.limit import limit_of_steps
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.rig import check_rig
from rightsizer.stepsfile import Step

GENERATOR_BUSY_PCT = 85.0
CPU_BUSY_PCT = 85.0
CPU_TASK_BUSY_PCT = 95.0
MEMORY_FULL_PCT = 90.0
LB_QUEUE_MIN_MS = 20.0


class Part(Enum):
    """What limits throughput; the value reads as a noun phrase."""

    GENERATOR = "the load generator"
    MACHINE = "this machine (the rig)"
    NOTHING_YET = "nothing yet"
    TASK_CPU = "tasks' CPU"
    TASK_MEMORY = "tasks' memory"
    LOAD_BALANCER = "HAProxy"
    DATABASE = "the shared database"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Bottleneck:
    """`part` limits the run; `evidence` holds the figures, `users` the examined step."""

    part: Part
    evidence: tuple[str, ...]
    users: int | None = None

    @property
    def summary(self) -> str:
        return f"{self.part.value}: " + "; ".join(self.evidence)


def name_bottleneck(run: RecordedRun) -> Bottleneck:
    """Apply the rules above to `run`."""
    if not run.steps:
        return Bottleneck(Part.UNKNOWN, ("no step was recorded",))
    limit = limit_of_steps(run.steps, run.slo)
    knee = limit.knee
    first_bad = limit.first_bad
    step = next((s for s in run.steps if first_bad and s.index == first_bad.index), None)
    step = step or max(run.steps, key=lambda s: (s.users, s.index))
    generator = step.generator_cpu or 0.0
    if step.generator_bound or generator >= GENERATOR_BUSY_PCT:
        used = f"the generator used {generator:.0f}% of a core {_at(step)}"
        return Bottleneck(Part.GENERATOR, (used, "add load workers"), step.users)
    machine = next((s for s in check_rig(run).steps if s.index == step.index and s.bound), None)
    if machine is not None:  # tasks waited for a core, not their quota (analysis/rig.py)
        return Bottleneck(Part.MACHINE, (*machine.reasons, "use fewer tasks or a larger machine"))
    if not limit.reached:
        held = f"the SLO held and throughput still grew with users up to {step.users}"
        return Bottleneck(Part.NOTHING_YET, (held,), step.users)
    context = (_flat(knee) if knee and knee.reached else "", _latency(step))
    for rule in (_task_cpu, _task_memory, _lb_queue, _shared):
        found = rule(run, step)
        if found is not None:
            return Bottleneck(found[0], _keep((found[1], *context)), step.users)
    raise AssertionError("_shared always names a part")


_Found = tuple[Part, str] | None


def _at(step: Step) -> str:
    return f"at {step.users} users"


def _task_cpu(_: RecordedRun, step: Step) -> _Found:
    cpu, busiest = step.cpu_utilization, step.cpu_utilization_max
    if cpu is None or (cpu < CPU_BUSY_PCT and (busiest or 0.0) < CPU_TASK_BUSY_PCT):
        return None
    detail = f" (busiest task {busiest:.0f}%)" if busiest is not None else ""
    return Part.TASK_CPU, f"{cpu:.0f}% of the CPU reservation on average{detail} {_at(step)}"


def _task_memory(_: RecordedRun, step: Step) -> _Found:
    memory = step.memory_utilization
    if memory is None or memory < MEMORY_FULL_PCT:
        return None
    return Part.TASK_MEMORY, f"memory at {memory:.0f}% of the limit {_at(step)}"


def _shared(_: RecordedRun, step: Step) -> _Found:
    if step.cpu_utilization is None:
        return Part.UNKNOWN, "no task CPU was measured, so the limit cannot be named"
    return Part.DATABASE, (
        f"inferred: tasks used only {step.cpu_utilization:.0f}% of their CPU {_at(step)} and "
        "HAProxy added little, so they wait on what they share"
    )


def _keep(evidence: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(e for e in evidence if e)


def _flat(knee: Knee) -> str:
    return (
        f"throughput stops growing at about {knee.peak_throughput:.1f} rps "
        f"(knee at {knee.users:.0f} users)"
    )


def _latency(step: Step) -> str:
    return f"p95 {step.p95_ms / 1000:.2f} s" if step.p95_ms is not None else ""


def _lb_queue(run: RecordedRun, step: Step) -> _Found:
    """Evidence that requests wait in HAProxy: client mean latency well above HAProxy's view of
    the tasks' response time, in the step's steady window."""
    window = step.window
    if window is None:
        return None
    client = run.latency.window(*window).mean()
    backend = run.lb_response_time.window(*window).mean()
    if client is None or backend is None:
        return None
    backend_ms = backend * 1000
    if client - backend_ms > max(LB_QUEUE_MIN_MS, client / 2):
        return Part.LOAD_BALANCER, (
            f"clients waited {client:.0f} ms on average but the tasks answered HAProxy in "
            f"{backend_ms:.0f} ms {_at(step)}"
        )
    return None
