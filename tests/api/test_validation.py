"""Every rule of the contract's "Identifiers and limits" and "Errors": one row a case."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from helpers import DAY, MINUTE, TOKEN, movement, now_ms, saturated_writer, service_env
from tracker.app import create_app
from tracker.config import Config


class FromNow(int):
    """A timestamp this many ms from the moment the request is sent, not from collection."""


def resolve(value):
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return now_ms() + value if isinstance(value, FromNow) else value


def track(**fields):
    return ("POST", "/track", {**movement(), **fields})


def batch(events):
    return ("POST", "/track", {"events": events})


def session(**fields):
    return ("POST", "/session", {"userId": "u1", "sessionId": "s1", **fields})


def without(field: str):
    return ("POST", "/track", {k: v for k, v in movement().items() if k != field})


def get(path: str, **headers: str):
    return ("GET", path, None, headers)


def padded_to(size: int) -> tuple:
    """A valid body of exactly `size` bytes (trailing whitespace is valid JSON)."""
    body = json.dumps(movement())
    return ("POST", "/track", body + " " * (size - len(body)))


CASES = [
    # name, request, status, error code
    ("userId 128 characters", track(userId="u" * 128), 200, None),
    ("userId 128 code points beyond the BMP", track(userId="\U0001F600" * 128), 200, None),
    ("userId 129 characters", track(userId="u" * 129), 422, "invalid_field"),
    ("userId empty", track(userId=""), 422, "invalid_field"),
    ("userId control character", track(userId="a\u0007b"), 422, "invalid_field"),
    ("userId C1 control character", track(userId="a\u0085b"), 422, "invalid_field"),
    ("userId not a string", track(userId=12), 422, "invalid_field"),
    ("userId null", track(userId=None), 422, "invalid_field"),
    ("userId missing", without("userId"), 422, "invalid_field"),
    ("sessionId 128 characters", track(sessionId="s" * 128), 200, None),
    ("sessionId missing", without("sessionId"), 422, "invalid_field"),
    ("sessionId not a string", track(sessionId=["s"]), 422, "invalid_field"),
    ("sessionId 129 characters", track(sessionId="s" * 129), 422, "invalid_field"),
    ("sessionId empty", track(sessionId=""), 422, "invalid_field"),
    ("sessionId control character", track(sessionId="s\n"), 422, "invalid_field"),
    ("event 64 characters", track(event="e" * 64), 200, None),
    ("event 65 characters", track(event="e" * 65), 422, "invalid_field"),
    ("event empty", track(event=""), 422, "invalid_field"),
    ("event control character", track(event="\x7fclick"), 422, "invalid_field"),
    ("event missing", without("event"), 422, "invalid_field"),
    ("event not a string", track(event=True), 422, "invalid_field"),
    ("event 64 code points beyond the BMP", track(event="\U0001F600" * 64), 200, None),
    ("eventId 64 characters", track(eventId="i" * 64), 200, None),
    ("eventId 65 characters", track(eventId="i" * 65), 422, "invalid_field"),
    ("eventId empty", track(eventId=""), 422, "invalid_field"),
    ("eventId control character", track(eventId="a\tb"), 422, "invalid_field"),
    ("eventId null is absent", track(eventId=None), 200, None),
    ("eventId not a string", track(eventId=7), 422, "invalid_field"),
    ("timestamp absent", track(), 200, None),
    ("timestamp null is absent", track(timestamp=None), 200, None),
    ("timestamp 9 minutes ahead", track(timestamp=FromNow(9 * MINUTE)), 200, None),
    ("timestamp 11 minutes ahead", track(timestamp=FromNow(11 * MINUTE)), 422, "invalid_field"),
    ("timestamp 29 days ago", track(timestamp=FromNow(-29 * DAY)), 200, None),
    ("timestamp 31 days ago", track(timestamp=FromNow(-31 * DAY)), 422, "invalid_field"),
    ("timestamp not an integer", track(timestamp=1.5), 422, "invalid_field"),
    ("timestamp a string", track(timestamp="1700000000000"), 422, "invalid_field"),
    ("timestamp negative", track(timestamp=-1), 422, "invalid_field"),
    ("timestamp huge", ("POST", "/track", '{"userId":"u","sessionId":"s","event":"e","timestamp":1' + "0" * 40 + "}"), 422, "invalid_field"),
    ("data an object", track(data={"path": "/", "n": [1, 2]}), 200, None),
    ("data null is absent", track(data=None), 200, None),
    ("data an array", track(data=[1]), 422, "invalid_field"),
    ("data a string", track(data="x"), 422, "invalid_field"),
    ("data 16 KiB encoded", track(data={"k": "x" * (16 * 1024 - 8)}), 200, None),
    ("data over 16 KiB encoded", track(data={"k": "x" * (16 * 1024)}), 422, "invalid_field"),
    ("data 16 KiB counted encoded, not in characters", track(data={"k": "\u00e9" * 8200}), 422, "invalid_field"),
    ("data with a number too large", ("POST", "/track", '{"userId":"u","sessionId":"s","event":"e","data":{"n":1e400}}'), 422, "invalid_field"),
    ("data with an integer too large", ("POST", "/track", '{"userId":"u","sessionId":"s","event":"e","data":{"n":1' + "0" * 5000 + "}}"), 422, "invalid_field"),
    ("unknown fields ignored", track(browser="new-client"), 200, None),
    ("batch of 500", batch([movement()] * 500), 200, None),
    ("batch of 501", batch([movement()] * 501), 422, "invalid_field"),
    ("batch empty", batch([]), 422, "invalid_field"),
    ("batch not a list", ("POST", "/track", '{"events": {"a": 1}}'), 422, "invalid_field"),
    ("batch event not an object", batch([1]), 422, "invalid_field"),
    ("batch event null", batch([None]), 422, "invalid_field"),
    ("body of exactly 1 MiB", padded_to(1024 * 1024), 200, None),
    ("body of 1 MiB and a byte", padded_to(1024 * 1024 + 1), 413, "body_too_large"),
    ("body over 1 MiB", batch([movement(data={"k": "x" * 15000})] * 80), 413, "body_too_large"),
    ("malformed JSON", ("POST", "/track", '{"userId": '), 400, "malformed_json"),
    ("empty body", ("POST", "/track", ""), 400, "malformed_json"),
    ("body an array", ("POST", "/track", "[]"), 400, "not_an_object"),
    ("body a number", ("POST", "/track", "12"), 400, "not_an_object"),
    ("body not UTF-8", ("POST", "/track", b'{"userId":"\xff","sessionId":"s","event":"e"}'), 400, "malformed_json"),
    ("deeply nested data", ("POST", "/track", '{"data":' + "[" * 100_000 + "]" * 100_000 + "}"), 400, "malformed_json"),
    ("session minimal", session(), 200, None),
    ("session deviceInfo object", session(deviceInfo={"screen": "1x1"}), 200, None),
    ("session deviceInfo null is absent", session(deviceInfo=None), 200, None),
    ("session deviceInfo an array", session(deviceInfo=[]), 422, "invalid_field"),
    ("session deviceInfo 16 KiB", session(deviceInfo={"k": "x" * (16 * 1024 - 8)}), 200, None),
    ("session deviceInfo over 16 KiB", session(deviceInfo={"k": "x" * (16 * 1024)}), 422, "invalid_field"),
    ("session userId missing", ("POST", "/session", '{"sessionId": "s1"}'), 422, "invalid_field"),
    ("session userId 129 characters", session(userId="u" * 129), 422, "invalid_field"),
    ("session sessionId control character", session(sessionId="\x00"), 422, "invalid_field"),
    ("session body an array", ("POST", "/session", "[1]"), 400, "not_an_object"),
    ("session malformed JSON", ("POST", "/session", "{"), 400, "malformed_json"),
    ("415 content type", ("POST", "/track", json.dumps(movement()), {"Content-Type": "application/xml"}), 415, "unsupported_media_type"),
    ("405 GET /track", get("/track"), 405, "method_not_allowed"),
    ("405 PUT /track", ("PUT", "/track", "{}"), 405, "method_not_allowed"),
    ("405 DELETE /session", ("DELETE", "/session", None), 405, "method_not_allowed"),
    ("404 unknown path", get("/nowhere"), 404, "not_found"),
    ("404 no live session", get("/session?sessionId=nope"), 404, "not_found"),
    ("401 no token", get("/movements?userId=u1", Authorization=""), 401, "unauthorized"),
    ("401 wrong token", get("/movements?userId=u1", Authorization="Bearer wrong"), 401, "unauthorized"),
    ("401 token of another scheme", get("/session?sessionId=s1", Authorization=f"Basic {TOKEN}"), 401, "unauthorized"),
    ("401 token prefix", get("/session?sessionId=s1", Authorization=f"Bearer {TOKEN[:-1]}"), 401, "unauthorized"),
    ("bearer scheme in any case", get("/movements?userId=u1", Authorization=f"bEaReR {TOKEN}"), 200, None),
    ("read sessionId missing", get("/session"), 422, "invalid_field"),
    ("read sessionId 129 characters", get("/session?sessionId=" + "s" * 129), 422, "invalid_field"),
    ("read sessionId control character", get("/session?sessionId=a%07b"), 422, "invalid_field"),
    ("read userId missing", get("/movements"), 422, "invalid_field"),
    ("read userId empty", get("/movements?userId="), 422, "invalid_field"),
    ("read limit 0", get("/movements?userId=u1&limit=0"), 422, "invalid_field"),
    ("read limit 1001", get("/movements?userId=u1&limit=1001"), 422, "invalid_field"),
    ("read limit not an integer", get("/movements?userId=u1&limit=ten"), 422, "invalid_field"),
    ("read from negative", get("/movements?userId=u1&from=-1"), 422, "invalid_field"),
    ("read cursor not ours", get("/movements?userId=u1&cursor=%%%"), 422, "invalid_field"),
    ("read event 65 characters", get("/movements?userId=u1&event=" + "e" * 65), 422, "invalid_field"),
]


@pytest.fixture(scope="module")
def table_client(tmp_path_factory) -> Iterator[TestClient]:
    """One service for the whole table: no row depends on what another stored."""
    config = Config.from_env(service_env(tmp_path_factory.mktemp("table") / "data"))
    with TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    method, path, body, *extra = request_
    if isinstance(body, dict):
        body = json.dumps(resolve(body))
    headers = {"Content-Type": "application/json", **(extra[0] if extra else {})}
    response = table_client.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"] == code
        assert response.headers["content-type"] == "application/json"


def test_401_says_nothing_about_the_token(client):
    answers = [client.get("/movements", params={"userId": "u1"}, headers={"Authorization": value})
               for value in ("", "Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}")]
    assert {(a.status_code, a.text, a.headers["WWW-Authenticate"]) for a in answers} == {
        (401, answers[0].text, "Bearer")}


def test_429_rate_limited_with_retry_after(make_client):
    client = make_client(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1")
    assert client.post("/track", json=movement()).status_code == 200
    response = client.post("/track", json=movement())
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_503_overloaded_with_retry_after(make_client):
    client = make_client(TRACKER_QUEUE_LIMIT="1", TRACKER_SHARDS="1")
    with saturated_writer(client):
        response = client.post("/track", json=movement())
        assert response.status_code == 503 and response.json()["error"] == "overloaded"
        assert int(response.headers["Retry-After"]) >= 1


def test_body_streamed_over_limit_is_cut_off_without_reading_it_all(tracker_server):
    """A chunked body with no Content-Length: the answer comes after about 1 MiB, not at its end."""
    server = tracker_server()
    chunk = b"x" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        while sent < 64 * 1024 * 1024 and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = _read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"error":"body_too_large"' in answer
    assert sent < 16 * 1024 * 1024


def _read_answer(sock: socket.socket) -> bytes:
    """Head and body of one HTTP answer (its Content-Length says where it ends)."""
    answer = b""
    while True:
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                       if line.startswith(b"content-length:")), None)
        if length is not None and len(body) >= length:
            return answer
        data = sock.recv(65536)
        if not data:
            return answer
        answer += data


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data",
                                          "application/x-www-form-urlencoded"])
def test_other_content_types_are_415(client, content_type):
    response = client.post("/track", content=json.dumps(movement()),
                           headers={"Content-Type": content_type})
    assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"


def test_error_detail_names_the_batch_index_and_field(client):
    events = [movement(), movement(), movement(timestamp=1)]
    detail = client.post("/track", json={"events": events}).json()["detail"]
    assert "$.events[2].timestamp" in detail


def test_body_announced_over_limit_is_refused_before_reading(client):
    response = client.post("/track", content=b"{}",
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(2 * 1024 * 1024)})
    assert response.status_code == 413
