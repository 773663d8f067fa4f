"""A crawl killed with SIGKILL resumes where it stopped: nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fakesite import government_site, serve_fake_site, sources_toml

from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl

REPO = Path(__file__).resolve().parents[1]

# The sink behaves like the corpus: it stores bytes it has not seen and answers "duplicate"
# otherwise, so a document handed over again after a crash is stored once.
SCRIPT = """
import sqlite3, sys
from pathlib import Path
from policylens.crawler import run_crawl
from policylens.crawl_pipeline import build_config

data, sources = Path(sys.argv[1]), sys.argv[2]
data.mkdir(parents=True, exist_ok=True)
db = sqlite3.connect(data / "sink.sqlite", isolation_level=None)
db.execute("CREATE TABLE IF NOT EXISTS docs(url TEXT, sha TEXT)")

def sink(resource):
    if db.execute("SELECT 1 FROM docs WHERE sha=?", (resource.sha256,)).fetchone():
        return "duplicate"
    db.execute("INSERT INTO docs VALUES (?, ?)", (resource.url, resource.sha256))
    return "added"

run_crawl(build_config(data, sources_file=sources), sink)
"""


def _stored(data: Path) -> list[str]:
    path = data / "sink.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT url FROM docs")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_kill_9_midway_then_resume_stores_every_document_once(tmp_path):
    site = government_site()
    site.hold_docs_after = 6  # the 7th document waits: the kill always lands midway
    with serve_fake_site(site) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(sources_toml(server.base_url), encoding="utf-8")
        script = tmp_path / "crawl_once.py"
        script.write_text(SCRIPT, encoding="utf-8")
        data = tmp_path / "data"
        proc = subprocess.Popen([sys.executable, str(script), str(data), str(sources)], cwd=REPO)
        deadline = time.monotonic() + 120
        while len(_stored(data)) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = _stored(data)
        assert 4 <= len(before) <= 6, "the crawl should have been killed midway"

        site.hold_docs_after = None
        site.released.set()
        db = sqlite3.connect(data / "sink.sqlite", isolation_level=None)

        def sink(resource):
            if db.execute("SELECT 1 FROM docs WHERE sha=?", (resource.sha256,)).fetchone():
                return "duplicate"
            db.execute("INSERT INTO docs VALUES (?, ?)", (resource.url, resource.sha256))
            return "added"

        report = run_crawl(build_config(data, sources_file=sources), sink)
        db.close()
    assert report.resumed and report.run_id == 1
    after = _stored(data)
    assert len(after) == len(set(after)) == 14
    expected = site.expected["articles"] + site.expected["attachments"]
    from urllib.parse import unquote

    assert sorted(unquote(u.removeprefix(server.base_url)) for u in after) == sorted(expected)
    # the report of the resumed run covers the whole run, before and after the kill
    assert report.documents["new"] + report.attachments["new"] == 14
    assert report.pending == 0 and report.errors == {}
