"""Reading request bodies: content type checked first, size limited while streaming."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from tracker.api.errors import ApiError

T = TypeVar("T")

MAX_BODY_BYTES = 1024 * 1024

# text/plain is what navigator.sendBeacon sends for a string body; a body
# without a content type is read as JSON too.
JSON_CONTENT_TYPES = frozenset({"application/json", "text/plain", ""})


async def read_body(request: Request) -> bytes:
    headers = request.headers
    return await receive_body(request.receive, headers.get("content-type", ""),
                              headers.get("content-length", ""))


async def receive_body(receive: Receive, content_type: str, content_length: str) -> bytes:
    """The body from the ASGI `receive`, once the content type and the announced length pass;
    cut off once over MAX_BODY_BYTES rather than read on."""
    if content_type.partition(";")[0].strip().lower() not in JSON_CONTENT_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       "send application/json or text/plain")
    if content_length.isdigit() and int(content_length) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        if not message.get("more_body", False):
            return b"".join((*chunks, chunk)) if chunks else chunk
        chunks.append(chunk)


def _too_large() -> ApiError:
    return ApiError(413, "body_too_large", f"a request body is at most {MAX_BODY_BYTES} bytes")


def decode_object(decoder: msgspec.json.Decoder, body: bytes, check: Callable[[Any], T] | None = None) -> T:
    """Decode and validate (and `check` what was decoded); malformed JSON and non-objects are
    400, broken rules 422."""
    try:
        decoded = decoder.decode(body)
        return decoded if check is None else check(decoded)
    except msgspec.ValidationError as error:
        if body.lstrip()[:1] == b"{":  # an object: the error is about one of its fields
            raise ApiError(422, "invalid_field", str(error)) from None
        raise ApiError(400, "not_an_object", f"the body must be a JSON object: {error}") from None
    except msgspec.DecodeError as error:
        raise ApiError(400, "malformed_json", str(error)) from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "JSON nested too deeply") from None
    except UnicodeDecodeError as error:
        raise ApiError(400, "malformed_json", f"the body is not valid UTF-8: {error.reason}") from None
