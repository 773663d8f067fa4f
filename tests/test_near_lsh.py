"""MinHash signatures, LSH band keys in SQLite, exact verification of candidates."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.corpus.dedupe import LshNearDuplicates, near_keys, ngram_cosine
from policylens.corpus.minhash import DEFAULT_LSH, LshParams, band_keys, signature

# Two policy-like texts of a few hundred characters each, and variants of the first.
POLICY = (
    "为深入贯彻落实党中央、国务院关于发展数字经济的决策部署，加快推进全省数字化转型，"
    "现就加快数字经济发展提出如下意见。一、总体要求。坚持以新发展理念为引领，以数据为关键要素，"
    "以数字技术与实体经济深度融合为主线，加强数字基础设施建设，完善数字经济治理体系，"
    "协同推进数字产业化和产业数字化。二、重点任务。建设高速泛在的信息网络，推进千兆光网和"
    "第五代移动通信网络覆盖，布局建设一体化算力网络节点，推动工业互联网平台在重点行业应用，"
    "培育一批数字化转型服务商。三、保障措施。各地区各部门要加强组织领导，强化资金保障，"
    "健全统计监测，定期评估实施效果，确保各项任务落到实处。"
) * 3
OTHER = (
    "为进一步加强和改进全市农村供水工作，保障农村居民饮水安全，结合本市实际，制定本办法。"
    "本办法所称农村供水，是指以乡镇、村为单元向居民和单位提供生活用水和生产用水的活动。"
    "县级人民政府水行政主管部门负责本行政区域内农村供水工作的监督管理，卫生健康部门负责"
    "饮用水卫生监督监测。供水单位应当建立水质检验制度，定期对出厂水和末梢水进行检测，"
    "发现水质异常应当立即采取措施并报告。任何单位和个人不得在水源保护区内从事污染水源的活动。"
) * 3
REPOST = "首页 > 政策文件 > 正文 【字体：大 中 小】 来源：省政府办公厅\n" + POLICY + "\n打印本页 关闭窗口"
REDATED = POLICY.replace("现就加快", "2026年2月11日现就加快")


def test_signature_is_fixed_across_processes():
    # Stored band keys must not change between runs: no salted hash() anywhere.
    code = (
        "from policylens.corpus.dedupe import near_keys;"
        f"print(near_keys({POLICY[:60]!r})[:3])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(near_keys(POLICY[:60])[:3])
    assert near_keys("国务院关于加快推进数字经济发展的指导意见。各省、自治区、直辖市人民政府")[:2] == [
        537508578238191558,
        -6468581757975513076,
    ]


def test_signature_shape_and_empty_text():
    sig = signature(POLICY)
    assert len(sig) == DEFAULT_LSH.num_perm == 128
    assert len(band_keys(sig)) == 32
    assert signature("") == () and near_keys("") == [] and near_keys(" \n\t") == []
    with pytest.raises(ValueError, match="banding needs 64"):
        band_keys(sig, LshParams(bands=16, rows=4))
    with pytest.raises(ValueError, match="LshParams.rows must be at least 1"):
        LshParams(rows=0)


def test_similar_texts_share_band_keys_and_different_ones_do_not():
    keys = set(near_keys(POLICY))
    assert len(keys & set(near_keys(REPOST))) >= 8
    assert len(keys & set(near_keys(REDATED))) >= 8
    assert keys & set(near_keys(OTHER)) == set()
    # Short texts fill their empty bins from their neighbours: no shared empty-bin keys.
    assert set(near_keys("abcdefgh")) & set(near_keys("xyzuvwst")) == set()


def test_ngram_cosine_exact_values():
    # "abc": ab bc abc; "abd": ab bd abd -> one shared n-gram of three on each side.
    assert ngram_cosine("abc", "abd") == pytest.approx(1 / 3)
    assert ngram_cosine(POLICY, POLICY) == pytest.approx(1.0)
    assert ngram_cosine("ab", "cd") == 0.0
    assert ngram_cosine("", "abc") == 0.0
    assert ngram_cosine("a b\nc", "abc") == pytest.approx(1.0)  # whitespace is not compared


def _texts(conn):
    def load(ids):
        marks = ",".join("?" * len(ids))
        return dict(conn.execute(f"SELECT id, text FROM docs WHERE id IN ({marks})", ids))

    return load


def _store(conn, index, doc_id, text):
    conn.execute("INSERT INTO docs (id, text) VALUES (?, ?)", (doc_id, text))
    index.add(doc_id, near_keys(text))


def test_lsh_index_in_sqlite(tmp_path):
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, text TEXT)")
    index = LshNearDuplicates(conn, threshold=0.9)
    _store(conn, index, 1, POLICY)
    _store(conn, index, 2, OTHER)
    conn.commit()

    match = index.best_match(REPOST, near_keys(REPOST), _texts(conn))
    assert match is not None and match.doc_id == 1
    assert match.score == round(ngram_cosine(REPOST, POLICY), 6)
    assert 0.9 <= match.score < 1.0
    assert index.best_match(REDATED, near_keys(REDATED), _texts(conn)).doc_id == 1
    assert index.best_match(OTHER[::-1], near_keys(OTHER[::-1]), _texts(conn)) is None
    assert index.candidates(near_keys(OTHER)) == [2]

    # A reopened connection finds the same match: the keys are in the database.
    conn.close()
    conn = sqlite3.connect(tmp_path / "c.db")
    index = LshNearDuplicates(conn, threshold=0.9)
    assert index.best_match(REPOST, near_keys(REPOST), _texts(conn)).doc_id == 1
    assert conn.execute("SELECT COUNT(*) FROM near_bands").fetchone()[0] == 64

    index.remove(1, near_keys(POLICY))
    assert index.best_match(REPOST, near_keys(REPOST), _texts(conn)) is None
    assert conn.execute("SELECT COUNT(*) FROM near_bands").fetchone()[0] == 32


def test_threshold_is_configurable(tmp_path):
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, text TEXT)")
    strict = LshNearDuplicates(conn, threshold=0.999)
    _store(conn, strict, 1, POLICY)
    assert strict.best_match(REPOST, near_keys(REPOST), _texts(conn)) is None
    assert LshNearDuplicates(conn, threshold=0.5).best_match(
        REPOST, near_keys(REPOST), _texts(conn)
    ).doc_id == 1
    with pytest.raises(ValueError, match="threshold must be in"):
        LshNearDuplicates(conn, threshold=0)


def test_candidates_share_two_keys_at_least_and_are_capped():
    conn = sqlite3.connect(":memory:")
    index = LshNearDuplicates(conn, 0.9, max_candidates=3)
    keys = list(range(100, 132))
    index.add(1, [keys[0], 9001, 9002])  # one key in common: a chance hit, not compared
    index.add(2, keys[:2])
    for doc_id, shared in ((3, 5), (4, 9), (5, 7), (6, 2)):
        index.add(doc_id, keys[:shared])
    # most shared first, ties by id, three at most; document 1 never
    assert index.candidates(keys) == [4, 5, 3]
    assert LshNearDuplicates(conn, 0.9).candidates(keys) == [4, 5, 3, 2, 6]
    assert LshNearDuplicates(conn, 0.9, min_shared=1).candidates(keys) == [4, 5, 3, 2, 6, 1]


def _reference_cosine(a: str, b: str) -> float:
    """The cosine the way it was first written: Counters of n-gram strings, Python ints."""
    import math
    from collections import Counter

    from policylens.corpus.dedupe import _head

    def counts(text):
        head = _head(text, 12000)
        return Counter(head[i : i + n] for n in (2, 3) for i in range(len(head) - n + 1))

    x, y = counts(a), counts(b)
    nx, ny = math.sqrt(sum(v * v for v in x.values())), math.sqrt(sum(v * v for v in y.values()))
    dot = sum(v * y[g] for g, v in x.items() if g in y)
    return dot / (nx * ny) if nx and ny else 0.0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="数字经济发展ab1 \n𠀀，", max_size=60),
       st.text(alphabet="数字经济发展ab1 \n𠀀，", max_size=60))
def test_ngram_cosine_equals_the_counter_reference_exactly(a, b):
    assert ngram_cosine(a, b) == _reference_cosine(a, b)
    assert ngram_cosine(POLICY, OTHER + a) == _reference_cosine(POLICY, OTHER + a)


# Han characters around everything NFKC acts on: full-width forms, compatibility ideographs,
# ligatures, superscripts, combining marks after Latin letters and kana, Hangul jamo.
NFKC_CHARS = list("数据中心ab，。（）：Ａｂ１\uf900\ufa0e\ufb01²①㈱ｶﾞ\u0301\u0308\u3099か"
                  "\u1100\u1161\u11a8e \n\t\u200b\u00ad\u3000")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(NFKC_CHARS), max_size=40))
def test_hash_normalisation_is_nfkc_of_the_whole_text(text):
    import re
    import unicodedata

    from policylens.corpus.dedupe import normalize_for_hash

    whole = unicodedata.normalize("NFKC", text)
    expected = re.sub(r"\s+", "", re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "", whole))
    assert normalize_for_hash(text) == expected
