"""The cluster's small pieces on their own: the codec between nodes, request signatures, a shard
file's stream position and fencing, and leases and salts against one real nats-server.

The leases' guarantees are the bucket's compare-and-set: these tests run them
on a nats-server with JetStream on loopback (one server, one replica), not on
a stand-in, so a wrong assumption about the server's answers fails here.
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import apsw
import nats.js.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import now_ms
from tracker.cluster import auth, codec, jetstream, loopback, nodes, positions, snapshots
from tracker.cluster.folding import ShardFolder
from tracker.cluster.leases import Leases, Owner, unowned
from tracker.cluster.node import share_of
from tracker.cluster.outcomes import Outcomes
from tracker.cluster.publish import StreamUnavailable
from tracker.cluster.registry_sync import RegistrySync
from tracker.cluster.salts import SharedSalts
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.enrich.visitor_ids import DAY_MS, SALT_BYTES
from tracker.lifecycle import sites
from tracker.storage import registry
from tracker.storage.read_pool import ReadPool
from tracker.storage.shard_file import ShardFile
from tracker.storage.store import prepare


def test_the_codec_carries_tracker_values_and_refuses_anything_else():
    value = (3, [1, 2], {"a": frozenset({1})}, Owner("n", "http://x", 4), positions.read)
    assert codec.loads(codec.dumps(value)) == value
    with pytest.raises(codec.Refused, match="system"):
        codec.loads(pickle.dumps(_Call(__import__("os").system, ("true",))))
    with pytest.raises(codec.Refused, match="builtins.eval"):
        codec.loads(pickle.dumps(_Call(eval, ("1",))))


class _Call:
    """A pickle that calls `function(*args)` when loaded: what a forged message would carry."""

    def __init__(self, function: Callable, args: tuple):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def test_a_signed_request_is_accepted_once_and_only_as_sent():
    signature = auth.sign_request("secret", "POST", "/cluster/read", b"body")
    assert auth.request_is_signed("secret", signature, "POST", "/cluster/read", b"body")
    assert not auth.request_is_signed("other", signature, "POST", "/cluster/read", b"body")
    assert not auth.request_is_signed("secret", signature, "POST", "/cluster/read", b"bodY")
    assert not auth.request_is_signed("secret", signature, "POST", "/cluster/export", b"body")
    assert not auth.request_is_signed("secret", None, "POST", "/cluster/read", b"body")
    old = auth.sign_request("secret", "POST", "/cluster/read", b"body",
                            now_ms=int(time.time() * 1000) - auth.MAX_SKEW_MS - 1000)
    assert not auth.request_is_signed("secret", old, "POST", "/cluster/read", b"body")
    job = auth.sign_job("secret", b"work")
    assert auth.job_is_signed("secret", b"work", job) and not auth.job_is_signed("secret", b"w0rk", job)


def test_a_files_position_moves_forward_under_its_lease_and_fences_an_older_one(tmp_path):
    conn = apsw.Connection(str(tmp_path / "shard.sqlite"))
    assert positions.read(conn) == (0, 0)
    positions.move(conn, 10, 1)
    assert positions.read(conn) == (10, 1)
    positions.move(conn, 7, 1)  # a position never goes back
    assert positions.read(conn) == (10, 1)
    positions.move(conn, 12, 3)  # a newer lease takes the file over
    assert positions.read(conn) == (12, 3)
    with pytest.raises(positions.Fenced):
        positions.move(conn, 20, 2)  # a fold of an earlier ownership lands late: refused
    assert positions.read(conn) == (12, 3)


def test_shards_without_a_live_owner():
    owners = {0: Owner("a", "u", 1), 1: Owner("b", "u", 2), 3: Owner("a", "u", 5)}
    assert unowned(4, owners, {"a", "b"}) == [2]
    assert unowned(4, owners, {"a"}) == [1, 2]
    assert unowned(4, {}, set()) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def nats_config(tmp_path_factory) -> Config:
    if loopback.missing_tools():
        pytest.skip("needs nats-server (scripts/test-deps installs it)")
    root = Path(tmp_path_factory.mktemp("nats"))
    port, monitor = loopback.free_port(), loopback.free_port()
    server = loopback.NatsServer("nats", [loopback.NATS_SERVER, "-a", "127.0.0.1", "-p", str(port),
                                          "-m", str(monitor), "-js", "-sd", str(root / "store")],
                                 root / "nats.log", port=port, monitor_port=monitor)
    server.start()
    try:
        loopback.wait_until(server.ready, 30, "nats-server ready")
        yield Config.from_env({
            "TRACKER_NATS_URL": f"nats://127.0.0.1:{port}", "TRACKER_NATS_REPLICAS": "1",
            "TRACKER_NODE_ID": "test", "TRACKER_NODE_URL": "http://127.0.0.1:1",
            "TRACKER_CLUSTER_SECRET": "secret", "TRACKER_READ_TOKEN": "token",
            "TRACKER_DATA_DIR": str(root / "data")})
    finally:
        server.stop()


def with_jetstream(config: Config, test: Callable[[jetstream.JetStream], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        jet = await jetstream.connect(config, name="test")
        try:
            return await test(jet)
        finally:
            await jet.close()

    return asyncio.run(run())


def test_a_lease_is_one_nodes_until_released_and_a_stale_holder_loses_it(nats_config):
    async def test(jet: jetstream.JetStream) -> None:
        a = Leases(jet.leases, "a", "http://a", 2)
        b = Leases(jet.leases, "b", "http://b", 2)
        first = await a.claim(0)
        assert first is not None and a.ok(0, first.term)
        assert await b.claim(0) is None, "a held shard cannot be claimed"
        assert await a.renew(first) and a.ok(0)
        assert await b.owner(0) == Owner("a", "http://a", first.term)
        await a.release(0)
        assert not a.ok(0) and await b.owner(0) is None
        second = await b.claim(0)
        assert second is not None and second.term > first.term, "a new term fences the old one"
        assert not await a.renew(first), "a renewal against an old revision fails"
        assert (await b.read_owners()) == {0: Owner("b", "http://b", second.term)}
        await b.release(0)

    with_jetstream(nats_config, test)


def test_the_live_nodes_are_read_without_leaving_a_consumer_behind(nats_config):
    async def test(jet: jetstream.JetStream) -> tuple[list[str], list[str], int]:
        for name in ("n1", "n2"):
            await nodes.beat(jet.nodes, nodes.Node(name, f"http://{name}", 1))
        both = [node.id for node in await nodes.alive(jet)]
        await nodes.leave(jet.nodes, "n2")
        for _ in range(5):  # every node reads the live set every round
            left = [node.id for node in await nodes.alive(jet)]
        await nodes.leave(jet.nodes, "n1")
        info = await jet.js.stream_info(f"KV_{jetstream.NODES}")
        return both, left, info.state.consumer_count

    both, left, consumers = with_jetstream(nats_config, test)
    assert both == ["n1", "n2"] and left == ["n1"]
    assert consumers == 0, "each read of the live set would leave the servers a consumer to keep"


@given(st.sets(st.text("abcdef", min_size=1, max_size=3), min_size=1, max_size=9),
       st.integers(min_value=0, max_value=64))
def test_the_shares_of_the_live_nodes_add_up_to_the_shards_and_differ_by_one_at_most(live, count):
    shares = [share_of(node, sorted(live), count) for node in live]
    assert sum(shares) == count
    assert max(shares) - min(shares) <= 1
    assert count < len(live) or min(shares) >= 1


def test_a_snapshot_stored_after_a_newer_one_leaves_the_stream_what_it_lacks(nats_config, tmp_path):
    shard = 0

    def file_at(name: str, position: int) -> ShardFile:
        file = ShardFile(0, shard, 1, tmp_path / f"{name}.sqlite")
        conn = apsw.Connection(str(file.path))
        positions.move(conn, position, 1)
        conn.close()
        return file

    async def test(jet: jetstream.JetStream) -> list[int]:
        sent = [(await jet.js.publish(jetstream.subject(shard), b"m")).seq for _ in range(6)]

        async def take(name: str, upto: int) -> None:
            await snapshots.take(jet, shard, [file_at(name, upto)], 1, tmp_path, asyncio.to_thread)

        await take("first", sent[1])  # nothing to purge yet
        await take("newer", sent[4])  # purges up to the first
        await take("late", sent[2])  # a stale owner's, stored last: the stream must keep what follows
        left = []
        for seq in sent:
            try:
                left.append((await jet.js.get_msg(jetstream.STREAM, seq=seq)).seq)
            except nats.js.errors.NotFoundError:
                pass
        return [sent.index(seq) for seq in left]

    left = with_jetstream(nats_config, test)
    assert left == [3, 4, 5], "what the late snapshot lacks (after its position) stays in the stream"


def test_a_delivery_lost_inside_a_pull_is_not_folded_past(nats_config):
    """A fetch that spans the death of the client's NATS server returns what came through the
    old server and the rest of the same pull through the next one; a message sent through the
    dead server is missing from the middle. Here another pull takes that message instead."""
    shard = 3

    def unused(*args: Any) -> Any:
        raise AssertionError("the check reads only the stream")

    async def test(jet: jetstream.JetStream) -> tuple[bool, bool, bool]:
        for _ in range(6):
            await jet.js.publish(jetstream.subject(shard), b"m")
        folder = ShardFolder(shard, 1, jet, unused, unused, unused, unused, unused, "secret",
                             lambda: True, Outcomes(), unused)
        consumer = await folder._subscribe(1)
        before = await consumer.fetch(2, timeout=5)
        elsewhere = await jet.client.subscribe(jet.client.new_inbox())
        await jet.client.publish(f"$JS.API.CONSUMER.MSG.NEXT.{jetstream.STREAM}.fold-{shard}",
                                 b'{"batch": 1}', reply=elsewhere.subject)
        await elsewhere.next_msg(timeout=5)  # the lost delivery
        after = await consumer.fetch(3, timeout=5)
        whole = await folder._follows_on(before)
        spanning = await folder._follows_on(before + after)
        folder.consumed, folder._delivered = before[-1].metadata.sequence.stream, 2
        resumed = await folder._follows_on(after)
        await consumer.unsubscribe()
        return whole, spanning, resumed

    whole, spanning, resumed = with_jetstream(nats_config, test)
    assert whole, "the first two messages follow on from nothing folded"
    assert not spanning, "a batch missing a message in its middle must not be folded"
    assert not resumed, "nor one that starts after the missing message"


def test_a_registry_change_jetstream_does_not_answer_is_unavailable_and_changes_nothing(tmp_path):
    """Its own nats-server, stopped once connected: the change is refused as StreamUnavailable
    (a 503 through the API, one warning line in a job), and the local file keeps the shared
    entry."""
    if loopback.missing_tools():
        pytest.skip("needs nats-server (scripts/test-deps installs it)")
    port, monitor = loopback.free_port(), loopback.free_port()
    server = loopback.NatsServer("nats", [loopback.NATS_SERVER, "-a", "127.0.0.1", "-p", str(port),
                                          "-m", str(monitor), "-js", "-sd", str(tmp_path / "store")],
                                 tmp_path / "nats.log", port=port, monitor_port=monitor)
    config = Config.from_env({
        "TRACKER_NATS_URL": f"nats://127.0.0.1:{port}", "TRACKER_NATS_REPLICAS": "1",
        "TRACKER_NODE_ID": "test", "TRACKER_NODE_URL": "http://127.0.0.1:1",
        "TRACKER_CLUSTER_SECRET": "secret", "TRACKER_READ_TOKEN": "token",
        "TRACKER_DATA_DIR": str(tmp_path / "data")})
    layout = prepare(config, rederive_functions())
    registry_file = layout.registry_file()

    async def test(jet: jetstream.JetStream) -> None:
        pool = ReadPool(1)
        try:
            sync = RegistrySync(jet.registry, registry_file, layout, pool, None, lambda site: None)
            site = sites.live_site(registry_file, "default")
            await sync.write(sites.add_key, registry_file, site, now_ms())
            server.stop()
            with pytest.raises(StreamUnavailable, match="the shared registry could not be changed"):
                await sync.write(sites.add_key, registry_file, site, now_ms())
        finally:
            pool.close()

    server.start()
    try:
        loopback.wait_until(server.ready, 30, "nats-server ready")
        with_jetstream(config, test)
        assert len(registry.keys_of(registry_file.connection(), 0)) == 1, "the refused key is not kept"
    finally:
        server.stop()
        registry_file.close()


def test_every_node_gets_the_same_salt_of_a_day(nats_config, tmp_path):
    now = int(time.time() * 1000)

    async def test(jet: jetstream.JetStream) -> tuple[bytes, bytes, bytes]:
        one, two = SharedSalts(jet.salts, tmp_path / "one"), SharedSalts(jet.salts, tmp_path / "two")
        with pytest.raises(StreamUnavailable):
            one.for_time(now)  # not fetched yet: no salt of the node's own
        await one.ensure(now)
        await two.ensure(now)
        later = SharedSalts(jet.salts, tmp_path / "three")
        await later.ensure(now + DAY_MS)
        return one.for_time(now), two.for_time(now), later.for_time(now + DAY_MS)

    first, second, next_day = with_jetstream(nats_config, test)
    assert first == second and len(first) == SALT_BYTES
    assert next_day != first
    assert not (tmp_path / "one" / "salts").exists(), "nothing written to the data directory"
