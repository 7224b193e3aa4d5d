"""A real Prometheus server (/usr/bin/prometheus) scraping a stand-in for a Kubernetes node.

The stand-in is the protocol seam: where a cluster has a kubelet serving cAdvisor's
/metrics/cadvisor and kube-state-metrics serving /metrics, a loopback HTTP server here serves
text in their formats, with the figures of PODS. Prometheus scrapes both every second, stores
them in a temporary directory, and answers queries as it would in a cluster.

    with Node() as node, PrometheusServer(tmp, node.url) as prometheus:
        prometheus.url   # http://127.0.0.1:PORT, ready, with both targets scraped
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import httpx

from tests.parts import PROMETHEUS
from tests.waiting import poll_until

MIB = 1024 * 1024


@dataclass(frozen=True)
class Container:
    """One container: CPU it burns (cores, constant), working set (bytes), its limits."""

    name: str
    cores: float
    memory: int
    cpu_limit: float | None = None
    memory_limit: int | None = None


@dataclass(frozen=True)
class FakePod:
    namespace: str
    name: str
    containers: tuple[Container, ...]


PODS = (
    FakePod("shop", "uploader-a", (
        Container("app", 0.10, 200 * MIB, 0.25, 384 * MIB),
        Container("sidecar", 0.02, 56 * MIB, 0.05, 128 * MIB),
    )),
    FakePod("shop", "uploader-b", (
        Container("app", 0.06, 128 * MIB, 0.25, 512 * MIB),
        Container("sidecar", 0.01, 8 * MIB),  # no limits: adds nothing to the pod's
    )),
    FakePod("shop", "uploader-c", (Container("app", 0.05, 64 * MIB),)),  # no limits at all
    # Not the service: another namespace, another name.
    FakePod("other", "uploader-x", (Container("app", 0.9, 900 * MIB, 1.0, 1024 * MIB),)),
    FakePod("shop", "cart-1", (Container("app", 0.7, 700 * MIB, 1.0, 1024 * MIB),)),
)  # fmt: skip


def cadvisor_text(pods: tuple[FakePod, ...], origin: float, now: float) -> str:
    """cAdvisor's series at `now`, stamped (as cAdvisor does) in milliseconds; each CPU
    counter grows at its container's rate since `origin`. Also the lines a query must leave
    out: each pod's own cgroup (container="") and its pause container (container="POD")."""
    stamp = int(now * 1000)
    elapsed = stamp / 1000 - origin
    lines = [
        "# TYPE container_cpu_usage_seconds_total counter",
        "# TYPE container_memory_working_set_bytes gauge",
    ]
    for pod in pods:
        rows = [(c.name, c.cores, c.memory) for c in pod.containers]
        total_cores = sum(c.cores for c in pod.containers)
        rows += [("", total_cores, sum(c.memory for c in pod.containers)), ("POD", 0.5, 50 * MIB)]
        for name, cores, memory in rows:
            labels = f'container="{name}",namespace="{pod.namespace}",pod="{pod.name}"'
            lines.append(
                f'container_cpu_usage_seconds_total{{{labels},cpu="total"}} '
                f"{cores * elapsed!r} {stamp}"
            )
            lines.append(f"container_memory_working_set_bytes{{{labels}}} {memory} {stamp}")
    return "\n".join(lines) + "\n"


def kube_state_text(pods: tuple[FakePod, ...]) -> str:
    """kube-state-metrics' limits of the containers that have them."""
    lines = ["# TYPE kube_pod_container_resource_limits gauge"]
    for pod in pods:
        for c in pod.containers:
            labels = f'container="{c.name}",namespace="{pod.namespace}",node="n1",pod="{pod.name}"'
            if c.cpu_limit is not None:
                lines.append(
                    f'kube_pod_container_resource_limits{{{labels},resource="cpu",unit="core"}} '
                    f"{c.cpu_limit!r}"
                )
            if c.memory_limit is not None:
                lines.append(
                    f'kube_pod_container_resource_limits{{{labels},resource="memory",'
                    f'unit="byte"}} {c.memory_limit}'
                )
    return "\n".join(lines) + "\n"


class Node:
    """The stand-in for a node's kubelet and kube-state-metrics, on a free loopback port."""

    def __init__(self, pods: tuple[FakePod, ...] = PODS) -> None:
        origin = time.time() - 1000.0  # the containers started a while ago

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics/cadvisor":
                    body = cadvisor_text(pods, origin, time.time())
                elif self.path == "/metrics":
                    body = kube_state_text(pods)
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.address}"

    def __enter__(self) -> Node:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()


_LISTENING = re.compile(r'msg="Listening on" address=(\S+)')
CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kubelet-cadvisor
    metrics_path: /metrics/cadvisor
    static_configs: [{{targets: ["{node}"]}}]
  - job_name: kube-state-metrics
    metrics_path: /metrics
    static_configs: [{{targets: ["{node}"]}}]
"""


class PrometheusServer:
    """/usr/bin/prometheus on a port of its choosing (port 0, read back from its log), with a
    temporary configuration and storage; killed by its PID on exit. A subclass may scrape
    other targets (`config`, with `{node}`) and wait for its own series (`_scraped`)."""

    config = CONFIG

    def __init__(self, workdir: Path, node_address: str) -> None:
        self.workdir = workdir
        self.node_address = node_address
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrometheusServer:
        config = self.workdir / "prometheus.yml"
        config.write_text(self.config.format(node=self.node_address))
        log = self.workdir / "prometheus.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(PROMETHEUS), f"--config.file={config}",
                 f"--storage.tsdb.path={self.workdir / 'data'}",
                 "--web.listen-address=127.0.0.1:0", "--log.level=info"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            poll_until(lambda: self._address(log) or self.process_ended(), 30, "its address")
            if self.process_ended():
                raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
            self.url = f"http://{self._address(log)}"
            poll_until(self._ready, 30, "Prometheus's /-/ready")
            poll_until(self._scraped, 30, "both targets scraped twice (a rate has values)")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def process_ended(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        """SIGTERM to its PID, SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    @staticmethod
    def _address(log: Path) -> str | None:
        found = _LISTENING.search(log.read_text(errors="replace")) if log.is_file() else None
        return found.group(1) if found else None

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def query(self, expr: str) -> list[dict[str, object]]:
        reply = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        result: list[dict[str, object]] = reply.json()["data"]["result"]
        return result

    def _scraped(self) -> bool:
        rates = self.query('rate(container_cpu_usage_seconds_total{pod="uploader-a"}[4s])')
        limits = self.query("kube_pod_container_resource_limits")
        return bool(rates) and bool(limits)
