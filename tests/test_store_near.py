"""Near duplicates in the corpus through the LSH band table: persisted, looked up, kept in step."""

from __future__ import annotations

import sqlite3

from policylens.corpus.dedupe import near_keys, ngram_cosine
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus

BODY = (
    "关于加快推进乌鲁木齐市数字经济发展的实施意见\n"
    "乌政办〔2021〕15号\n"
    "为深入实施数字经济发展战略，加快建设数字新疆，推动大数据、人工智能、云计算与实体经济深度融合，"
    "现提出如下意见。一、总体要求。坚持以数字化转型整体驱动生产方式、生活方式和治理方式变革。"
    "二、主要任务。加快算力基础设施建设，建成一批工业互联网标识解析节点，推进5G网络覆盖。"
    "三、保障措施。各部门要加强组织领导，强化资金保障，完善统计监测，确保各项任务落到实处。"
) * 3
OTHER = "哈密市2025年国民经济和社会发展统计公报\n全年地区生产总值增长6.1%，规模以上工业增加值增长7.2%。" * 20
REPOST = "您的位置：克州人民政府网 > 通知公告\n【字体：大 中 小】\n" + BODY + "\n版权所有 ICP备"


def ex(text: str) -> Extraction:
    return Extraction(text=text, title=None, method="test")


def bands(path) -> dict[int, int]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT doc_id, COUNT(*) FROM near_bands GROUP BY doc_id"))
    finally:
        conn.close()


def test_band_keys_are_stored_with_each_original(tmp_path):
    path = tmp_path / "c.sqlite"
    with Corpus(path) as corpus:
        a = corpus.add(b"a", DocumentMeta(source="a"), ex(BODY))
        o = corpus.add(b"o", DocumentMeta(source="o"), ex(OTHER))
    assert (a.status, o.status) == ("added", "added")
    assert bands(path) == {1: 32, 2: 32}
    # A new process finds the repost by index look-up: nothing is read back at start.
    with Corpus(path) as corpus:
        r = corpus.add(b"r", DocumentMeta(source="r"), ex(REPOST))
    assert (r.status, r.duplicate_of) == ("near_duplicate", 1)
    assert r.message == f"{round(ngram_cosine(REPOST, BODY), 6):.3f} similar to document 1"
    assert bands(path) == {1: 32, 2: 32}  # a near duplicate is not indexed itself


def test_new_version_replaces_the_old_keys(tmp_path):
    path = tmp_path / "c.sqlite"
    with Corpus(path) as corpus:
        corpus.add(b"v1", DocumentMeta(source="p"), ex(BODY))
        v2 = corpus.add(b"v2", DocumentMeta(source="p"), ex(BODY.replace("三、保障措施", "三、保障措施（修订）")))
        assert (v2.status, v2.doc_id) == ("new_version", 2)  # not a near duplicate of v1
        assert bands(path) == {2: 32}
        # A repost now links to the latest version.
        assert corpus.add(b"r", DocumentMeta(source="r"), ex(REPOST)).duplicate_of == 2


def test_a_corpus_without_band_table_is_filled_once_on_open(tmp_path):
    path = tmp_path / "c.sqlite"
    with Corpus(path) as corpus:
        corpus.add(b"a", DocumentMeta(source="a"), ex(BODY))
        corpus.add(b"r", DocumentMeta(source="r"), ex(REPOST))
        corpus.add(b"o", DocumentMeta(source="o"), ex(OTHER))
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE near_bands")  # as written by a policylens before the band table
    conn.commit()
    conn.close()
    with Corpus(path):
        pass
    assert bands(path) == {1: 32, 3: 32}  # originals only
    conn = sqlite3.connect(path)
    keys = {k for (k,) in conn.execute("SELECT key FROM near_bands WHERE doc_id = 1")}
    conn.close()
    assert keys == set(near_keys(BODY))


def test_threshold_still_configurable(tmp_path):
    path = tmp_path / "c.sqlite"
    with Corpus(path) as corpus:
        corpus.add(b"a", DocumentMeta(source="a"), ex(BODY))
    with Corpus(path, near_threshold=0.9999) as strict:
        assert strict.add(b"r", DocumentMeta(source="r"), ex(REPOST)).status == "added"
    assert bands(path) == {1: 32, 2: 32}
