"""Process-wide counters and latency summaries, rendered as Prometheus text by ``GET /metrics``.

Cheap enough for every RPC: one lock, a few float additions. Latency buckets follow Prometheus's defaults.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, float] = defaultdict(float)
        self.latency: dict[tuple[str, str], list] = {}   # (family, label) -> [count, sum, bucket counts]

    def add(self, name: str, value: float = 1.0) -> None:
        with self._lock:
            self.counters[name] += value

    def observe(self, family: str, label: str, seconds: float) -> None:
        with self._lock:
            entry = self.latency.get((family, label))
            if entry is None:
                entry = self.latency[(family, label)] = [0, 0.0, [0] * len(BUCKETS)]
            entry[0] += 1
            entry[1] += seconds
            index = bisect.bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                entry[2][index] += 1

    def render(self, gauges: dict[str, list[tuple[dict[str, str], float]]]) -> str:
        """Prometheus text format: the given gauges, then counters and latency histograms."""
        lines: list[str] = []
        for name, samples in gauges.items():
            lines.append(f"# TYPE {name} gauge")
            lines += [f"{name}{_labels(labels)} {value:g}" for labels, value in samples]
        with self._lock:
            counters = dict(self.counters)
            latency = {k: (v[0], v[1], list(v[2])) for k, v in self.latency.items()}
        for name in sorted(counters):
            lines.append(f"# TYPE {name} counter")
            lines.append(f"{name} {counters[name]:g}")
        families = sorted({family for family, _ in latency})
        for family in families:
            lines.append(f"# TYPE {family} histogram")
            for (fam, label), (count, total, buckets) in sorted(latency.items()):
                if fam != family:
                    continue
                running = 0
                for bound, hits in zip(BUCKETS, buckets, strict=True):
                    running += hits
                    lines.append(f'{family}_bucket{{method="{label}",le="{bound:g}"}} {running}')
                lines.append(f'{family}_bucket{{method="{label}",le="+Inf"}} {count}')
                lines.append(f'{family}_sum{{method="{label}"}} {total:.6f}')
                lines.append(f'{family}_count{{method="{label}"}} {count}')
        return "\n".join(lines) + "\n"


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


METRICS = Metrics()
