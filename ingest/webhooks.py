"""Webhook URLs that cannot reach inside, and signed POSTs to them.

A webhook URL is typed by whoever uploads, and the worker that POSTs to it sits
inside our network: left alone it is a server-side request forgery (SSRF) tool
(Redis on 127.0.0.1:6379, the cloud metadata service on 169.254.169.254, a
port scanner through the delivery log). So:

* :func:`webhook_targets` accepts ``http`` and ``https`` URLs without
  credentials, resolves the host once, and refuses it unless every address is
  public (:func:`address_category`): loopback, private, shared (100.64/10),
  link-local, multicast, reserved, unspecified and cloud-metadata addresses,
  whether written as IPv4 in any spelling ``inet_aton`` accepts (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``), as IPv6, or as IPv6 carrying an IPv4
  (mapped ``::ffff:a.b.c.d``, compatible ``::a.b.c.d``, 6to4 ``2002::/16``,
  NAT64 ``64:ff9b::/96``); ``localhost`` and ``*.localhost`` (RFC 6761) and
  trailing-dot names included. :func:`validate_webhook_url` runs it at upload
  (a 400).
* :func:`post_json` runs it again at delivery, connects to the address it
  resolved (never resolving twice, so DNS rebinding gets the address checked),
  checks the peer the socket actually reached, and sends the original host as
  ``Host`` and TLS SNI (certificates are verified against it). No proxy from the
  environment, no redirects (a 3xx is a failure), one deadline for connect +
  send + the whole answer (not per socket read), and at most
  :data:`MAX_ANSWER_BYTES` of the answer read.
* Errors are recorded in generic words (``timeout``, ``HTTP 500``,
  ``refused: private address``...), never socket or host details.

``allow_private`` (``DJANGO_WEBHOOK_ALLOW_PRIVATE``, for a receiver on the
developer's machine) lets loopback, private and shared addresses through;
cloud-metadata, link-local, multicast, reserved and unspecified addresses are
refused even then.

The signature is GitHub's convention: ``X-Signature-256: sha256=<hex>``, the
HMAC-SHA256 of the raw request body with the shared secret. A receiver checks
it with ``hmac.compare_digest`` over the bytes it received.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SIGNATURE_HEADER = "X-Signature-256"

#: Bytes of the receiver's answer read at most (status line, headers and body); the rest is dropped.
MAX_ANSWER_BYTES = 4096

#: Every recorded error of an address refused at delivery starts with this (no retry follows).
REFUSED = "refused: "

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance-metadata and platform services: refused even with ``allow_private``.
#: AWS (IMDS IPv4 and IPv6, ECS task metadata, the VPC resolver), GCP, Azure (IMDS and
#: the WireServer, a public address), OpenStack, DigitalOcean, Oracle Cloud, Alibaba Cloud.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.169.253",
        "169.254.170.2",
        "fd00:ec2::254",
        "fd00:ec2::253",
        "168.63.129.16",
        "192.0.0.192",
        "100.100.100.200",
    )
)

#: Categories ``allow_private`` lets through (a receiver on the developer's machine or LAN).
PRIVATE_CATEGORIES = frozenset({"loopback", "private", "shared"})

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))  # RFC 6052, 8215
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 (deprecated)
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$")


class WebhookRefused(Exception):
    """A webhook URL that is not accepted; ``str()`` says why in generic words."""


class WebhookUnresolvable(WebhookRefused):
    """The host does not resolve (now: at delivery this may pass, so it is retried)."""


def sign(body: bytes, secret: bytes) -> str:
    """The ``X-Signature-256`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, compatible), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_category(ip: IPAddress) -> str | None:  # noqa: PLR0911 (one return per address class, a table)
    """What kind of non-public address ``ip`` is, or None for a public (global unicast) one.

    Args:
        ip: an IPv4 or IPv6 address (an IPv6 scope id is ignored).

    Returns:
        ``"metadata"``, ``"unspecified"``, ``"multicast"``, ``"link-local"``,
        ``"loopback"``, ``"private"``, ``"shared"`` (100.64/10), ``"reserved"``
        (anything else IANA does not list as globally reachable, per
        :mod:`ipaddress`), or None. An IPv6 address carrying an IPv4 one (mapped,
        compatible, 6to4, NAT64) is the category of that IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(ip.compressed.split("%")[0])
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_category(inner)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_link_local:
        return "link-local"
    if ip.is_loopback:
        return "loopback"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def _check_address(ip: IPAddress, allow_private: bool) -> None:
    """Raise :class:`WebhookRefused` ("loopback address"...) unless ``ip`` may be connected to."""
    category = address_category(ip)
    if category is not None and not (allow_private and category in PRIVATE_CATEGORIES):
        raise WebhookRefused(f"{'cloud metadata' if category == 'metadata' else category} address")


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart, with the addresses its host resolved to (all checked).

    Attributes:
        scheme: ``http`` or ``https``.
        host: the host name as written, lower case, without brackets or trailing dots
            (sent as ``Host`` and TLS SNI).
        port: the TCP port.
        path: path and query, as sent in the request line.
        addresses: ``(family, sockaddr)`` pairs for ``socket.connect``, in resolver order.
    """

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, tuple[Any, ...]], ...]


def _resolve(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    """``(family, sockaddr)`` of a host: an IP literal (any IPv4 spelling) or a DNS name."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        if _LEGACY_IPV4.match(host):
            try:  # 2130706433, 0177.0.0.1, 0x7f.1, 127.1: what the C resolver would connect to
                literal = ipaddress.IPv4Address(socket.inet_aton(host))
            except OSError:
                raise WebhookRefused("invalid host") from None
    if isinstance(literal, ipaddress.IPv4Address):
        return [(socket.AF_INET, (str(literal), port))]
    if isinstance(literal, ipaddress.IPv6Address):
        return [(socket.AF_INET6, (str(literal).split("%")[0], port, 0, 0))]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise WebhookUnresolvable("host does not resolve") from None
    found: list[tuple[int, tuple[Any, ...]]] = [
        (family, sockaddr)
        for family, _, _, _, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    if not found:
        raise WebhookUnresolvable("host does not resolve")
    return found


def webhook_targets(url: str, *, allow_private: bool) -> Target:
    """Check a webhook URL and resolve its host once.

    Args:
        url: the URL as uploaded.
        allow_private: let loopback, private and shared addresses through
            (``DJANGO_WEBHOOK_ALLOW_PRIVATE``); the other categories are always refused.

    Returns:
        The target, every address of which may be connected to.

    Raises:
        WebhookRefused: not ``http``/``https``, credentials in the URL, no or a
            malformed host or port, control characters, spaces or a non-ASCII path,
            or one of the host's addresses is not public ("loopback address",
            "cloud metadata address"...).
        WebhookUnresolvable: the host does not resolve (a WebhookRefused).
    """
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise WebhookRefused("control characters or spaces in the URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused("invalid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookRefused("the scheme must be http or https")
    if "@" in parts.netloc:
        raise WebhookRefused("credentials in the URL are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookRefused("invalid host")
    if port is None:
        port = 443 if scheme == "https" else 80
    if not 0 < port < 65536:
        raise WebhookRefused("invalid port")
    if not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise WebhookRefused("loopback address")
    path = parts.path or "/"
    if not (path + parts.query).isascii():
        raise WebhookRefused("the path must be ASCII (percent-encode it)")
    addresses = _resolve(host, port)
    for _, sockaddr in addresses:
        _check_address(ipaddress.ip_address(sockaddr[0]), allow_private)
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, tuple(addresses))


def validate_webhook_url(value: str) -> None:
    """Field validator of ``webhook_url`` at upload: :func:`webhook_targets` with the settings.

    Raises:
        django.core.exceptions.ValidationError: the URL is refused (DRF answers 400
            ``invalid_parameter`` with ``fields.webhook_url``).
    """
    if not value:
        return
    try:
        webhook_targets(value, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    except WebhookRefused as exc:
        raise ValidationError(f"webhook URL refused: {exc}", code="invalid") from None


@dataclass(frozen=True)
class Answer:
    """What one POST got.

    Attributes:
        status_code: the HTTP status, or None when no answer came (refused, timeout...).
        error: what went wrong, in generic words ('' for a 2xx).
        duration: seconds from the start to the answer (or the failure).
    """

    status_code: int | None
    error: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def refused(self) -> bool:
        """The URL was refused before any connection: trying again cannot help."""
        return self.error.startswith(REFUSED)


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes until a monotonic deadline and up to ``limit`` bytes (then end of file)."""

    def __init__(self, sock: socket.socket, deadline: float, limit: int):
        self._sock, self._deadline, self._left = sock, deadline, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self._left <= 0:
            return 0
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self._sock.settimeout(remaining)
        received = self._sock.recv_into(memoryview(buffer)[: self._left])
        self._left -= received
        return received


class _DeadlineSocket:
    """What :mod:`http.client` needs of a socket, every operation within one deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock, self._deadline = sock, deadline

    def sendall(self, data: bytes) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self._sock.settimeout(remaining)  # a total for sendall (Python >= 3.5)
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline, MAX_ANSWER_BYTES))

    def close(self) -> None:
        """The caller closes the real socket once the answer is read."""


def _connect(target: Target, deadline: float, allow_private: bool) -> socket.socket:
    """A connected (TLS-wrapped for https) socket to one of the target's checked addresses.

    Raises:
        WebhookRefused: the peer the socket reached is not an address we may reach.
        OSError: no address could be connected to (TimeoutError past the deadline).
    """
    error: OSError = OSError("no address")
    for family, sockaddr in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(remaining)
            sock.connect(sockaddr)
            _check_address(ipaddress.ip_address(sock.getpeername()[0]), allow_private)
            if target.scheme == "https":
                sock.settimeout(max(deadline - time.monotonic(), 0.001))  # the handshake's total
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        except OSError as exc:
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    raise error


def post_json(  # noqa: PLR0911 (one return per delivery outcome)
    url: str,
    body: bytes,
    *,
    secret: bytes,
    timeout: float,
    headers: dict[str, str],
    allow_private: bool,
) -> Answer:
    """POST a JSON body, signed, to a checked address; never raises for network or HTTP errors.

    Args:
        url: the receiver (checked again here: see the module).
        body: the raw JSON bytes (signed as they are sent).
        secret: the shared HMAC key.
        timeout: seconds for everything: resolving aside, connect, TLS, send and the
            answer (status, headers, up to :data:`MAX_ANSWER_BYTES` in all).
        headers: extra headers.
        allow_private: see :func:`webhook_targets`.

    Returns:
        The answer; ``error`` is one of ``refused: <why>`` (not worth retrying),
        ``DNS lookup failed``, ``timeout``, ``connection failed``, ``TLS error``,
        ``bad answer``, ``HTTP <status>``.
    """
    began = time.monotonic()
    deadline = began + timeout

    def answer(status_code: int | None, error: str) -> Answer:
        return Answer(status_code, error, time.monotonic() - began)

    try:
        target = webhook_targets(url, allow_private=allow_private)
    except WebhookUnresolvable:
        return answer(None, "DNS lookup failed")
    except WebhookRefused as exc:
        return answer(None, f"{REFUSED}{exc}")
    sock = None
    try:
        sock = _connect(target, deadline, allow_private)
        connection_class = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(target.host, target.port)
        connection.sock = _DeadlineSocket(sock, deadline)
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "Connection": "close",
                SIGNATURE_HEADER: sign(body, secret),
                **headers,
            },
        )
        response = connection.getresponse()
        status = response.status
        # The rest of the answer, up to the byte limit, within the deadline; cut at
        # MAX_ANSWER_BYTES, or closed early: the status is known.
        with contextlib.suppress(http.client.IncompleteRead):
            response.read()
    except WebhookRefused as exc:
        return answer(None, f"{REFUSED}{exc}")
    except TimeoutError:
        return answer(None, "timeout")
    except ssl.SSLError:
        return answer(None, "TLS error")
    except (http.client.HTTPException, ValueError):
        return answer(None, "bad answer")
    except OSError:
        return answer(None, "connection failed")
    finally:
        if sock is not None:
            sock.close()
    if 200 <= status < 300:
        return answer(status, "")
    if 300 <= status < 400:
        return answer(status, f"HTTP {status} (redirects are not followed)")
    return answer(status, f"HTTP {status}")
