"""A real SMTP server on loopback (aiosmtpd) for the tests of email reports."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from aiosmtpd.controller import Controller

from helpers import free_port

FROM = "reports@tracker.test"


class Mailbox:
    """An SMTP server's handler: keeps each message; answers DATA with the next of `replies`
    (then 250), and with `hold` set waits for it to be cleared before answering."""

    def __init__(self, replies: tuple[str, ...] = ()):
        self.messages: list[bytes] = []
        self.tries = 0
        self.replies = list(replies)
        self.hold = threading.Event()
        self.held = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(envelope.original_content)
        if self.hold.is_set():
            self.held.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        return "250 OK"


@contextlib.contextmanager
def mail_server(mailbox: Mailbox) -> Iterator[str]:
    """A mail server on 127.0.0.1 handing messages to `mailbox`: its URL, until the block ends."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def mail_env(url: str) -> dict[str, str]:
    """A service sending through `url`, running its jobs every second."""
    return {"TRACKER_SMTP_URL": url, "TRACKER_MAIL_FROM": FROM,
            "TRACKER_ALARM_INTERVAL_SECONDS": "1", "TRACKER_REPORT_RETRY_SECONDS": "1",
            "TRACKER_PUBLIC_URL": "https://tracker.example.com"}
