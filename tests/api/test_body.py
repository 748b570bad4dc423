"""Reading a request body: its size, JSON and content type."""

from __future__ import annotations

import json
import select
import socket

import pytest

from helpers import movement
from rule_table import batch, check_rule, padded_to

CASES = [
    # name, request, status, error code
    ("body of exactly 1 MiB", padded_to(1024 * 1024), 200, None),
    ("body of 1 MiB and a byte", padded_to(1024 * 1024 + 1), 413, "body_too_large"),
    ("body over 1 MiB", batch([movement(data={"k": "x" * 15000})] * 80), 413, "body_too_large"),
    ("malformed JSON", ("POST", "/track", '{"userId": '), 400, "malformed_json"),
    ("empty body", ("POST", "/track", ""), 400, "malformed_json"),
    ("body an array", ("POST", "/track", "[]"), 400, "not_an_object"),
    ("body a number", ("POST", "/track", "12"), 400, "not_an_object"),
    ("body not UTF-8", ("POST", "/track", b'{"userId":"\xff","sessionId":"s","event":"e"}'), 400, "malformed_json"),
    ("deeply nested data", ("POST", "/track", '{"data":{"a":' + "[" * 100_000 + "]" * 100_000 + "}}"), 400, "malformed_json"),
    ("session body an array", ("POST", "/session", "[1]"), 400, "not_an_object"),
    ("session malformed JSON", ("POST", "/session", "{"), 400, "malformed_json"),
    ("415 content type", ("POST", "/track", json.dumps(movement()), {"Content-Type": "application/xml"}), 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)


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


def test_body_announced_over_limit_is_refused_before_reading(client):
    response = client.post("/track", content=b"{}",
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(2 * 1024 * 1024)})
    assert response.status_code == 413
