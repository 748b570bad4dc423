"""Sending one message through TRACKER_SMTP_URL, in steps the caller can record.

`smtp://host:port` (STARTTLS with `?starttls=true`) or `smtps://host:port`
(TLS from the start), the user and password in the URL. The envelope is
given first (MAIL FROM, RCPT TO); `before_data` runs just before the message
itself is handed over, so that the caller can record that from then on the
server may have it. A refusal says so with the server's own reply.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 60
# CRLF line ends, and headers folded only past SMTP's hard limit: a long List-Unsubscribe URL
# folded at 78 would be turned into encoded words that mail clients cannot follow.
SMTP_POLICY = SMTP.clone(max_line_length=998)
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailRefused(Exception):
    """The server could not be reached or refused the message: nothing was delivered."""


class MailUncertain(Exception):
    """The connection broke while the server was being given the message: it may have it."""


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """The server of an smtp:// or smtps:// URL; ValueError naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError("must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("names no host")
        starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in ("true", "1", "yes")
        return cls(parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme],
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, starttls)

    def connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)


def send(server: SmtpServer, message: EmailMessage, before_data: Callable[[], None]) -> None:
    """Deliver `message` to its From and To; MailRefused when surely not delivered,
    MailUncertain when it may have been."""
    try:
        smtp = server.connect()
    except (OSError, smtplib.SMTPException) as error:
        raise MailRefused(f"cannot reach {server.host}:{server.port}: {error}") from None
    with smtp:
        _envelope(smtp, server, message)
        before_data()
        try:
            # smtplib fixes line ends in text but sends bytes as they are: CRLF from the policy.
            code, reply = smtp.data(message.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPResponseException as error:  # DATA itself refused: nothing was sent
            raise MailRefused(f"the server refused the message: {error.smtp_code} "
                              f"{_text(error.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailUncertain(f"the connection broke while sending the message: {error}") from None
        if code != 250:  # smtplib answers the reply to the message itself without raising
            raise MailRefused(f"the server refused the message: {code} {_text(reply)}")


def _envelope(smtp: smtplib.SMTP, server: SmtpServer, message: EmailMessage) -> None:
    try:
        smtp.ehlo()
        if server.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if server.user is not None:
            smtp.login(server.user, server.password or "")
        code, reply = smtp.mail(str(message["From"]))
        if code != 250:
            raise MailRefused(f"the server refused the sender: {code} {_text(reply)}")
        code, reply = smtp.rcpt(str(message["To"]))
        if code not in (250, 251):
            raise MailRefused(f"the server refused the recipient: {code} {_text(reply)}")
    except (OSError, smtplib.SMTPException) as error:
        raise MailRefused(f"the server failed before the message was sent: {error}") from None


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
