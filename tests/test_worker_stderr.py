"""A crashed worker's message quotes only what the crashing task wrote to stderr, never an
earlier document's warnings (the worker's stderr file lives as long as the worker)."""

from __future__ import annotations

import os
import signal
import threading

from policylens.corpus.extract import ExtractOptions
from policylens.corpus.extract.worker import Worker

# XML served as HTML: Beautiful Soup warns on stderr (XMLParsedAsHTMLWarning) and goes on.
XML_PAGE = "<?xml version='1.0' encoding='utf-8'?><rss><channel><item>数字经济</item></channel></rss>"


def _kill_during_next_task(worker: Worker) -> threading.Thread:
    """SIGKILL the child as soon as it holds the next task (not before)."""
    pid, send, sent = worker.pid, worker._outbox.send, threading.Event()

    def send_then_tell(message):
        send(message)
        sent.set()

    worker._outbox.send = send_then_tell
    killer = threading.Thread(target=lambda: sent.wait(30) and os.kill(pid, signal.SIGKILL))
    killer.start()
    return killer


def test_crash_message_does_not_quote_an_earlier_documents_stderr():
    with Worker() as worker:
        first = worker.run({"data": XML_PAGE.encode(), "filename": "feed.html"}, ExtractOptions())
        assert first.text == "数字经济"
        assert "XMLParsedAsHTMLWarning" in worker._stderr_tail()  # the first task did write
        killer = _kill_during_next_task(worker)
        crashed = worker.run({"data": b"x"}, ExtractOptions(timeout_s=60, test_delay_s=20))
        killer.join()
    assert crashed.flags == ("crashed",)
    assert crashed.warnings == (
        "extraction worker died (exit code -9); the file may be malformed or need more than "
        "max_memory_mb=2048",)

