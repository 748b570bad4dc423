"""A cluster on loopback under faults: real nats-server, HAProxy and tracker node processes.

Clients post through HAProxy and retry a batch until it is acknowledged, with
the same eventIds, as the JavaScript client does. After each fault the test
counts, per eventId, what the cluster stores against what was acknowledged:
nothing lost, nothing stored twice, and every read exact.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx2 as httpx
import pytest

from helpers import http_client, now_ms, read_served
from tracker.cluster import jetstream, loopback, positions
from tracker.storage.connections import read_once
from tracker.storage.manifest import shard_paths

pytestmark = [
    pytest.mark.skipif(bool(loopback.missing_tools()), reason="needs nats-server and haproxy "
                       "(scripts/test-deps installs them)"),
    pytest.mark.timeout(600),
    pytest.mark.slow,
    pytest.mark.cluster,
]

SHARDS = 8
USERS = [f"user-{i}" for i in range(40)]
TAKEOVER_SECONDS = 30


class RetryingClients:
    """Threads posting batches through the front door; each batch is retried, same eventIds,
    until acknowledged. `acknowledged` holds every eventId a 200 answered for."""

    def __init__(self, url: str, acknowledged: dict[str, dict], threads: int = 4, batch: int = 10):
        self.url = url
        self.batch = batch
        self.acknowledged = acknowledged  # every test's, for the module's cluster
        self.retries = 0
        self.sent = 0
        self.unacknowledged = 0  # batches given up after two minutes of retries
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._post, args=(n,)) for n in range(threads)]

    def __enter__(self) -> RetryingClients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop making batches; a batch under way is still retried until acknowledged."""
        self._stop.set()
        for thread in self._threads:
            thread.join(120)

    def _post(self, n: int) -> None:
        with http_client(base_url=self.url, timeout=15) as client:
            for i in range(100_000):
                if self._stop.is_set():
                    return
                events = [{"userId": USERS[(n * 11 + i * 3 + k) % len(USERS)],
                           "sessionId": f"s-{n}-{i // 20}", "event": "page_view",
                           "data": {"path": f"/p{k % 4}"}, "eventId": uuid.uuid4().hex,
                           "timestamp": now_ms()} for k in range(self.batch)]
                self._until_acknowledged(client, events)

    def _until_acknowledged(self, client: httpx.Client, events: list[dict]) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.sent += 1
            try:
                answer = client.post("/track", json={"events": events})
                if answer.status_code == 200:
                    with self._lock:
                        self.acknowledged.update((event["eventId"], event) for event in events)
                    return
            except httpx.TransportError:
                pass
            self.retries += 1
            time.sleep(0.2)
        self.unacknowledged += 1

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.1)


