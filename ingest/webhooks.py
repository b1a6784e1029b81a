"""Signing and sending webhook bodies. Pure module: no Django.

The signature is GitHub's convention: ``X-Signature-256: sha256=<hex>``, the
HMAC-SHA256 of the raw request body with the shared secret. A receiver checks
it with ``hmac.compare_digest`` over the bytes it received.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Signature-256"


def sign(body: bytes, secret: bytes) -> str:
    """The ``X-Signature-256`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What one POST got.

    Attributes:
        status_code: the HTTP status, or None when no answer came (timeout, refused).
        error: what went wrong, in words ('' for a 2xx).
        duration: seconds from sending to the answer (or the failure).
    """

    status_code: int | None
    error: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_json(url: str, body: bytes, *, secret: bytes, timeout: float, headers: dict[str, str]) -> Answer:
    """POST a JSON body, signed; never raises for network or HTTP errors.

    Args:
        url: the receiver.
        body: the raw JSON bytes (signed as they are sent).
        secret: the shared HMAC key.
        timeout: seconds to wait for the answer.
        headers: extra headers.
    """
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret),
            **headers,
        },
    )
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
            status = response.status
        error = "" if 200 <= status < 300 else f"HTTP {status}"
        return Answer(status, error, time.monotonic() - began)
    except urllib.error.HTTPError as exc:
        exc.close()
        return Answer(exc.code, f"HTTP {exc.code} {exc.reason}", time.monotonic() - began)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(None, f"no answer: {reason}", time.monotonic() - began)
