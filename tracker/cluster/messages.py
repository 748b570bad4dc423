"""What the stream's messages hold: a request's events for one shard, or a signed write job.

One message carries every event of one request that belongs to one shard
number (of any site), with the request's context: a request is published as
at most one message per shard it touches, never one per event. Its
`Nats-Msg-Id` is made from the events' (site, userId, eventId), so a
client's retry of the same batch within the stream's duplicate window is
dropped by the stream, and acknowledged as a duplicate; events without an
eventId get a random id. Whatever gets past that (a retry in another batch,
or after the window) is stored once all the same: folding skips an eventId
its shard already holds.

A write job (POST /session, an erasure's steps) is a pickled function of the
shard file's connection, signed with the cluster secret, run by the owner in
stream order with the events, so that a node that takes the shard over
replays it too.
"""

from __future__ import annotations

import hashlib
import uuid

import msgspec

from tracker.storage.rows import MovementRow


class Events(msgspec.Struct, tag="e", array_like=True):
    # (site, userId, sessionId, timestamp, event, data, eventId, revenue, currency)
    rows: list[tuple[int, str, str, int, str, str, str | None, str | None, str | None]]
    context: str | None


class Job(msgspec.Struct, tag="j", array_like=True):
    site: int
    work: bytes
    mac: str
    # Tells the node waiting for the job's outcome which message answers it.
    ticket: str


Message = Events | Job

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)


def encode(message: Message) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes) -> Message:
    return _decoder.decode(data)


def events(rows: list[tuple[int, MovementRow]], context: str | None) -> Events:
    return Events([(site, *row) for site, row in rows], context)


def movements(message: Events) -> list[tuple[int, MovementRow]]:
    return [(row[0], MovementRow(*row[1:])) for row in message.rows]


def message_id(shard: int, rows: list[tuple[int, MovementRow]]) -> str:
    """The same for the same events of a shard, when every one has an eventId; else random."""
    if any(row.eventId is None for _site, row in rows):
        return f"r:{uuid.uuid4().hex}"
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(shard).encode())
    for site, row in rows:
        for part in (str(site), row.userId, row.eventId or ""):
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part.encode())
    return f"e:{digest.hexdigest()}"
