"""``indicators_from_corpus`` reads only the rows of the index year (and plan outlines), and
each text only while an indicator uses it."""

from __future__ import annotations

from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.indicators.compute import LazyText, _documents_of_year, _latest_year_stored
from policylens.indicators.model import IndicatorConfig

DOCS = [  # (doc_type, year, title)
    ("work_report", 2023, "2023年哈密市政府工作报告"),
    ("work_report", 2024, "2024年哈密市政府工作报告"),
    ("five_year_plan", 2021, "哈密市国民经济和社会发展第十四个五年规划纲要"),
    ("policy", 2024, "关于加快数字经济发展的实施意见"),
    ("other", 2022, "2022年会议通知"),
]


def _corpus(tmp_path) -> Corpus:
    corpus = Corpus(tmp_path / "corpus.sqlite")
    for i, (doc_type, year, title) in enumerate(DOCS):
        text = f"{title}。推进大数据和人工智能发展，第{i}项工作。" * 3
        corpus.add(text.encode("utf-8"), DocumentMeta(
            source=f"https://www.hami.gov.cn/{i}.html",
            overrides={"doc_type": doc_type, "year": year, "region": "哈密市", "title": title}),
            Extraction(text=text, title=title, method="test"))
    return corpus


def test_only_the_year_and_the_plan_outlines_are_selected_and_texts_stay_in_the_database(tmp_path):
    with _corpus(tmp_path) as corpus:
        assert _latest_year_stored(corpus.conn) == 2024
        docs = _documents_of_year(corpus, 2024, IndicatorConfig())
        assert [(d.doc_type, d.year) for d in docs] == [
            ("work_report", 2024), ("five_year_plan", 2021), ("policy", 2024)]
        assert all(isinstance(d, LazyText) and "text" not in vars(d) for d in docs)
        assert docs[0].text == "2024年哈密市政府工作报告。推进大数据和人工智能发展，第1项工作。" * 3
        assert docs[0].title == "2024年哈密市政府工作报告" and docs[0].region == "哈密市"
