"""A cluster node's part of /metrics, read from the node's own state when scraped.

Prometheus scrapes each node, so each reports what it does: whether it is
connected to NATS, the live nodes it sees, the shards it owns, each such
shard's lag behind the stream (as its consumer last told, every few
seconds) and the age of its latest snapshot, and the leases it took, lost
and released since it started. A shard is reported by the node that owns
it, so the scrapes of all nodes add up to the cluster without one shard
counted twice; a shard no node reports has no live owner. The fan-out
latency of reads is a histogram of `ops.metrics.Metrics`, observed where a
read is asked of the owners (`fanout.py`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from tracker.cluster.store import ClusterStore


class ClusterCollector(Collector):
    def __init__(self, store: ClusterStore):
        self._store = store

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        node = self._store.node
        connected = GaugeMetricFamily(
            "tracker_cluster_nats_connected", "1 while this node is connected to a NATS server",
            value=1 if self._store.jet.client.is_connected else 0)
        alive = GaugeMetricFamily("tracker_cluster_nodes_alive",
                                  "Nodes whose heartbeat this node saw in its latest round",
                                  value=len(node.live))
        owned = GaugeMetricFamily("tracker_cluster_shards_owned",
                                  "Shards this node holds the lease of and folds",
                                  value=len(node.owned))
        lag = GaugeMetricFamily(
            "tracker_cluster_stream_lag",
            "Messages of a shard this node owns not folded yet (asked of its consumer every 5 s)",
            labels=["shard"])
        for shard, count in sorted(node.lags.items()):
            if shard in node.owned:
                lag.add_metric([str(shard)], count)
        age = GaugeMetricFamily(
            "tracker_cluster_snapshot_age_seconds",
            "Seconds since the latest snapshot of a shard this node owns (none before the first)",
            labels=["shard"])
        now = time.time()
        for shard, taken in sorted(node.snapshot_ages.items()):
            if shard in node.owned:
                age.add_metric([str(shard)], max(0.0, now - taken))
        changes = CounterMetricFamily(
            "tracker_cluster_lease_changes", "Shard leases this node took, lost (not renewed in "
            "time) and released (handed over), since it started", labels=["change"])
        for change, count in node.lease_changes.items():
            changes.add_metric([change], count)
        return [connected, alive, owned, lag, age, changes]
