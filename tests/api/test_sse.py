"""GET /live's stream against the real service: every movement once and soon, resumed without gaps, filtered, and dropped when its reader stops."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import httpx2 as httpx
import msgspec

from helpers import TOKEN, http_client, metric_samples, movement, now_ms


class Feed:
    """A GET /live stream read on a thread: (id, movement, arrival time) per event."""

    def __init__(self, server, query: str = "", last_event_id: str | None = None):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._client = http_client(base_url=server.url, headers=headers, timeout=30)
        self._stream = self._client.stream("GET", f"/live{query}")
        self.response = self._stream.__enter__()
        self.events: list[tuple[str, dict, float]] = []
        self.comments = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                elif "data" in fields:
                    self.events.append((fields["id"], msgspec.json.decode(fields["data"]),
                                        time.monotonic()))
                    fields = {}
        except httpx.HTTPError:
            pass

    def wait_for(self, count: int, seconds: float = 10) -> list[tuple[str, dict, float]]:
        deadline = time.monotonic() + seconds
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.events)

    def close(self) -> None:
        self._client.close()


def post(client: httpx.Client, events: list[dict]) -> float:
    """Post one batch; the time it was acknowledged."""
    assert client.post("/track", json={"events": events}).status_code == 200
    return time.monotonic()


def tagged(user: str, event: str = "click", session: str = "s1") -> dict:
    return movement(user=user, session=session, event=event, eventId=str(uuid.uuid4()))


def test_every_movement_arrives_once_within_a_second_from_either_worker(tracker_server):
    server = tracker_server(workers=2)
    feed = Feed(server)
    acknowledged = {}
    with server.client() as client:
        for round_ in range(20):
            batch = [tagged(f"user-{round_}-{i}") for i in range(5)]
            at = post(client, batch)
            acknowledged.update({e["eventId"]: at for e in batch})
    events = feed.wait_for(len(acknowledged))
    time.sleep(0.5)  # anything sent twice would come now
    feed.close()
    received = [m["eventId"] for _, m, _ in feed.events]
    assert sorted(received) == sorted(acknowledged)
    assert max(arrived - acknowledged[m["eventId"]] for _, m, arrived in events) < 1.0
    ids = [int(seq) for seq, _, _ in events]
    assert ids == sorted(ids)
    assert feed.response.headers["content-type"].startswith("text/event-stream")


def test_a_movement_carries_the_movement_fields(tracker_server):
    server = tracker_server(TRACKER_BOT_FILTER="false")
    feed = Feed(server)
    sent = tagged("alice", "signup") | {"data": {"plan": "pro"}, "timestamp": now_ms() - 1000}
    with server.client() as client:
        post(client, [sent])
        post(client, [{"event": "page_view", "data": {"path": "/"}}])
    events = feed.wait_for(2)
    feed.close()
    assert events[0][1] == {key: sent[key] for key in
                            ("userId", "sessionId", "timestamp", "event", "data", "eventId")}
    assert events[1][1]["sessionId"] is None  # anonymous: its session is decided when folded


def test_reconnecting_with_last_event_id_misses_nothing_and_repeats_nothing(tracker_server):
    server = tracker_server(workers=2)
    feed = Feed(server)
    sent = []
    with server.client() as client:
        for i in range(10):
            sent.append(tagged(f"u{i}"))
            post(client, [sent[-1]])
        first = feed.wait_for(10)
        feed.close()
        last_id = first[4][0]  # the client saw five, then lost the connection
        for i in range(10, 20):
            sent.append(tagged(f"u{i}"))
            post(client, [sent[-1]])
    again = Feed(server, last_event_id=last_id)
    rest = again.wait_for(15)
    time.sleep(0.5)
    again.close()
    seen = [m["eventId"] for _, m, _ in first[:5]] + [m["eventId"] for _, m, _ in again.events]
    assert seen == [e["eventId"] for e in sent]
    assert len(rest) == 15


def test_filters_by_user_and_event(tracker_server):
    server = tracker_server()
    by_user = Feed(server, "?userId=alice")
    by_event = Feed(server, "?event=buy")
    both = Feed(server, "?userId=alice&event=buy")
    with server.client() as client:
        post(client, [tagged("alice", "view"), tagged("bob", "buy"), tagged("alice", "buy"),
                      tagged("carol", "view")])
    users = [m["userId"] for _, m, _ in by_user.wait_for(2)]
    events = [m["userId"] for _, m, _ in by_event.wait_for(2)]
    matched = [(m["userId"], m["event"]) for _, m, _ in both.wait_for(1)]
    time.sleep(0.5)
    for feed in (by_user, by_event, both):
        feed.close()
    assert users == ["alice", "alice"] and len(by_user.events) == 2
    assert events == ["bob", "alice"] and len(by_event.events) == 2
    assert matched == [("alice", "buy")] and len(both.events) == 1


def test_an_erased_user_is_not_replayed(tracker_server):
    server = tracker_server()
    feed = Feed(server)
    with server.client() as client:
        post(client, [tagged("before")])
        post(client, [tagged("erased"), tagged("kept"), tagged("erased")])
        first = feed.wait_for(4)
        feed.close()
        assert client.delete("/users/erased").status_code == 200
    again = Feed(server, last_event_id=first[0][0])
    time.sleep(1.0)
    again.close()
    assert [m["userId"] for _, m, _ in again.events] == ["kept"]


def test_a_stream_that_stops_reading_is_dropped_while_ingest_goes_on(tracker_server):
    server = tracker_server(TRACKER_READER_TIMEOUT_SECONDS="1")
    stalled = socket.create_connection(("127.0.0.1", server.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(f"GET /live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
                    .encode())
    time.sleep(0.3)
    big = {"blob": "x" * 15_000}
    started = time.monotonic()
    with server.client() as client:
        while time.monotonic() - started < 30 and not dropped(client):
            batch = [movement(user=f"u{i}", data=big) for i in range(60)]
            assert client.post("/track", json={"events": batch}).status_code == 200
        assert dropped(client)
        samples = metric_samples(client.get("/metrics").text)
    assert samples[("tracker_live_streams",)] == 0
    stalled.close()


def dropped(client: httpx.Client) -> bool:
    samples = metric_samples(client.get("/metrics").text)
    return samples.get(("tracker_live_streams_dropped_total",), 0) >= 1


def test_streams_count_each_event_sent_however_many_go_in_one_write(tracker_server):
    server = tracker_server()
    feeds = [Feed(server) for _ in range(2)]
    with server.client() as client:
        for round_ in range(3):
            post(client, [tagged(f"user-{round_}-{i}") for i in range(40)])
        for feed in feeds:
            assert len(feed.wait_for(120)) == 120
        deadline = time.monotonic() + 5  # a write is counted just after it was handed over
        while sent_events(client) < 240 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sent_events(client) == 240
    for feed in feeds:
        feed.close()


def sent_events(client: httpx.Client) -> float:
    return metric_samples(client.get("/metrics").text)[("tracker_live_events_sent_total",)]
