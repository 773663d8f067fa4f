"""Connections that cannot be rebound or hung: one DNS answer checked and used, one deadline.

Two attacks defeat a check made before a request: a resolver that answers a public address to
the check and ``127.0.0.1`` to the connection (DNS rebinding), and a server that trickles a
byte per second so no socket read ever times out. ``ConnectionGuard`` closes both: the session's
connections resolve the host once, refuse a non-public address and connect to exactly the
address they checked (TLS still verifies the host name); and ``Watchdog`` shuts the sockets of
a request down when its total deadline passes or the crawl is stopped, whatever the server
sends.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import weakref
from collections.abc import Callable

__all__ = ["ConnectionGuard", "Watchdog", "is_public_address", "guarded_adapter"]

Resolver = Callable[..., list]


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 unwrapped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class AddressRefused(OSError):
    """The host resolved to an address the crawler must not connect to."""


class ConnectionGuard:
    """The address policy and the live sockets of one HTTP session.

    Args:
        allow_private: called with a host name; True lets it use non-public addresses.
        resolver: ``socket.getaddrinfo`` or a stand-in with the same signature.
    """

    def __init__(self, allow_private: Callable[[str], bool], resolver: Resolver | None = None):
        self.allow_private = allow_private
        self.resolver = resolver or socket.getaddrinfo
        self.refused: str | None = None  # why the last connection was refused
        self._sockets: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()

    def address_for(self, host: str, port: int) -> str:
        """Resolve ``host`` once and return the address to connect to.

        Raises:
            AddressRefused: the name does not resolve or resolves to a non-public address.
        """
        host = host.strip("[]")
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            addresses = [host]
        except ValueError:
            try:
                infos = self.resolver(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise AddressRefused(f"cannot resolve {host}: {exc}") from None
            addresses = [info[4][0] for info in infos]
        if not addresses:
            raise AddressRefused(f"{host} has no address")
        if not self.allow_private(host.lower()):
            for address in addresses:
                if not is_public_address(address):
                    self.refused = f"{host} resolves to non-public address {address}"
                    raise AddressRefused(self.refused)
        return addresses[0]

    def track(self, sock: socket.socket) -> None:
        """Remember a socket so ``cut()`` can shut it down."""
        with self._lock:
            self._sockets.add(sock)

    def cut(self) -> None:
        """Shut down every open socket of the session; blocked reads return at once."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


class Watchdog:
    """One thread that cuts the connection of every request past its deadline, or of all of
    them when the crawl is stopped.

    One watchdog serves every fetcher of a crawl: a thread per request (started, woken ten
    times a second and joined for every page) cost a tenth of the crawler's CPU at hundreds
    of pages per second. The thread runs while a request is watched and ends when none is.

        with watchdog.watch(guard, deadline, stop) as watch:
            ...request...
        watch.fired  # "deadline", "stopped" or None
    """

    _TICK = 0.1  # how often deadlines and stop events are looked at (seconds)

    def __init__(self):
        self._lock = threading.Lock()  # held while a tick checks (and cuts), so a watch that
        self._watches: set[_Watch] = set()  # has ended is never cut afterwards
        self._thread: threading.Thread | None = None

    def watch(self, guard: ConnectionGuard, deadline: float, stop: threading.Event) -> _Watch:
        """A context manager that watches one request (``deadline`` may be moved while inside).

        Args:
            guard: the session whose sockets are cut.
            deadline: ``time.monotonic()`` value after which the request is cut.
            stop: cuts the request when set.
        """
        return _Watch(self, guard, deadline, stop)

    def _add(self, watch: _Watch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fetch-watchdog",
                                                daemon=True)
                self._thread.start()

    def _remove(self, watch: _Watch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def _run(self) -> None:
        while True:
            time.sleep(self._TICK)
            with self._lock:
                if not self._watches:
                    self._thread = None
                    return
                now = time.monotonic()
                for watch in self._watches:
                    watch.check(now)


class _Watch:
    """One watched request; ``fired`` says ``"deadline"``, ``"stopped"`` or None."""

    def __init__(self, watchdog: Watchdog, guard: ConnectionGuard, deadline: float,
                 stop: threading.Event):
        self.watchdog = watchdog
        self.guard = guard
        self.deadline = deadline
        self.stop = stop
        self.fired: str | None = None

    def __enter__(self) -> _Watch:
        self.watchdog._add(self)
        return self

    def __exit__(self, *exc) -> None:
        self.watchdog._remove(self)

    def check(self, now: float) -> None:
        """Cut the request's sockets once if it is stopped or past its deadline."""
        if self.fired is not None:
            return
        if self.stop.is_set():
            self.fired = "stopped"
        elif now > self.deadline:
            self.fired = "deadline"
        else:
            return
        self.guard.cut()


def guarded_adapter(guard: ConnectionGuard):
    """A ``requests`` adapter whose connections go through ``guard`` (one per session)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    from urllib3.util.connection import create_connection

    class _Pinned:
        """Mixin: resolve once through the guard and connect to the checked address."""

        def _new_conn(self):
            try:
                address = guard.address_for(self.host, self.port)
                sock = create_connection((address, self.port), self.timeout,
                                         source_address=self.source_address,
                                         socket_options=self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connect to {self.host} timed out") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"cannot connect: {exc}") from exc
            guard.track(sock)
            return sock

    http_conn = type("PinnedHTTPConnection", (_Pinned, HTTPConnection), {})
    https_conn = type("PinnedHTTPSConnection", (_Pinned, HTTPSConnection), {})
    pools = {"http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
             "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})}

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return _Adapter(pool_connections=1, pool_maxsize=1, max_retries=0)
