"""Ingest in cluster mode: a request's events published to the stream, answered once stored.

`Publisher.events` groups a request's rows by shard number, publishes one
message per group at once, and returns when JetStream has acknowledged every
one: each is then on a majority of the stream's replicas. A group the stream
acknowledges as a duplicate (the same batch sent again within its duplicate
window) counts as duplicates in the answer. A publish that fails or times
out fails the request (503): some groups may be stored already, and the
client's retry with the same eventIds stores each event once.
"""

from __future__ import annotations

import asyncio
import uuid

import nats.errors
import nats.js.errors
from nats.js.api import PubAck

from tracker.cluster import auth, codec, messages
from tracker.cluster.jetstream import JetStream, subject
from tracker.storage.rows import MovementRow
from tracker.storage.store import Unavailable

PUBLISH_TIMEOUT_SECONDS = 5.0
MSG_ID = "Nats-Msg-Id"


class StreamUnavailable(Unavailable):
    """The stream did not acknowledge a publish in time; nothing can be promised stored."""


class Publisher:
    def __init__(self, jet: JetStream, shard_count: int, secret: str):
        self._jet = jet
        self._shard_count = shard_count
        self._secret = secret

    def shard_of_key(self, key: int) -> int:
        return key % self._shard_count

    async def events(self, rows: list[tuple[int, int, MovementRow]], context: str | None) -> int:
        """Publish (site, shard number, row) triples; returns how many were not known
        duplicates, once every message is acknowledged."""
        groups: dict[int, list[tuple[int, MovementRow]]] = {}
        for site, shard, row in rows:
            groups.setdefault(shard, []).append((site, row))
        acks = await asyncio.gather(*(self._publish(
            shard, messages.encode(messages.events(group, context)),
            messages.message_id(shard, group)) for shard, group in groups.items()))
        return sum(len(group) for group, duplicate in zip(groups.values(), acks) if not duplicate)

    async def job(self, shard: int, site: int, work: object) -> tuple[str, int]:
        """Publish a write job for shard `shard` of site `site`; returns its ticket and stream
        position once acknowledged."""
        body = codec.dumps(work)
        ticket = uuid.uuid4().hex
        job = messages.Job(site, body, auth.sign_job(self._secret, body), ticket)
        seq = await self._publish_seq(shard, messages.encode(job), f"j:{ticket}")
        return ticket, seq

    async def _publish(self, shard: int, payload: bytes, msg_id: str) -> bool:
        """Publish; True when the stream already held a message with this id."""
        ack = await self._ack(shard, payload, msg_id)
        return bool(ack.duplicate)

    async def _publish_seq(self, shard: int, payload: bytes, msg_id: str) -> int:
        return (await self._ack(shard, payload, msg_id)).seq

    async def _ack(self, shard: int, payload: bytes, msg_id: str) -> PubAck:
        try:
            return await self._jet.js.publish(subject(shard), payload, timeout=PUBLISH_TIMEOUT_SECONDS,
                                              headers={MSG_ID: msg_id})
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
            raise StreamUnavailable(repr(error)) from error
