"""A damaged corpus database is noticed, writing commands refuse it, and a backup restores it."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest
from fakesite import FakeSite, Response, serve_fake_site

from policylens.corpus.check import backup_corpus, check_corpus, require_writable
from policylens.corpus.ingest import ingest_bytes
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.errors import CorpusError, StorageError

TOPICS = ["农业农村", "交通运输", "生态环境", "医疗卫生", "教育事业", "旅游文化", "能源基地",
          "社会保障", "城市更新", "科技创新", "对外开放", "乡村振兴"]


def _page_size(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA page_size").fetchone()[0]


@pytest.fixture
def corpus_dir(tmp_path):
    data = tmp_path / "data"
    with Corpus.open(data) as corpus:
        for n, topic in enumerate(TOPICS):
            text = "".join(f"第{i}条：推进{topic}数字化转型，发展大数据和人工智能应用{n}。"
                           for i in range(300))
            meta = DocumentMeta(f"/docs/{n}.txt", filename=f"{n}.txt",
                                overrides={"title": f"{topic}规划"})
            assert ingest_bytes(corpus, text.encode(), meta).status == "added"
    return data


def _damage(path) -> None:
    """Overwrite the header of every page in the middle half of the file."""
    size, page = path.stat().st_size, _page_size(path)
    pages = size // page
    with open(path, "r+b") as handle:
        for number in range(pages // 4, pages * 3 // 4):
            handle.seek(number * page)
            handle.write(b"\xde\xad\xbe\xef" * 4)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "policylens", *args], capture_output=True,
                          text=True, timeout=180)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_sound_corpus_passes_every_check(corpus_dir):
    report = check_corpus(corpus_dir)
    assert report.ok and report.documents == 12
    assert report.checks == ("integrity_check", "fts5 integrity-check", "utf-8 text columns",
                             "raw bytes", "text hashes", "band keys", "sources")
    require_writable(corpus_dir)  # no exception
    proc = _cli("corpus", "check", "--data-dir", str(corpus_dir))
    assert proc.returncode == 0
    assert proc.stderr.strip() == (f"{corpus_dir / 'corpus.sqlite'}: ok (12 documents; "
                                   "integrity_check, fts5 integrity-check, utf-8 text columns, "
                                   "raw bytes, text hashes, band keys, sources)")


def test_damaged_documents_are_named_row_by_row(corpus_dir):
    """Damage the pages cannot show: lost or changed raw files, a changed hash, lost band keys
    and sources (the same document checks as on PostgreSQL, tests/test_pg_check.py)."""
    db = corpus_dir / "corpus.sqlite"
    with sqlite3.connect(db) as conn:
        raw = dict(conn.execute("SELECT id, raw_path FROM documents"))
        conn.execute("UPDATE documents SET text_sha256 = 'x' WHERE id = 3")
        conn.execute("DELETE FROM near_bands WHERE doc_id = 4")
        conn.execute("INSERT INTO near_bands (key, doc_id) VALUES (1, 40)")
        conn.execute("DELETE FROM documents_sources WHERE doc_id = 5")
    conn.close()
    (corpus_dir / raw[1]).unlink()
    changed = bytearray((corpus_dir / raw[2]).read_bytes())
    changed[0] ^= 1
    (corpus_dir / raw[2]).write_bytes(bytes(changed))
    with open(corpus_dir / raw[6], "ab") as handle:
        handle.write(b"!")
    size = (corpus_dir / raw[6]).stat().st_size
    sha = {i: raw[i].rsplit("/", 1)[1][:-4] for i in raw}
    report = check_corpus(corpus_dir)
    assert report.problems == (
        f"document 1: raw bytes {sha[1]} are missing",
        f"document 2: raw bytes do not match their SHA-256 {sha[2]}",
        "document 3: text_sha256 does not match its text",
        "document 4: near-duplicate band keys do not match its text (0 stored, 32 expected, 0 in common)",
        "document 5: its own source is not in documents_sources",
        f"document 6: raw bytes are {size} bytes long, the row says {size - 1}",
        "near_bands: 1 row(s) refer to missing document(s) 40",
    )
    proc = _cli("corpus", "check", "--data-dir", str(corpus_dir))
    assert proc.returncode == 5
    assert proc.stderr.splitlines()[0] == f"{db}: DAMAGED, 7 problem(s):"
    # a wrecked corpus: the first findings listed, the rest counted
    from policylens.corpus import doccheck

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(doccheck, "MAX_PROBLEMS", 3)
        assert check_corpus(corpus_dir).problems == (*report.problems[:3], "... and 4 more problems")
    # --no-documents: the database's own checks only, which this damage passes
    proc = _cli("corpus", "check", "--no-documents", "--data-dir", str(corpus_dir))
    assert (proc.returncode, proc.stderr.strip()) == (
        0, f"{db}: ok (12 documents; integrity_check, fts5 integrity-check, utf-8 text columns)")


def test_a_damaged_database_is_found_and_writers_refuse_it(corpus_dir, tmp_path):
    backup = tmp_path / "backup"
    backup_corpus(backup, corpus_dir)
    db = corpus_dir / "corpus.sqlite"
    _damage(db)
    before = _sha(db)
    report = check_corpus(corpus_dir)
    assert not report.ok and report.problems[0].startswith("integrity_check: ")
    proc = _cli("corpus", "check", "--data-dir", str(corpus_dir))
    assert proc.returncode == 5
    assert proc.stderr.startswith(f"{db}: DAMAGED, ")
    with pytest.raises(StorageError, match="the corpus database is damaged"):
        require_writable(corpus_dir)

    doc = tmp_path / "new.txt"
    doc.write_text("新的文件：推进数字经济发展。" * 20, encoding="utf-8")
    ingest = _cli("ingest", str(doc), "--data-dir", str(corpus_dir))
    assert ingest.returncode == 5
    assert ingest.stderr.startswith(f"error: {db}: the corpus database is damaged (")
    assert "run `policylens corpus check` for details" in ingest.stderr
    assert "`policylens corpus backup DIR`" in ingest.stderr
    assert "Traceback" not in ingest.stderr

    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    with serve_fake_site(site) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(f"""[[source]]