def stored_event_ids(front: str, token: str) -> Counter:
    """Every stored movement's eventId, counted, read through the front door user by user."""
    found: Counter = Counter()
    with http_client(base_url=front, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for user in USERS:
            cursor = None
            while True:
                page = read_served(client, "/movements", userId=user, limit=1000,
                            **({"cursor": cursor} if cursor else {}))
                found.update(movement["eventId"] for movement in page["movements"])
                cursor = page.get("nextCursor")
                if not cursor:
                    break
    return found


def assert_exact(cluster: loopback.LoopbackCluster, clients: RetryingClients) -> dict:
    """Nothing acknowledged lost, nothing stored twice, and /analytics equal to a count of
    what was acknowledged. Returns the figures."""
    assert clients.unacknowledged == 0, "a batch was never acknowledged"
    stored = stored_event_ids(cluster.front, cluster.token)
    acknowledged = set(clients.acknowledged)
    lost = acknowledged - set(stored)
    duplicated = {event_id: count for event_id, count in stored.items() if count > 1}
    assert not lost, f"{len(lost)} acknowledged events lost"
    assert not duplicated, f"{len(duplicated)} events stored more than once"
    events = list(clients.acknowledged.values())
    with http_client(base_url=cluster.front, timeout=60,
                     headers={"Authorization": f"Bearer {cluster.token}"}) as client:
        totals = read_served(client, "/analytics", timeRange="24h")["totals"]
    assert totals["movements"] == len(stored)
    assert totals["pageViews"] == len(stored)
    assert totals["users"] == len({event["userId"] for event in events})
    assert totals["sessions"] == len({(e["userId"], e["sessionId"]) for e in events})
    return {"acknowledged": len(acknowledged), "stored": sum(stored.values()), "lost": len(lost),
            "duplicated": len(duplicated), "retries": clients.retries}


@pytest.fixture(scope="module")
def ledger() -> dict[str, dict]:
    """Every event the module's cluster acknowledged, by eventId."""
    return {}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> loopback.LoopbackCluster:
    root = Path(tmp_path_factory.mktemp("cluster"))
    with loopback.running(root, shards=SHARDS, snapshot_minutes=1) as started:
        started.wait_balanced(timeout=90)
        yield started


def owners(cluster: loopback.LoopbackCluster) -> dict[int, str | None]:
    return {shard["shard"]: shard["owner"] for shard in cluster.status()["shards"]}


@pytest.mark.slow
def test_a_node_killed_during_ingest_loses_nothing_and_its_shards_move_within_30_s(cluster, ledger, capsys):
    victim = cluster.members[1]
    with RetryingClients(cluster.front, ledger) as clients:
        clients.wait_for(300)
        held = [shard for shard, owner in owners(cluster).items() if owner == victim.node_id]
        assert held, "the node to kill owns no shard"
        killed_at = time.monotonic()
        victim.signal(signal.SIGKILL)
        alive = [node.node_id for node in cluster.members if node is not victim]
        cluster.wait_owned(timeout=TAKEOVER_SECONDS + 15, among=alive)
        takeover = time.monotonic() - killed_at
        clients.wait_for(len(clients.acknowledged) + 300)
    figures = assert_exact(cluster, clients)
    with capsys.disabled():
        print(f"\nkill -9 a node: {figures}, shards {held} taken over in {takeover:.1f} s")
    assert takeover <= TAKEOVER_SECONDS
    cluster.start_nodes([victim])  # back for the next test
    cluster.wait_owned(timeout=60)


@pytest.mark.slow
def test_a_nats_server_killed_during_ingest_loses_nothing(cluster, ledger, capsys):
    with RetryingClients(cluster.front, ledger) as clients:
        clients.wait_for(len(clients.acknowledged) + 200)
        cluster.servers[0].signal(signal.SIGKILL)
        before = len(clients.acknowledged)
        clients.wait_for(before + 300, timeout=90)
        assert len(clients.acknowledged) >= before + 300, "ingest stopped with one NATS server down"
    cluster.wait_owned(timeout=60)
    figures = assert_exact(cluster, clients)
    with capsys.disabled():
        print(f"\nkill -9 a NATS server: {figures}")
    cluster.servers[0].start()
    loopback.wait_until(cluster.servers[0].ready, 60, "the NATS server back")


def recorded(node: loopback.TrackerNode, shard: int) -> tuple[int, int]:
    """(stream position, lease term) the node's file of shard `shard` (site 0) records."""
    path = shard_paths(node.data_dir, SHARDS, 0)[shard]
    return read_once(path, positions.read)


@pytest.mark.slow
def test_a_paused_node_stops_writing_its_shards_and_rejoins_without_a_duplicate_fold(cluster, ledger,
                                                                                    capsys):
    victim = cluster.members[2]
    others = [node.node_id for node in cluster.members if node is not victim]
    with RetryingClients(cluster.front, ledger) as clients:
        clients.wait_for(len(ledger) + 200)
        held = [shard for shard, owner in owners(cluster).items() if owner == victim.node_id]
        victim.signal(signal.SIGSTOP)
        before = {shard: recorded(victim, shard) for shard in held}
        published = max(server.stream_last(jetstream.STREAM) for server in cluster.servers)
        cluster.wait_owned(timeout=45, among=others)
        clients.wait_for(len(ledger) + 300)
        victim.signal(signal.SIGCONT)
        time.sleep(3)
        after = {shard: recorded(victim, shard) for shard in held}
        clients.wait_for(len(ledger) + 200)
    # Under its old lease the node folded nothing published after the pause: at most a commit
    # it was making when it was stopped completes. A shard it took back is under a newer term.
    for shard in held:
        seq, term = after[shard]
        assert term > before[shard][1] or seq <= published, (shard, before[shard], after[shard], published)
    cluster.wait_owned(timeout=60)
    figures = assert_exact(cluster, clients)
    with capsys.disabled():
        print(f"\nSIGSTOP a node past its lease: {figures}, shards {held}")


@pytest.mark.slow
def test_the_whole_cluster_restarted_keeps_everything_acknowledged(cluster, ledger, capsys):
    with RetryingClients(cluster.front, ledger) as clients:
        clients.wait_for(len(ledger) + 300)
    cluster.restart_all()
    cluster.wait_owned(timeout=90)
    figures = assert_exact(cluster, clients)
    with capsys.disabled():
        print(f"\nthe whole cluster restarted: {figures}")
