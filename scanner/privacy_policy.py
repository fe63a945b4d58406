"""Privacy policies outside the package: a local file the developer names (``--privacy-policy``), or the
page the package links, fetched when the user opts in (``--fetch-privacy-policy``).

Most apps state permission purposes in an online privacy policy, not in the package (工信部信管函〔2023〕
26号 asks for the purposes to be told; the policy is where they are told). The URL comes from a package
that may be hostile, so fetching it is bounded and refuses what a server-side request must never reach:
http(s) only; every address the host resolves to must be public (no private, loopback, link-local,
multicast, reserved or unspecified address) unless the user allows its network; the check is made on
the resolved address, which is then the one connected to (no second lookup a rebinding DNS could
answer differently), and again on every redirect; size, time and redirects are capped.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scanner import __version__
from scanner.extract import textdecode
from scanner.i18n import msg
from scanner.model import Location, Text

MAX_BYTES = 2 * 1024 * 1024
"""Bytes read from a policy page (a real policy is tens of KB)."""
TIMEOUT = 10.0
"""Seconds for the whole fetch, redirects included."""
MAX_REDIRECTS = 5
MAX_FILE_BYTES = 16 * 1024 * 1024

Resolver = Callable[[str, int], Sequence[str]]


class PolicyError(ValueError):
    """A policy that could not be read or fetched, with the reason in one line."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """What a fetch may do: the networks the user allows besides public ones, and the caps."""

    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_bytes: int = MAX_BYTES
    timeout: float = TIMEOUT
    max_redirects: int = MAX_REDIRECTS


def networks(values: Sequence[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``127.0.0.1``, ``10.0.0.0/8`` … as networks; ValueError names a bad one."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ValueError(msg("invalid network {value} (an address or CIDR such as 10.0.0.0/8)",
                                 value=repr(value))) from exc
    return tuple(out)


def local_text(path: str) -> Text:
    """A policy file (HTML, Markdown or text) as one text of kind ``policy``; PolicyError when unreadable."""
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise PolicyError(msg("{path}: privacy policy over {value} MB",
                                  path=path, value=MAX_FILE_BYTES // (1024 * 1024)))
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise PolicyError(msg("{path}: privacy policy unreadable ({value})",
                              path=path, value=exc.strerror or exc)) from exc
    value = textdecode.file_text(path, data)
    if not value:
        raise PolicyError(msg("{path}: privacy policy is not text (HTML, Markdown or plain text)", path=path))
    return Text(value, Location(path, "policy", ""))


def allowed_address(address: str, limits: FetchLimits) -> bool:
    """A public unicast address, or one in a network the user allowed."""
    ip = ipaddress.ip_address(address)
    if any(ip in net for net in limits.allowed):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise PolicyError(msg("{host}: does not resolve ({exc})", host=host, exc=exc)) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def fetch_text(url: str, limits: FetchLimits, resolver: Resolver = _resolve) -> Text:
    """The policy page at ``url`` as a text of kind ``policy`` (member: the URL asked for, pointer: the
    URL read when redirected); PolicyError with the reason when a rule refuses it or it fails."""
    deadline = time.monotonic() + limits.timeout
    current = url
    for _ in range(limits.max_redirects + 1):
        status, location, body, content_type = _get(current, limits, resolver, deadline)
        if status in (301, 302, 303, 307, 308) and location:
            current = urllib.parse.urljoin(current, location)
            continue
        if status != 200:
            raise PolicyError(msg("{current}: HTTP {status}", current=current, status=status))
        value = _page_text(current, body, content_type)
        if not value:
            raise PolicyError(msg("{current}: not a text page ({value})",
                                  current=current, value=content_type or 'no content type'))
        return Text(value, Location(url, "policy", "" if current == url else f"redirected to {current}"))
    raise PolicyError(msg("{url}: more than {max_redirects} redirects", url=url, max_redirects=limits.max_redirects))


def _target(url: str) -> tuple[str, str, int, str]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise PolicyError(msg("{url}: only http and https are fetched", url=url))
    if not parts.hostname:
        raise PolicyError(msg("{url}: no host", url=url))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise PolicyError(msg("{url}: bad port", url=url)) from exc
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return parts.scheme, parts.hostname, port, path


def _get(url: str, limits: FetchLimits, resolver: Resolver, deadline: float) -> tuple[int, str, bytes, str]:
    scheme, host, port, path = _target(url)
    addresses = list(resolver(host, port))
    if not addresses:
        raise PolicyError(msg("{host}: does not resolve", host=host))
    refused = [a for a in addresses if not allowed_address(a, limits)]
    if refused:
        raise PolicyError(msg("{url}: {host} resolves to {refused}, a private, loopback or reserved address "
                              "(--allow-network allows a network)", url=url, host=host, refused=refused[0]))
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise PolicyError(msg("{url}: took longer than {timeout} s", url=url, timeout=format(limits.timeout, 'g')))
    connection = _Pinned(addresses[0], host, port, scheme == "https", remaining)
    # One deadline for the whole exchange: a socket timeout starts again at every byte received, so a
    # server that trickles a byte a second would hold the scan for as long as it likes. At the deadline
    # the socket is shut down, whatever read is waiting on it.
    expired = threading.Event()
    timer = threading.Timer(remaining, _expire, (connection, expired))
    timer.daemon = True
    timer.start()
    try:
        connection.request("GET", path, headers={"Host": host if port in (80, 443) else f"{host}:{port}",
                                                 "User-Agent": f"beian-scan/{__version__}",
                                                 "Accept": "text/html,text/plain;q=0.9,*/*;q=0.1"})
        response = connection.getresponse()
        body = _read_bounded(response, limits, deadline, url)
        if expired.is_set():
            raise PolicyError(msg("{url}: took longer than {timeout} s", url=url, timeout=format(limits.timeout, 'g')))
        return response.status, response.getheader("Location") or "", body, response.getheader("Content-Type") or ""
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if expired.is_set():
            raise PolicyError(msg("{url}: took longer than {timeout} s",
                                  url=url, timeout=format(limits.timeout, 'g'))) from None
        raise PolicyError(msg("{url}: {error}: {exc}", url=url, error=type(exc).__name__, exc=exc)) from exc
    finally:
        timer.cancel()
        connection.close()


def _expire(connection: _Pinned, expired: threading.Event) -> None:
    expired.set()
    if connection.raw is not None:  # the response may hold the socket after the connection let it go
        with contextlib.suppress(OSError):
            connection.raw.shutdown(socket.SHUT_RDWR)


def _read_bounded(response: http.client.HTTPResponse, limits: FetchLimits, deadline: float, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise PolicyError(msg("{url}: took longer than {timeout} s", url=url, timeout=format(limits.timeout, 'g')))
        chunk = response.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limits.max_bytes:
            raise PolicyError(msg("{url}: larger than {max_bytes} bytes", url=url, max_bytes=limits.max_bytes))
        chunks.append(chunk)


def _page_text(url: str, body: bytes, content_type: str) -> str | None:
    kind = content_type.split(";")[0].strip().lower()
    if kind and not (kind.startswith("text/") or kind in ("application/xhtml+xml", "application/json")):
        return None
    name = "policy.html" if "html" in kind or b"<html" in body[:2048].lower() else "policy.txt"
    return textdecode.file_text(name, body)


class _Pinned(http.client.HTTPSConnection):
    """A connection to the address already checked (not to whatever the host resolves to next), with
    the host name for TLS (SNI and certificate check) and the Host header."""

    def __init__(self, address: str, host: str, port: int, tls: bool, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address
        self._tls = tls
        self.raw: socket.socket | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.raw = sock  # the deadline shuts it down, during the TLS handshake or a read of the response
        if self._tls:
            sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        self.sock = sock
