"""What every node of a cluster answers for the whole cluster: readiness and metrics of its part,
anonymous visitors counted once whichever node serves them, a user's export and erasure,
the live feed, the command line's sites, goals and report subscriptions made through one node
and a report sent once by the whole cluster, and a shard taken over from its snapshot.

One cluster on loopback (real nats-server, HAProxy and tracker node processes)
serves the module; each test asks the nodes one by one, not only the front door,
so that a request reaches a node that does not own what it asks about.
"""

from __future__ import annotations

import asyncio
import email
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable

import httpx2 as httpx
import pytest

from helpers import http_client, metric_samples, now_ms, read_served
from mail_server import Mailbox, mail_env, mail_server
from tracker.cluster import jetstream, loopback, snapshots
from tracker.config import Config
from tracker.storage.manifest import shard_of

pytestmark = [
    pytest.mark.skipif(bool(loopback.missing_tools()), reason="needs nats-server and haproxy "
                       "(scripts/test-deps installs them)"),
    pytest.mark.timeout(600),
    pytest.mark.slow,
    pytest.mark.cluster,
]

SHARDS = 4
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture(scope="module")
def mailbox():
    """Every node sends its email reports through one mail server."""
    box = Mailbox()
    with mail_server(box) as url:
        box.url = url  # type: ignore[attr-defined]
        yield box


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, mailbox):
    with loopback.running(tmp_path_factory.mktemp("nodes"), shards=SHARDS, snapshot_minutes=1,
                          extra_env=mail_env(mailbox.url)) as started:
        started.wait_balanced(timeout=90)
        yield started


def client(cluster: loopback.LoopbackCluster, url: str) -> httpx.Client:
    return http_client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {cluster.token}"})


def event(user: str, **fields) -> dict:
    return {"userId": user, "sessionId": f"s-{user}", "event": "page_view", "data": {"path": "/a"},
            "eventId": uuid.uuid4().hex, "timestamp": now_ms(), "site": "default", **fields}


def post(url: str, events: list[dict], **headers) -> None:
    """Post until acknowledged, as clients do (HAProxy takes a node back after two checks)."""
    deadline = time.monotonic() + 30
    with http_client(base_url=url, timeout=30) as plain:
        while True:
            try:
                answer = plain.post("/track", json={"events": events}, headers=headers)
                if answer.status_code == 200 or time.monotonic() > deadline:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline
            time.sleep(0.5)
    assert answer.status_code == 200, answer.text


def owner_of_user(cluster: loopback.LoopbackCluster, user: str) -> loopback.TrackerNode:
    """The node that owns the user's shard (of the default site) now."""
    shard = shard_of(user, SHARDS)
    owner = {s["shard"]: s["owner"] for s in cluster.status()["shards"]}[shard]
    return next(node for node in cluster.members if node.node_id == owner)


def test_readyz_names_the_node_and_its_shards_and_metrics_cover_its_part(cluster):
    owned: list[int] = []
    for node in cluster.members:
        with client(cluster, node.url) as reader:
            deadline = time.monotonic() + 10  # a node reads the owners once a round: its view may lag one
            while (ready := reader.get("/readyz")).status_code == 200 and ready.json()["unowned"]:
                assert time.monotonic() < deadline, ready.text
                time.sleep(0.5)
            assert ready.status_code == 200, ready.text
            assert ready.json()["node"] == node.node_id and ready.json()["unowned"] == []
            owned += ready.json()["owned"]
            reader.get("/stats")  # a read asked of every owner: one fan-out observed
            samples = metric_samples(reader.get("/metrics").text)
        assert samples[("tracker_cluster_nats_connected",)] == 1
        assert samples[("tracker_cluster_nodes_alive",)] == len(cluster.members)
        mine = ready.json()["owned"]
        assert samples[("tracker_cluster_shards_owned",)] == len(mine)
        assert samples[("tracker_cluster_fanout_seconds_count",)] >= 1
        assert samples[("tracker_cluster_lease_changes_total", ("change", "taken"))] >= len(mine)
        deadline = time.monotonic() + 15  # the lag is asked of the consumers every 5 s
        while not all(("tracker_cluster_stream_lag", ("shard", str(s))) in samples for s in mine):
            assert time.monotonic() < deadline, samples
            time.sleep(1)
            with client(cluster, node.url) as reader:
                samples = metric_samples(reader.get("/metrics").text)
    assert sorted(owned) == list(range(SHARDS)), "every shard owned by exactly one node"


