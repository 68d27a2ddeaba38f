"""Client manager benchmark: the full call pipeline vs. a bare ``grpc.aio`` stub call.

A child process (this script with ``--serve PORT``) serves ``GetStrategyStatus`` on a free
loopback port with a plain ``grpc.aio`` server that answers with a ready-made reply: an
echo-sized RPC (a short id in, a small status out), so that the client side is what is
measured. Both sides call the same server (no interceptor: neither side pays for server-side
tracing), with a deadline, each on its own channel with the same options. Prints each
figure, then (last line) one JSON object of ratios measured in this run:

- ``sequential_vs_bare``: one call at a time, ``manager.call`` (deadline, retry, breaker,
  statistics; no tracer provider) vs. the bare stub (target <= 1.05).
- ``sequential_traced_vs_bare``: the same with an OpenTelemetry SDK tracer provider, set up
  as a service would (a ``BatchSpanProcessor``) around a no-op exporter: per call a CLIENT
  span with its attributes, recorded, ended and queued for export, and ``traceparent``
  metadata (target <= 1.15).
- ``concurrent64_throughput_vs_bare``: calls per second with 64 concurrent callers, manager
  vs. bare (target >= 0.90).

Sequential latencies are measured call by call, subject and baseline alternating, and their
medians (p50) compared; throughput runs in many short rounds, alternating which goes first, and
the median round ratio is reported. So drift on a shared machine hits both alike, and a burst
of load elsewhere skews few ratios. Each side does all its work inside its own timed call (the
manager ends its span before it returns), so none of it is timed on the other side.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from tse_discovery.testing import free_port
from tse_interservice import (
    CLIENT_CHANNEL_OPTIONS,
    ClientSettings,
    InterServiceClientManager,
    to_proto,
)
from tse_interservice._clients import GET_STRATEGY_STATUS
from tse_interservice.proto import trading_pb2, trading_pb2_grpc
from tse_interservice.testing import NOW
from tse_models import StrategyState, StrategyStatus

from _timing import Call, alternating_latencies

ROUNDS = 15
CALLS = 300  # sequential calls per round, each side
CONCURRENCY = 64
CONCURRENT_CALLS = 640  # per round, spread over the callers
THROUGHPUT_ROUNDS = 71  # short rounds, many of them: each ratio compares neighbours in time
SERVICE = "trading-system-engine"
REQUEST = trading_pb2.GetStrategyStatusRequest(strategy_id="mm-1")


class NoOpExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def throughput(fn: Call) -> float:
    per_caller = CONCURRENT_CALLS // CONCURRENCY

    async def caller() -> None:
        for _ in range(per_caller):
            await fn()

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return per_caller * CONCURRENCY / (time.perf_counter() - start)


async def compare_throughput(subject: Call, baseline: Call) -> tuple[float, float, float]:
    """Median of per-round throughput ratios (who goes first alternates), and the median
    throughputs (calls per second)."""
    await throughput(subject)  # warm up both
    await throughput(baseline)
    ratios, subjects, bases = [], [], []
    for i in range(THROUGHPUT_ROUNDS):
        if i % 2:
            s, b = await throughput(subject), await throughput(baseline)
        else:
            b, s = await throughput(baseline), await throughput(subject)
        ratios.append(s / b)
        subjects.append(s)
        bases.append(b)
    return statistics.median(ratios), statistics.median(subjects), statistics.median(bases)


async def main(target: str) -> dict[str, float]:
    settings = ClientSettings(static_endpoints={SERVICE: [target]})
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(NoOpExporter()))
    async with (
        grpc.aio.insecure_channel(target, options=list(CLIENT_CHANNEL_OPTIONS)) as channel,
        InterServiceClientManager(settings=settings) as manager,
        InterServiceClientManager(settings=settings, tracer_provider=provider) as traced,
    ):
        stub = trading_pb2_grpc.TradingSystemEngineServiceStub(channel)

        async def bare() -> object:
            return await stub.GetStrategyStatus(REQUEST, timeout=5.0)

        async def managed() -> object:
            return await manager.call(SERVICE, GET_STRATEGY_STATUS, REQUEST)

        async def managed_traced() -> object:
            return await traced.call(SERVICE, GET_STRATEGY_STATUS, REQUEST)

        seq = await alternating_latencies(managed, bare, calls=ROUNDS * CALLS, warmup=CALLS)
        tr = await alternating_latencies(managed_traced, bare, calls=ROUNDS * CALLS, warmup=CALLS)
        conc, conc_s, conc_b = await compare_throughput(managed, bare)
    provider.shutdown()

    for name, figure in (("sequential", seq), ("sequential traced", tr)):
        print(
            f"{name}: p50 {figure.subject * 1e6:.0f} µs vs bare {figure.baseline * 1e6:.0f} µs"
            f" (ratio of means {figure.mean_ratio:.3f})"
        )
    print(f"{CONCURRENCY} concurrent: {conc_s:.0f} vs bare {conc_b:.0f} calls/s")
    return {
        "sequential_vs_bare": round(seq.ratio, 3),
        "sequential_traced_vs_bare": round(tr.ratio, 3),
        "concurrent64_throughput_vs_bare": round(conc, 3),
    }


class Echo(trading_pb2_grpc.TradingSystemEngineServiceServicer):
    reply = trading_pb2.GetStrategyStatusResponse(
        strategy=to_proto(StrategyStatus("mm-1", "market_making", StrategyState.RUNNING, NOW))  # type: ignore[arg-type]
    )

    async def GetStrategyStatus(  # noqa: N802 - gRPC method name
        self, request: trading_pb2.GetStrategyStatusRequest, context: Any
    ) -> trading_pb2.GetStrategyStatusResponse:
        return self.reply

    async def ListStrategies(  # noqa: N802
        self, request: trading_pb2.ListStrategiesRequest, context: Any
    ) -> trading_pb2.ListStrategiesResponse:
        return trading_pb2.ListStrategiesResponse()

    async def ListPositions(  # noqa: N802
        self, request: trading_pb2.ListPositionsRequest, context: Any
    ) -> trading_pb2.ListPositionsResponse:
        return trading_pb2.ListPositionsResponse()


async def serve(port: int) -> None:
    server = grpc.aio.server()
    trading_pb2_grpc.add_TradingSystemEngineServiceServicer_to_server(Echo(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(int(sys.argv[2])))
        sys.exit(0)
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        print(json.dumps(asyncio.run(main(f"127.0.0.1:{port}"))))
    finally:
        child.kill()
        child.wait()
