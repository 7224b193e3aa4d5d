"""HAProxy's configuration for a fleet, playing the ALB: one frontend, one backend of tasks.

Health checks (`GET /healthz`, 200 expected) every second, down after 3 failures and up after 1
success. A dead task refuses the check's connection at once, so it leaves the rotation within
about three seconds (a refused connection on real traffic marks it down at once: `observe
layer4`; and the supervisor sets a task that exits to maintenance as soon as it sees the exit).
A task that is merely saturated answers its check late: a check times out only after 10 s and
three must fail in a row, so only a task stuck for half a minute leaves, as with an ALB's
generous defaults. Taking the only busy task out would turn slow answers into 503s for everyone.
`option redispatch` with `retries` sends a request whose connection failed to another task, so
clients keep succeeding while a task is replaced. Each task is a server named `t<slot>`; a
replacement gets a new port, set through the runtime API (`set server tasks/t2 addr ...`)
without a reload.

Each task takes at most `server_maxconn` requests at once; the rest wait in HAProxy's queue, in
arrival order, for up to `queue_timeout_s` (then 503). Without the limit HAProxy opened a
connection per waiting request and a saturated task left hundreds of them unaccepted in its
kernel listen queue, where they waited unseen and out of order: at 800 users on 0.25 vCPU, p50
0.7 s but p90 17 s. A queue in HAProxy is first come, first served and shows in `show stat`
(qcur, qmax, qtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FRONTEND = "rightsizer"
BACKEND = "tasks"


def server_name(slot: int) -> str:
    return f"t{slot}"


@dataclass(frozen=True)
class LbConfig:
    """Everything the rendered configuration depends on."""

    port: int
    servers: tuple[tuple[str, int], ...]
    socket: Path
    algorithm: str = "roundrobin"
    health_path: str = "/healthz"
    keepalive: float = 75.0
    check_interval_ms: int = 1000
    check_timeout_ms: int = 10000
    fall: int = 3
    rise: int = 1
    server_timeout_s: int = 120
    server_maxconn: int = 32  # requests a task serves at once; enough to keep a small one busy
    queue_timeout_s: int = 60  # as long as an ALB's idle timeout: queueing is not failing


def render(config: LbConfig) -> str:
    """The configuration text (`haproxy -c -f` accepts it)."""
    keepalive_ms = max(6000, round(config.keepalive * 1000))  # longer than Locust's 5 s waits
    lines = [
        "global",
        f"    stats socket {config.socket} mode 600 level admin",
        "    stats timeout 10s",
        "    nbthread 1",
        "",
        "defaults",
        "    mode http",
        "    option http-keep-alive",
        "    timeout connect 2s",
        f"    timeout client {keepalive_ms}ms",
        f"    timeout http-keep-alive {keepalive_ms}ms",
        f"    timeout server {config.server_timeout_s}s",
        f"    timeout check {config.check_timeout_ms}ms",
        f"    timeout queue {config.queue_timeout_s}s",
        "    option redispatch",
        "    retries 3",
        "    retry-on conn-failure empty-response",
        "",
        f"frontend {FRONTEND}",
        f"    bind 127.0.0.1:{config.port}",
        f"    default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        f"    balance {config.algorithm}",
        f"    option httpchk GET {config.health_path}",
        "    http-check expect status 200",
        # A request with a body may already have reached a dying task: never send it twice.
        "    http-request disable-l7-retry if !METH_GET",
        f"    default-server inter {config.check_interval_ms}ms fall {config.fall} "
        f"rise {config.rise} observe layer4 error-limit 1 on-error mark-down "
        f"maxconn {config.server_maxconn}",
    ]
    lines += [f"    server {name} 127.0.0.1:{port} check" for name, port in config.servers]
    return "\n".join(lines) + "\n"
