"""Policy relevance rule v1 (nlp/relevance.py)."""

from __future__ import annotations

import pytest

from policylens.errors import ConfigError
from policylens.nlp.relevance import (
    KeywordRelevance,
    PolicyRelevance,
    RelevanceDecision,
    load_keywords,
)

# (file, title from SOURCES.md, relevant?) — the RCEP trade policy and the 2012 press-work
# notice are the non-digital controls.
REAL = [
    ("policy_aba_2021_zhengwushuju.txt", "阿坝州人民政府办公室关于印发《阿坝州政务数据资源管理暂行办法》的通知", True),
    ("policy_anhui_2022_rcep.txt", "安徽省推进“三地一区”建设领导小组改革开放新高地执行小组办公室关于印发安徽省关于加快对接区域全面经济伙伴关系协定(RCEP)经贸新规则扎实推进高水平开放实施意见的通知", False),
    ("policy_baotou_2022_shuzizhengfu_kaoping.txt", "包头市人民政府办公室关于印发《包头市2022年数字政府建设考评办法》的通知", True),
    ("policy_xinjiang_2012_zhijianju_xinwen.txt", "新疆维吾尔自治区质监局关于进一步加强新闻宣传工作的通知", False),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "title", "relevant"), REAL)
def test_real_policies(shared, name, title, relevant):
    text = shared("realdata", "govtext", name).read_text(encoding="utf-8")
    assert KeywordRelevance()(title, text).relevant is relevant


@pytest.mark.realdata
def test_real_body_density_without_title(shared):
    rule = KeywordRelevance()
    rcep = shared("realdata", "govtext", "policy_anhui_2022_rcep.txt").read_text(encoding="utf-8")
    decision = rule("", rcep)
    # 数字化 2, 数字技术 1, 信息化 5, 5G 1, 人工智能 2, 电子商务 2, 电商 2, 软件 1, 信息技术 2 = 18
    assert decision.hits == 18
    assert decision.relevant is False
    assert decision.reason.startswith("body: 18 keyword hits, 34.4 per 10k chars (below")


def test_title_keyword_wins_and_is_reported():
    rule = KeywordRelevance()
    assert rule("关于加快数字经济发展的实施意见", "") == RelevanceDecision(
        True, "title contains 数字经济", 1.0, 0
    )
    assert rule("关于做好春耕生产的通知", "春耕。" * 100).relevant is False


def test_thresholds_are_configurable_and_named():
    body = "推进大数据和云计算发展。" * 3 + "其他内容" * 10  # 6 hits in 76 chars
    assert KeywordRelevance()("", body).relevant is False  # fewer than 10 hits
    loose = KeywordRelevance(min_hits=5, min_per_10k=50)
    assert loose("", body).relevant is True
    assert loose.name == "keywords-v1(title or >=5 hits and >=50/10k chars)"
    assert isinstance(loose, PolicyRelevance)


def test_longest_keyword_counts_once():
    rule = KeywordRelevance(["数字", "数字经济"], min_hits=1, min_per_10k=0)
    assert rule.body_hits("数字经济数字") == 2


def test_keyword_files(tmp_path):
    shipped = load_keywords()
    assert shipped[:3] == ("数字经济", "数字化", "数智化")
    assert "互联网+" in shipped and "算力" in shipped and "数据要素" in shipped
    path = tmp_path / "kw.txt"
    path.write_text("# mine\n数字经济\n\n数字经济\n区块链\n", encoding="utf-8")
    assert load_keywords(path) == ("数字经济", "区块链")
    path.write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no keywords in the file"):
        load_keywords(path)
    with pytest.raises(ConfigError, match="keyword file not found"):
        load_keywords(tmp_path / "absent.txt")
