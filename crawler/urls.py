"""URL helpers and the network safety gate (pure functions, plus one DNS lookup).

Only http(s) URLs on a source's domains are fetched, and a host that resolves to a loopback,
private, link-local or otherwise non-public address is refused unless private networks are
explicitly allowed. The check runs again on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

__all__ = [
    "UnsafeURL",
    "canonical_url",
    "absolute_url",
    "host_key",
    "check_url",
    "safe_filename",
]

class UnsafeURL(Exception):
    """A URL the crawler must not fetch. ``kind`` is the error kind reported."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def canonical_url(url: str) -> str:
    """Normalise a URL so one page has one key (the frontier key and the URL fetched).

    w3lib's ``canonicalize_url`` (the one scrapy uses) lowercases scheme and host, encodes an
    internationalised host name with IDNA, percent-encodes non-ASCII characters (Chinese
    attachment names) with upper-case escapes (``%e4%b8%ad`` and ``%E4%B8%AD`` are one key),
    resolves ``.`` and ``..`` segments, sorts the query arguments and drops the fragment.
    On top of it the crawler drops the default port, a trailing dot of the host and any
    user:password part.

    Args:
        url: an absolute http(s) URL.

    Returns:
        The canonical URL.

    Raises:
        ValueError: when the URL has a malformed port or IPv6 literal.
    """
    from w3lib.url import canonicalize_url

    parts = urlsplit(canonicalize_url(url.strip()))
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    port = parts.port
    default = (parts.scheme, port) in (("http", 80), ("https", 443))
    netloc = host if port is None or default else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def absolute_url(base: str, href: str) -> str | None:
    """Resolve ``href`` against ``base``; None for javascript:, mailto: and similar links."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    lowered = href[:12].lower()
    if lowered.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        url = urljoin(base, href)
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        return canonical_url(url)
    except ValueError:  # a malformed port or IPv6 literal
        return None


def host_key(url: str) -> str:
    """The politeness key of a URL: ``host`` or ``host:port``."""
    return urlsplit(url).netloc.lower()


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, domains: tuple[str, ...], *, max_length: int = 2083,
              allow_private: bool = False, resolver=socket.getaddrinfo) -> None:
    """Refuse a URL the crawler must not fetch.

    Args:
        url: an absolute URL.
        domains: allowed domains; their subdomains are allowed too.
        max_length: the longest URL accepted.
        allow_private: accept hosts that resolve to non-public addresses (tests, intranets).
        resolver: ``socket.getaddrinfo`` or a stand-in.

    Raises:
        UnsafeURL: with ``kind`` ``url_too_long``, ``bad_scheme``, ``offsite``, ``dns`` or
            ``private_address``.
    """
    if len(url) > max_length:
        raise UnsafeURL("url_too_long", f"URL longer than {max_length} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("bad_scheme", f"only http(s) is fetched, not {parts.scheme!r}")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeURL("bad_scheme", "URL has no host")
    if not any(host == d or host.endswith("." + d) for d in domains):
        raise UnsafeURL("offsite", f"host {host} is not one of the source's domains")
    if allow_private:
        return
    try:
        infos = resolver(host, parts.port or (443 if parts.scheme == "https" else 80),
                         type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL("dns", f"cannot resolve {host}: {exc}") from None
    for info in infos:
        address = info[4][0]
        if not _is_public(address):
            raise UnsafeURL("private_address",
                            f"{host} resolves to non-public address {address}")


def _disposition_name(header: str) -> str | None:
    """The file name a Content-Disposition header gives, parsed by the standard library.

    RFC 6266: an extended ``filename*=UTF-8''...`` (RFC 5987 / 2231) wins over the plain
    ``filename=`` fallback, whatever their order.
    """
    from email.message import Message
    from email.utils import collapse_rfc2231_value

    message = Message()
    message["content-disposition"] = header
    names = [value for key, value in message.get_params([], header="content-disposition")
             if key == "filename"]
    extended = [value for value in names if isinstance(value, tuple)]
    if extended:
        return collapse_rfc2231_value(extended[0], errors="replace")
    if not names:
        return None
    name = unquote(names[0])  # some servers percent-encode the plain name (IE style)
    if not name.isascii() and all(ord(c) < 256 for c in name):
        # HTTP headers arrive as Latin-1: a raw UTF-8 or GBK name is mojibake; read its bytes.
        raw = name.encode("latin-1")
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return name


def safe_filename(content_disposition: str | None, url: str) -> str | None:
    """A basename for a download, never a path: from Content-Disposition, else the URL.

    Directory parts, ``..``, control characters and leading dots are removed, so a server that
    sends ``../../evil`` gets ``evil``.

    Args:
        content_disposition: the header's value, or None.
        url: the download's URL (its last path segment is the fallback).

    Returns:
        The name, or None when neither gives one.
    """
    name = _disposition_name(content_disposition) if content_disposition else None
    if not name:
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:200] or None
