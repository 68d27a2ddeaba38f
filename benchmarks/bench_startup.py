"""Start-up of each service: spawn → registered in Redis and gRPC health SERVING.

Starts a redis-server and the configuration service, then spawns each service ``RUNS`` times
(one at a time, the others not running) and times, from ``Popen``, the moment its registry
record exists and ``grpc.health.v1`` answers SERVING (for the configuration service, which
has no gRPC side: its record exists and ``/api/v1/health`` answers). The baseline, run
interleaved in the same process, is the spawn of a bare interpreter (``python -c pass``).

Prints each figure, then (last line) one JSON object: per service the median seconds
(``<service>_s``, target <= 1.5) and the ratio to the bare interpreter (``<service>_vs_bare``).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]

from tse_discovery.testing import RedisServer
from tse_runtime.local import LocalStack, ServiceProcess

RUNS = 7
SERVICES = ("configuration-service", "trading-system-engine", "risk-monitor", "test-coordinator")


def serving(process: ServiceProcess) -> bool:
    if not process.grpc_port:
        try:
            with urllib.request.urlopen(process.http_url + "/api/v1/health", timeout=0.5):
                return True
        except OSError:
            return False
    with grpc.insecure_channel(process.grpc_target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=0.5
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def time_start(process: ServiceProcess) -> float:
    process.start()
    while True:
        if not process.running:
            raise RuntimeError(f"{process.name} exited{process.log_tail()}")
        if process.find_ports() and serving(process):  # its record, with its own pid
            elapsed = time.monotonic() - process.started_at
            break
        time.sleep(0.005)
    process.stop()
    return elapsed


def bare() -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        stack = LocalStack(Path(workdir), redis=RedisServer())
        stack.redis.start()
        config = stack.services["configuration-service"]
        results: dict[str, list[float]] = {name: [] for name in SERVICES}
        baseline: list[float] = []
        try:
            for _ in range(RUNS):
                baseline.append(bare())
                results["configuration-service"].append(time_start(config))
            config.start()
            config.wait_ready(30)
            for name in SERVICES[1:]:
                for _ in range(RUNS):
                    baseline.append(bare())
                    results[name].append(time_start(stack.services[name]))
        finally:
            stack.stop()
    bare_s = statistics.median(baseline)
    figures: dict[str, float] = {}
    print(f"bare interpreter spawn: {bare_s * 1000:.0f} ms")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name}: spawn → registered and SERVING, median {median:.2f}s "
              f"(min {min(times):.2f}, max {max(times):.2f}; {RUNS} runs)")  # fmt: skip
        figures[f"{name}_s"] = round(median, 3)
        figures[f"{name}_vs_bare"] = round(median / bare_s, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
