"""The SQLite corpus: adding, exact and near duplicates, versions, search, schema, concurrency."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time

import pytest

from policylens.corpus.extract.model import Extraction
from policylens.corpus.ingest import ingest_bytes
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.errors import CorpusError, UsageError

BODY = (
    "关于加快推进乌鲁木齐市数字经济发展的实施意见\n"
    "乌政办〔2021〕15号\n"
    "各区（县）人民政府，市人民政府各部门：\n"
    "为深入实施数字经济发展战略，加快建设数字新疆，推动大数据、人工智能、云计算与实体经济深度融合，"
    "现提出如下意见。一、总体要求。坚持以数字化转型整体驱动生产方式、生活方式和治理方式变革。"
    "二、主要任务。加快算力基础设施建设，建成一批工业互联网标识解析节点，推进5G网络覆盖。"
    "三、保障措施。各部门要加强组织领导，强化资金保障，完善统计监测，确保各项任务落到实处。"
) * 3


def ex(text: str, **kw) -> Extraction:
    return Extraction(text=text, title=kw.pop("title", None), method="test", **kw)


@pytest.fixture
def corpus(tmp_path):
    with Corpus.open(tmp_path / "data") as c:
        yield c


def test_add_stores_row_raw_bytes_and_inferred_metadata(corpus, tmp_path):
    raw = BODY.encode("utf-8")
    result = corpus.add(raw, DocumentMeta(source="https://www.wlmq.gov.cn/a.html", fetched_at="2026-01-02T03:04:05+00:00"), ex(BODY))
    assert (result.status, result.doc_id, result.duplicate_of) == ("added", 1, None)
    doc = corpus.get(1)
    assert doc.title == "关于加快推进乌鲁木齐市数字经济发展的实施意见"
    assert (doc.region, doc.region_code, doc.year, doc.doc_type) == (
        "乌鲁木齐市", "650100", 2021, "policy")
    assert (doc.issuer, doc.doc_number) == ("乌鲁木齐市人民政府办公厅", "乌政办〔2021〕15号")
    assert doc.meta_inferred == ("title", "doc_number", "doc_type", "year", "region", "issuer")
    assert doc.text == BODY and doc.chars == len(BODY)
    assert doc.fetched_at == "2026-01-02T03:04:05+00:00"
    sha = hashlib.sha256(raw).hexdigest()
    assert doc.raw_sha256 == sha
    assert doc.raw_path == f"raw/{sha[:2]}/{sha}.bin"
    assert (tmp_path / "data" / doc.raw_path).read_bytes() == raw
    assert corpus.raw_bytes(1) == raw
    assert corpus.schema_version == 3
    assert corpus.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # a 64 MB page cache and in-memory savepoint journals (the writer's scattered index pages)
    assert corpus.conn.execute("PRAGMA cache_size").fetchone()[0] == -65536
    assert corpus.conn.execute("PRAGMA temp_store").fetchone()[0] == 2


def test_explicit_overrides_win(corpus):
    result = corpus.add(b"x", DocumentMeta(source="a.txt", overrides={"region": "克州", "year": 2019, "doc_type": "other", "title": "自定"}), ex(BODY))
    doc = corpus.get(result.doc_id)
    assert (doc.region, doc.year, doc.doc_type, doc.title) == (
        "克孜勒苏柯尔克孜自治州", 2019, "other", "自定")
    assert doc.meta_inferred == ("doc_number", "issuer")
    with pytest.raises(UsageError, match="unknown region"):
        corpus.add(b"y", DocumentMeta(source="b.txt", overrides={"region": "火星"}), ex(BODY + "b"))


def test_exact_duplicates_by_bytes_and_by_text(corpus):
    first = corpus.add(BODY.encode(), DocumentMeta(source="https://a.gov.cn/1"), ex(BODY))
    same_bytes = corpus.add(BODY.encode(), DocumentMeta(source="https://b.gov.cn/2"), ex(BODY))
    rewrapped = BODY.replace("。", "。\n")
    same_text = corpus.add(rewrapped.encode(), DocumentMeta(source="https://c.gov.cn/3"), ex(rewrapped))
    assert (same_bytes.status, same_bytes.doc_id, same_bytes.duplicate_of) == ("duplicate", None, 1)
    assert (same_text.status, same_text.duplicate_of) == ("duplicate", first.doc_id)
    assert corpus.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1
    assert corpus.get(1).sources == ("https://a.gov.cn/1", "https://b.gov.cn/2", "https://c.gov.cn/3")


def test_near_duplicate_with_other_chrome_is_linked_not_deleted(corpus):
    chrome_a = "首页 > 政务公开 > 政策文件\n打印 关闭 字号：大 中 小\n"
    chrome_b = "您的位置：克州人民政府网 > 通知公告\n【字体：大 中 小】 分享到：\n"
    a = corpus.add(b"a", DocumentMeta(source="https://a.gov.cn/1"), ex(chrome_a + BODY + "\n网站地图 联系我们"))
    b = corpus.add(b"b", DocumentMeta(source="https://b.gov.cn/2"), ex(chrome_b + BODY + "\n版权所有 ICP备"))
    other = corpus.add(b"c", DocumentMeta(source="https://c.gov.cn/3"), ex("哈密市2025年国民经济和社会发展统计公报\n全年地区生产总值增长6.1%。" * 20))
    assert (a.status, b.status, b.duplicate_of, other.status) == ("added", "near_duplicate", 1, "added")
    assert b.message.startswith("0.9")
    assert [d.id for d in corpus.documents()] == [1, 3]
    assert [d.id for d in corpus.documents(include_duplicates=True)] == [1, 2, 3]
    assert corpus.get(2).duplicate_of == 1 and corpus.get(2).similarity >= 0.9
    # a stricter threshold does not link them
    strict = Corpus(corpus.path, near_threshold=0.9999)
    c = strict.add(b"d", DocumentMeta(source="https://d.gov.cn/4"), ex("其他网站\n" + BODY + "\n页脚"))
    assert c.status == "added"
    strict.close()


def test_changed_source_becomes_new_version(corpus):
    v1 = corpus.add(b"v1", DocumentMeta(source="https://www.xjbz.gov.cn/p.html"), ex(BODY))
    v2_text = BODY.replace("三、保障措施", "三、保障措施（修订）") + "四、附则。本意见自印发之日起施行，有效期五年。" * 40
    v2 = corpus.add(b"v2", DocumentMeta(source="https://www.xjbz.gov.cn/p.html"), ex(v2_text))
    assert (v1.status, v2.status, v2.doc_id) == ("added", "new_version", 2)
    doc = corpus.get(2)
    assert (doc.version, doc.supersedes, doc.duplicate_of) == (2, 1, None)
    assert [d.id for d in corpus.documents()] == [2]
    assert [(d.id, d.version) for d in corpus.documents(latest_only=False)] == [(1, 1), (2, 2)]
    same_again = corpus.add(b"v2", DocumentMeta(source="https://www.xjbz.gov.cn/p.html"), ex(v2_text))
    assert (same_again.status, same_again.duplicate_of) == ("duplicate", 2)


def test_failed_extraction_writes_nothing(corpus, tmp_path):
    bad = Extraction(text="", method="pdf", flags=("encrypted",),
                     warnings=("PDF is password-protected; ask the publisher for an open copy",))
    result = corpus.add(b"%PDF-1.7 secret", DocumentMeta(source="secret.pdf"), bad)
    assert result.status == "failed"
    assert result.flags == ("encrypted",)
    assert result.message == "PDF is password-protected; ask the publisher for an open copy"
    assert corpus.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 0
    assert not (tmp_path / "data" / "raw").exists()


def test_flagged_document_is_stored_with_its_flags(corpus):
    result = corpus.add(b"short", DocumentMeta(source="s.txt"), ex("巴州通知。", flags=("short_text",),
                                                                 warnings=("only 5 characters",)))
    assert (result.status, result.flags, result.message) == ("flagged", ("short_text",), "only 5 characters")
    doc = corpus.get(result.doc_id)
    assert (doc.flags, doc.warnings, doc.region) == (("short_text",), ("only 5 characters",), "巴音郭楞蒙古自治州")


def test_add_without_extraction_extracts_the_bytes(corpus):
    result = ingest_bytes(corpus, BODY.encode("gb18030"), DocumentMeta(source="docs/gbk.txt", filename="gbk.txt"))
    assert result.status == "added"
    assert corpus.get(result.doc_id).text.startswith("关于加快推进乌鲁木齐市数字经济发展的实施意见")


def test_search_finds_terms_of_any_length_best_first(corpus):
    corpus.add(b"1", DocumentMeta(source="1"), ex("乌鲁木齐市推进数字经济发展，建设算力中心。"))
    corpus.add(b"2", DocumentMeta(source="2"), ex("哈密市发展新能源产业，推动数字经济与能源融合。数字经济。"))
    corpus.add(b"3", DocumentMeta(source="3"), ex("吐鲁番市发展旅游业，推进5G基站建设。"))
    hits = corpus.search("数字经济")
    assert [h.doc_id for h in hits] == [2, 1]
    assert hits[1].snippet == "乌鲁木齐市推进[数字经济]发展，建设算力中心。"
    assert [h.doc_id for h in corpus.search("数字经济 算力中心")] == [1]
    assert [h.doc_id for h in corpus.search("5G")] == [3]
    assert corpus.search("5G")[0].snippet == "吐鲁番市发展旅游业，推进[5G]基站建设。"
    # Once in each; BM25 ranks the shorter document first.
    assert [h.doc_id for h in corpus.search("推进")] == [3, 1]
    assert [h.doc_id for h in corpus.search("5g")] == [3]
    assert corpus.search("区块链") == []
    assert [h.doc_id for h in corpus.search("数字经济", limit=1)] == [2]
    with pytest.raises(UsageError):
        corpus.search("  ")


def test_documents_filters_and_stats(corpus):
    corpus.add(b"1", DocumentMeta(source="1"), ex("正文一。", title="巴州2024年国民经济和社会发展统计公报"))
    corpus.add(b"2", DocumentMeta(source="2"), ex("正文二。", title="巴州2025年国民经济和社会发展统计公报"))
    corpus.add(b"3", DocumentMeta(source="3"), ex("正文三。", title="2025年哈密市政府工作报告"))
    assert [d.id for d in corpus.documents(region="巴州")] == [1, 2]
    assert [d.id for d in corpus.documents(region="652800", year=2025)] == [2]
    assert [d.id for d in corpus.documents(doc_type="work_report")] == [3]
    frame = corpus.to_frame(year=2025)
    assert frame["id"].tolist() == [2, 3] and frame["region"].tolist() == ["巴音郭楞蒙古自治州", "哈密市"]
    stats = corpus.stats()
    assert (stats["documents"], stats["rows"], stats["near_duplicates"]) == (3, 3, 0)
    assert stats["by_type"] == {"statistical_bulletin": 2, "work_report": 1}
    assert stats["by_year"] == {2024: 1, 2025: 2}
    with pytest.raises(UsageError, match="unknown region"):
        corpus.documents(region="火星")
    with pytest.raises(CorpusError, match="no such document"):
        corpus.get(99)


def test_reopen_is_idempotent_and_newer_schema_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    with Corpus(path) as c:
        c.add(b"1", DocumentMeta(source="1"), ex("一份文件。"))
    with Corpus(path) as c:
        assert c.stats()["rows"] == 1
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(CorpusError, match="newer than this policylens"):
        Corpus(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CorpusError, match="cannot open corpus database"):
        Corpus(junk)


def test_second_writer_holding_the_lock_is_waited_for(tmp_path):
    """The crawler keeps its own tables in the same file through its own connection."""
    path = tmp_path / "c.sqlite"
    with Corpus(path) as c:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("CREATE TABLE frontier (url TEXT PRIMARY KEY)")
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO frontier VALUES ('https://www.xinjiang.gov.cn/')")

        def release():
            time.sleep(0.5)
            other.execute("COMMIT")

        thread = threading.Thread(target=release)
        started = time.monotonic()  # before the thread starts: the commit is >= 0.5 s later
        thread.start()
        result = c.add(b"1", DocumentMeta(source="1"), ex("一份文件。"))
        waited = time.monotonic() - started
        thread.join()
        assert result.status == "added"
        assert waited >= 0.45
        assert c.conn.execute("SELECT COUNT(*) FROM frontier").fetchone()[0] == 1
        other.close()
