"""Timing helpers shared by the benchmarks: subject and baseline always run interleaved in the
same process, so drift on a shared machine hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple

Call = Callable[[], Awaitable[object]]


class Latencies(NamedTuple):
    """Subject vs. baseline, call by call (seconds)."""

    ratio: float  # p50 of subject / p50 of baseline: the figure
    subject: float  # p50
    baseline: float  # p50
    mean_ratio: float  # mean of subject / mean of baseline, printed beside the figure


async def alternating_latencies(
    subject: Call, baseline: Call, *, calls: int, warmup: int
) -> Latencies:
    """Time ``calls`` calls of each, alternating one by one (who goes first alternates too),
    after ``warmup`` untimed calls of each.

    The median of single calls is what a burst of load elsewhere moves least: a burst skews a
    few calls on both sides, not the middle one; the ratio of means takes in every outlier.
    """
    for _ in range(warmup):
        await subject()
        await baseline()
    subjects: list[float] = []
    bases: list[float] = []
    clock = time.perf_counter
    for i in range(calls):
        pair = ((subject, subjects), (baseline, bases))
        for fn, out in pair if i % 2 else pair[::-1]:
            start = clock()
            await fn()
            out.append(clock() - start)
    s, b = statistics.median(subjects), statistics.median(bases)
    return Latencies(s / b, s, b, statistics.fmean(subjects) / statistics.fmean(bases))
