"""Many small portals from one asyncio server: every loopback port is a host of its own.

    with serve_many_hosts(hosts=16, pages=8) as many:
        path.write_text(many.sources_toml(delay=0.2), encoding="utf-8")
        ...crawl...
        gaps = request_gaps(many.request_log())   # port -> gaps between its requests

The crawler's politeness key is ``host:port``, so N ports are N hosts to it. Each host serves
``/robots.txt`` (404), one list page ``/h/zfxxgk_list.shtml`` whose ``createPageHTML(1, 0, ...)``
says there is no second page, and ``pages`` UCAP-style articles (the same on every host, or
with ``unique=True`` a text of their own per host, so a corpus stores each one). One event loop
answers them all, so the server stays cheap at hundreds of hosts. ``process=True`` runs it in a child process
(benchmarks: its CPU is not counted as the crawler's); ``time.monotonic`` is system-wide, so the
logged times compare with the crawler's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .server import article_html, hexid

__all__ = ["ManyHosts", "serve_many_hosts", "request_gaps", "LIST_PATH"]

LIST_PATH = "/h/zfxxgk_list.shtml"


def _unique_article(port: int, path: str) -> bytes:
    """An article whose text belongs to this host and path alone (pseudo-random CJK)."""
    import random

    rng = random.Random(f"{port}{path}")
    text = "".join(chr(0x4E00 + rng.randrange(0x5000)) for _ in range(300))
    return article_html(f"站点{port}文件{path[-12:-6]}", f"数字经济{text}").encode()


def _routes(pages: int) -> dict[str, bytes]:
    links, routes = [], {}
    for i in range(pages):
        path = f"/h/c100000/202401/{hexid(f'many-{i}')}.shtml"
        links.append(f'<li><a href="{path}">文件{i}</a></li>')
        routes[path] = article_html(f"文件{i}", "数字经济" * 50).encode()
    routes[LIST_PATH] = ("<html><body><ul>" + "".join(links) + "</ul><script>"
                         'createPageHTML(1, 0, "zfxxgk_list", "shtml");</script></body></html>'
                         ).encode()
    return routes


class _Server:
    """The event loop thread: listens on ``hosts`` ports and logs (port, time, path)."""

    def __init__(self, hosts: int, pages: int, unique: bool = False):
        self.routes = _routes(pages)
        self.unique = unique
        self.hosts = hosts
        self.log: list[tuple[int, float, str]] = []
        self.ports: list[int] = []
        self.open = self.peak = 0  # connections open now / at most at once
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        servers = []
        for _ in range(self.hosts):
            server = self.loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=64))
            servers.append(server)
            self.ports.append(server.sockets[0].getsockname()[1])
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            for server in servers:
                server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
                self.log.append((port, time.monotonic(), target))
                path = target.split("?", 1)[0]
                body = self.routes.get(path)
                if body is not None and self.unique and path != LIST_PATH:
                    body = _unique_article(port, path)
                status = b"200 OK" if body is not None else b"404 Not Found"
                body = body if body is not None else b"<html><body>404</body></html>"
                close = b"connection: close" in head.lower()
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8"
                             b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
                             + (b"Connection: close\r\n" if close else b"") + b"\r\n" + body)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                IndexError):
            pass
        finally:
            self.open -= 1
            writer.close()


def _child(conn, hosts: int, pages: int, unique: bool = False) -> None:
    server = _Server(hosts, pages, unique)
    server.start()
    conn.send(server.ports)
    while True:
        command = conn.recv()
        if command == "log":
            conn.send(list(server.log))
        elif command == "peak":
            conn.send(server.peak)
        elif command == "cpu":
            conn.send(time.process_time())
        else:
            server.stop()
            return


@dataclass
class ManyHosts:
    """A running many-host server."""

    ports: list[int]
    pages: int
    _log: object = field(repr=False, default=None)
    _peak: object = field(repr=False, default=None)
    _cpu: object = field(repr=False, default=None)

    @property
    def hosts(self) -> list[str]:
        """The crawler's host keys, ``127.0.0.1:<port>``."""
        return [f"127.0.0.1:{p}" for p in self.ports]

    def request_log(self) -> list[tuple[int, float, str]]:
        """``(port, monotonic time, path)`` of every request received so far."""
        return self._log()

    def peak_connections(self) -> int:
        """The most connections the server held open at once."""
        return self._peak()

    def server_cpu(self) -> float | None:
        """CPU seconds the server process has used so far (None when it runs in this one)."""
        return self._cpu() if self._cpu else None

    def sources_toml(self, *, delay: float, settings: dict | None = None) -> str:
        """A registry with one source per host (delay ``delay``); ``settings`` go in
        ``[settings]`` (default: loopback allowed)."""
        import tomli_w

        return tomli_w.dumps({
            "settings": {"allow_private_network": True, **(settings or {})},
            "source": [{
                "id": f"h{port}", "region": "乌鲁木齐市", "domains": ["127.0.0.1"],
                "delay": delay,
                "column": [{"url": f"http://127.0.0.1:{port}{LIST_PATH}", "max_pages": 1}],
            } for port in self.ports],
        })


@contextmanager
def serve_many_hosts(hosts: int, pages: int, *, process: bool = False, unique: bool = False):
    """Serve ``hosts`` portals of ``pages`` articles each on loopback ports.

    Args:
        hosts: how many hosts (ports).
        pages: articles per host.
        process: run the server in a child process (its CPU is then not the caller's).
        unique: every host serves articles of its own text (not the same pages everywhere).

    Yields:
        A ``ManyHosts``; the server stops when the block ends.
    """
    if not process:
        server = _Server(hosts, pages, unique)
        server.start()
        try:
            yield ManyHosts(ports=list(server.ports), pages=pages, _log=lambda: list(server.log),
                            _peak=lambda: server.peak)
        finally:
            server.stop()
        return
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, hosts, pages, unique), daemon=True)
    proc.start()
    try:
        ports = parent.recv()

        def ask(command):
            parent.send(command)
            return parent.recv()

        yield ManyHosts(ports=ports, pages=pages, _log=lambda: ask("log"),
                        _peak=lambda: ask("peak"), _cpu=lambda: ask("cpu"))
    finally:
        try:
            parent.send("stop")
        except OSError:
            pass
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


def request_gaps(log: list[tuple[int, float, str]]) -> dict[int, list[float]]:
    """Per port, the gaps (seconds) between consecutive requests, in arrival order."""
    times: dict[int, list[float]] = {}
    for port, when, _ in log:
        times.setdefault(port, []).append(when)
    gaps = {}
    for port, values in times.items():
        values.sort()
        gaps[port] = [b - a for a, b in zip(values, values[1:], strict=False)]
    return gaps