def test_an_anonymous_visitor_counts_once_whichever_node_serves_it(cluster):
    headers = {"User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.77"}
    page = {"event": "page_view", "data": {"path": "/salted"}, "timestamp": now_ms(), "site": "default"}
    for node in cluster.members:
        post(node.url, [{**page, "eventId": uuid.uuid4().hex}], **headers)
    with client(cluster, cluster.front) as reader:
        rows = reader.get("/breakdown", params={"by": "page"}).json()["results"]
    assert {"value": "/salted", "visitors": 1, "visits": 1, "pageviews": len(cluster.members)} in rows


def test_a_users_export_and_erasure_answer_on_every_node(cluster):
    user = "export-" + uuid.uuid4().hex[:8]
    post(cluster.front, [event(user, data={"path": f"/e{i}"}) for i in range(5)])
    owner = owner_of_user(cluster, user)
    exports = set()
    for node in cluster.members:
        with client(cluster, node.url) as reader:
            answer = reader.get(f"/users/{user}/export")
        assert answer.status_code == 200, (node.node_id, answer.text)
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in answer.text.splitlines()]
        assert sum(1 for line in lines if line.get("event") == "page_view") == 5
        exports.add(answer.text)
    assert len(exports) == 1, "every node answers the owner's export"
    other = next(node for node in cluster.members if node is not owner)
    with client(cluster, other.url) as reader:
        erased = reader.delete(f"/users/{user}")
        assert erased.status_code == 200, erased.text
        assert erased.json()["movements"] == 5
    for node in cluster.members:
        with client(cluster, node.url) as reader:
            gone = reader.get(f"/users/{user}/export")
            status = reader.get(f"/users/{user}/erasure")
        assert gone.status_code == 404 and gone.json()["error"] == "not_found", gone.text
        assert status.status_code == 200 and status.json()["status"] == "done", status.text
    with http_client(base_url=other.url, timeout=10) as plain:  # not signed with the secret
        refused = plain.post("/cluster/export", content=b"anything")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"


def test_the_live_feed_of_one_node_shows_events_taken_by_another(cluster):
    watcher, taker = cluster.members[0], cluster.members[1]
    user = "live-" + uuid.uuid4().hex[:8]
    seen: list[dict] = []
    opened = threading.Event()

    def listen() -> None:
        with client(cluster, watcher.url) as reader, reader.stream(
                "GET", "/live", params={"userId": user}, timeout=httpx.Timeout(30)) as stream:
            opened.set()
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(30)
    time.sleep(1)  # the stream starts after the head the watcher knew when it opened
    sent = event(user)
    post(taker.url, [sent])
    listener.join(30)
    assert [movement["eventId"] for movement in seen] == [sent["eventId"]]


def test_goals_and_reports_made_through_one_node_are_every_nodes_and_a_report_goes_out_once(
        cluster, mailbox):
    maker = cluster.members[0]
    address = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    with client(cluster, maker.url) as admin:
        goal = admin.post("/sites/default/goals", json={"event": "signup-" + uuid.uuid4().hex[:8]})
        report = admin.post("/sites/default/reports", json={"email": address, "every": "week"})
    assert goal.status_code == 201 and report.status_code == 201, (goal.text, report.text)
    for node in cluster.members:
        with client(cluster, node.url) as reader:
            loopback.wait_until(lambda: goal.json()["id"] in [
                found["id"] for found in reader.get("/sites/default/goals").json()["goals"]], 10,
                f"the goal known to {node.name}")
            loopback.wait_until(lambda: report.json()["id"] in [
                found["id"] for found in reader.get("/sites/default/reports").json()["reports"]], 10,
                f"the subscription known to {node.name}")
    # Last week's report is due at once, and every node runs the sending job every second.
    loopback.wait_until(lambda: address in received(mailbox), 60, "the report sent")
    time.sleep(5)
    assert received(mailbox).count(address) == 1, "each node sent it"
    for node in cluster.members:
        with client(cluster, node.url) as reader:
            listed = {found["id"]: found for found in reader.get("/sites/default/reports").json()["reports"]}
        assert listed[report.json()["id"]]["lastSend"]["status"] == "sent", node.name


