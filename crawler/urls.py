"""URL helpers and the network safety gate (pure functions, plus one DNS lookup).

Only http(s) URLs on a source's domains are fetched, and a host that resolves to a loopback,
private, link-local or otherwise non-public address is refused unless private networks are
explicitly allowed. The check runs again on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import socket
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

__all__ = [
    "UnsafeURL",
    "canonical_url",
    "absolute_url",
    "host_key",
    "check_url",
    "safe_filename",
]

_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


class UnsafeURL(Exception):
    """A URL the crawler must not fetch. ``kind`` is the error kind reported."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def canonical_url(url: str) -> str:
    """Normalise a URL so one page has one key.

    Lowercases scheme and host, drops the default port and the fragment, resolves ``.`` and
    ``..`` segments and percent-encodes non-ASCII characters (Chinese attachment names).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = parts.path or "/"
    if "." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        path = "/" if path in (".", "//") else path
        if trailing and not path.endswith("/"):
            path += "/"
    path = quote(path, safe=_SAFE_PATH)
    query = quote(parts.query, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


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


_DISPOSITION_NAME = re.compile(r"filename\*?=(?:UTF-8''|\"?)([^\";]+)", re.I)


def safe_filename(content_disposition: str | None, url: str) -> str | None:
    """A basename for a download, never a path: from Content-Disposition, else the URL.

    Directory parts, ``..``, control characters and leading dots are removed, so a server that
    sends ``../../evil`` gets ``evil``.
    """
    name = None
    if content_disposition:
        match = _DISPOSITION_NAME.search(content_disposition)
        if match:
            name = unquote(match.group(1))
    if not name:
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:200] or None