id = "x"
region = "哈密市"
domains = ["127.0.0.1"]
[[source.column]]
url = "{server.base_url}/list.shtml"
""", encoding="utf-8")
        crawl = _cli("crawl", "--sources", str(sources), "--data-dir", str(corpus_dir),
                     "--allow-private-network")
    assert crawl.returncode == 5 and site.hits == {}
    assert _sha(db) == before  # nothing was written into the damaged file

    # The backup taken before the damage is a sound, usable data directory.
    restored = check_corpus(backup)
    assert restored.ok and restored.documents == 12
    with Corpus.open(backup) as corpus:
        assert sorted(r.title for r in corpus.documents(include_duplicates=True)) == sorted(
            f"{t}规划" for t in TOPICS)


def test_backup_refuses_to_overwrite_and_copies_raw_files(corpus_dir, tmp_path):
    proc = _cli("corpus", "backup", str(tmp_path / "b1"), "--data-dir", str(corpus_dir))
    assert proc.returncode == 0, proc.stderr
    raw = sorted(p.name for p in (corpus_dir / "raw").rglob("*.bin"))
    assert sorted(p.name for p in (tmp_path / "b1" / "raw").rglob("*.bin")) == raw
    assert len(raw) == 12
    with pytest.raises(CorpusError, match="already holds a corpus.sqlite"):
        backup_corpus(tmp_path / "b1", corpus_dir)


def test_a_large_database_is_quick_checked_once_a_day(corpus_dir):
    import json
    import time

    db = corpus_dir / "corpus.sqlite"
    mark = corpus_dir / "corpus.sqlite.checked"
    large = {"always_check_bytes": 0}  # this corpus counts as large
    require_writable(corpus_dir, **large)  # no mark yet: checked, and the clean check recorded
    recorded = json.loads(mark.read_text(encoding="utf-8"))
    assert recorded["size"] == db.stat().st_size
    _damage(db)
    require_writable(corpus_dir, **large)  # checked clean a moment ago: not read again
    with pytest.raises(StorageError, match="the corpus database is damaged"):
        require_writable(corpus_dir)  # a small database is checked before every write
    mark.write_text(json.dumps({"checked_at": time.time() - 25 * 3600, "size": recorded["size"]}))
    with pytest.raises(StorageError, match="the corpus database is damaged"):
        require_writable(corpus_dir, **large)  # the day is over
    mark.write_text(json.dumps({"checked_at": time.time(), "size": recorded["size"] + 1}))
    with pytest.raises(StorageError, match="the corpus database is damaged"):
        require_writable(corpus_dir, **large)  # it shrank since: another file
    mark.write_text("not json")
    with pytest.raises(StorageError, match="the corpus database is damaged"):
        require_writable(corpus_dir, **large)