def received(mailbox: Mailbox) -> list[str]:
    return [email.message_from_bytes(raw)["To"] for raw in mailbox.messages]


def tracker_command(node: loopback.TrackerNode, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tracker", *args], env=node.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


# A change made through one node reaches the others through a watch of the bucket: within
# milliseconds on a quiet machine; the tests allow for a loaded one.
PROPAGATION_SECONDS = 5


def answers_ok(get: Callable[[], httpx.Response], what: str) -> None:
    """Wait until `get()` answers 200; if it never does, say what it answered last."""
    last: list[httpx.Response] = []

    def ok() -> bool:
        last[:] = [get()]
        return last[0].status_code == 200

    try:
        loopback.wait_until(ok, PROPAGATION_SECONDS, what)
    except TimeoutError as error:
        raise AssertionError(f"{error}; last answer {last[-1].status_code} {last[-1].text[:300]}") from None


def test_the_command_line_manages_the_sites_every_node_shares(cluster):
    first, second, third = cluster.members
    tracker_command(first, "sites", "add", "blog.example", "--domain", "blog.example")
    with client(cluster, second.url) as reader:  # every node watches the bucket
        answers_ok(lambda: reader.get("/sites/blog.example"), "the site known to another node")
    key = re.search(r"\): (\S+)$", tracker_command(second, "keys", "add", "blog.example").strip())[1]
    with http_client(base_url=third.url, timeout=30, headers={"Authorization": f"Bearer {key}"}) as keyed:
        answers_ok(lambda: keyed.get("/stats", params={"site": "blog.example"}),
                   "the key known to another node")
        assert keyed.get("/stats", params={"site": "default"}).status_code == 403
    link = tracker_command(third, "shares", "add", "blog.example", "--url", first.url).strip().split()[-1]
    with http_client(timeout=30) as plain:
        answers_ok(lambda: plain.get(link + "/stats"), "the share link known to another node")
    guarded = tracker_command(first, "shares", "add", "blog.example", "--password", "s3cret",
                              "--url", first.url).strip().split()[-1]
    token = guarded.rsplit("/", 1)[1]
    with http_client(base_url=first.url, timeout=30) as on_first:  # the password given to one node
        signed_in = on_first.post(f"/share/{token}/auth", json={"password": "s3cret"})
        assert signed_in.status_code in (200, 204), signed_in.text
        cookie = signed_in.headers["set-cookie"].split(";", 1)[0]
    with http_client(base_url=second.url, timeout=30) as on_second:  # its cookie opens the others
        assert on_second.get(f"/share/{token}/stats").status_code == 401
        assert on_second.get(f"/share/{token}/stats", headers={"Cookie": cookie}).status_code == 200
    assert "blog.example\tblog.example" in tracker_command(third, "sites", "list")
    tracker_command(second, "sites", "remove", "blog.example")
    with client(cluster, first.url) as reader:
        loopback.wait_until(lambda: (answer := reader.get("/sites/blog.example")).status_code == 404
                            or answer.json()["status"] == "deleting", PROPAGATION_SECONDS, "the site deleted")


async def _manifests(config: Config) -> dict[int, snapshots.Manifest | None]:
    jet = await jetstream.connect(config, name="test-snapshots")
    try:
        return {shard: await snapshots.latest(jet, shard) for shard in range(SHARDS)}
    finally:
        await jet.close()


def folded_rows(node: loopback.TrackerNode) -> float:
    with http_client(base_url=node.url, timeout=30) as plain:
        return metric_samples(plain.get("/metrics").text).get(("tracker_fold_rows_sum",), 0.0)


def test_a_shard_taken_over_starts_from_its_snapshot_and_folds_only_the_stream_after_it(cluster, capsys):
    victim = cluster.members[2]
    survivors = [node for node in cluster.members if node is not victim]
    held = [s["shard"] for s in cluster.status()["shards"] if s["owner"] == victim.node_id]
    assert held, "the node to kill owns no shard"
    users = [f"snap-{i}" for i in range(24)]
    post(cluster.front, [event(user) for user in users])
    with client(cluster, cluster.front) as reader:  # a read over every shard: all of it folded
        assert reader.get("/stats", params={"site": "default"}).status_code == 200
    folded_at = now_ms()
    config = Config.from_env(victim.env)
    deadline = time.monotonic() + 150  # each owner snapshots its shards every minute
    while True:
        manifests = asyncio.run(_manifests(config))
        if all(manifests[shard] is not None and manifests[shard].taken > folded_at for shard in held):
            break
        assert time.monotonic() < deadline, f"no snapshot of shards {held} since {folded_at}"
        time.sleep(2)
    after = [event(user, data={"path": "/after"}) for user in users]
    before_kill = sum(folded_rows(node) for node in survivors)
    post(cluster.front, after)
    victim.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    cluster.wait_owned(timeout=60, among=[node.node_id for node in survivors])
    takeover = time.monotonic() - killed_at
    with client(cluster, cluster.front) as reader:
        for user in users:  # every read counts everything acknowledged: both events, once each
            movements = read_served(reader, "/movements", userId=user, site="default")["movements"]
            assert len(movements) == 2, (user, movements)
    folded = sum(folded_rows(node) for node in survivors) - before_kill
    logs = "".join(node.output() for node in survivors)
    restored = {int(shard) for shard in re.findall(r"shard (\d+): restored \d+ files from the snapshot", logs)}
    with capsys.disabled():
        print(f"\ntakeover from a snapshot: shards {held} restored, {folded:.0f} rows folded by the "
              f"survivors for {len(after)} events sent after the snapshot, taken over in {takeover:.1f} s")
    assert set(held) <= restored
    assert folded == len(after), "the survivors folded the events after the snapshot, and only those"
    cluster.start_nodes([victim])
    cluster.wait_owned(timeout=60)


def test_a_whole_cluster_backup_restores_what_it_held_and_nothing_after(cluster):
    users = [f"backup-{i}" for i in range(12)]
    before = [event(user) for user in users]
    post(cluster.front, before)
    cluster.stop_all()  # the procedure of docs/cluster.md: stop all, copy every state directory
    backup = cluster.root / "backup"
    for directory in cluster.state_dirs():
        shutil.copytree(directory, backup / directory.name)
    cluster.start_all()
    cluster.wait_owned(timeout=90)
    post(cluster.front, [event(user, data={"path": "/after"}) for user in users])
    cluster.stop_all()  # restore: stop all, put every directory back, start
    for directory in cluster.state_dirs():
        shutil.rmtree(directory)
        shutil.copytree(backup / directory.name, directory)
    cluster.start_all()
    cluster.wait_owned(timeout=90)
    with client(cluster, cluster.front) as reader:
        for user, sent in zip(users, before):
            deadline = time.monotonic() + 30
            while (answer := reader.get("/movements", params={"userId": user, "site": "default"})
                   ).status_code != 200:
                assert time.monotonic() < deadline, answer.text
                time.sleep(0.5)
            assert [m["eventId"] for m in answer.json()["movements"]] == [sent["eventId"]], user


def test_a_node_without_nats_is_not_ready_until_it_reconnects(cluster):
    node = cluster.members[0]
    for server in cluster.servers:
        server.signal(signal.SIGKILL)
    try:
        def unready() -> bool:
            answer = httpx.get(f"{node.url}/readyz", timeout=5)
            return answer.status_code == 503 and answer.json()["error"] == "nats_unavailable"

        loopback.wait_until(unready, 30, "/readyz 503 without NATS")
    finally:
        for server in cluster.servers:
            server.start()
    loopback.wait_until(lambda: all(server.ready() for server in cluster.servers), 60, "NATS back")
    loopback.wait_until(lambda: loopback.get(f"{node.url}/readyz", timeout=5) == 200, 60, "ready again")
    cluster.wait_owned(timeout=90)
