"""The notebook API: count_text, score_files, Scorer."""

from __future__ import annotations

from policylens.api import Scorer, count_text, expand_paths, score_files
from policylens.lexicons import lexicon_from_mapping

TEXT = "建设大数据中心，发展移动互联网。推广区块链。"


def test_count_text_default_and_custom_lexicon():
    assert count_text(TEXT).terms == {"区块链": 1, "大数据": 1, "移动互联网": 1}
    mine = lexicon_from_mapping("mine", {"网": ["移动互联网", "互联网"]})
    result = count_text(TEXT, mine)
    assert (result.terms, result.lexicon_name) == ({"移动互联网": 1}, "mine")


def test_score_files_frame(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.md").write_text("今天天气很好。", encoding="utf-8")
    frame = score_files(tmp_path, terms=True)
    assert frame["path"].tolist() == [str(tmp_path / "a.txt"), str(tmp_path / "b.md")]
    assert frame["total"].tolist() == [3, 0]
    assert frame["chars"].tolist() == [19, 6]
    assert frame["区块链"].tolist() == [1, 0]  # a category column
    assert frame["term:区块链"].tolist() == [1, 0]  # a term column
    assert frame["term:移动互联网"].tolist() == [1, 0]
    assert set(frame["lexicon_version"]) == {Scorer().lexicon.version}
    assert frame.attrs["errors"] == []


def test_score_paths_reports_progress_and_errors(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    seen = []
    report = Scorer().score_paths([tmp_path / "a.txt", tmp_path / "gone.pdf"], kwic=2, progress=seen.append)
    assert seen == [str(tmp_path / "a.txt")]
    assert [e.to_dict() for e in report.errors] == [
        {"path": str(tmp_path / "gone.pdf"), "error": "no such file or folder; check the path"}]
    assert [k.term for k in report.documents[0].counts.kwic] == ["大数据", "移动互联网"]


def test_expand_paths_dedupes_and_globs(tmp_path):
    for name in ("x.txt", "y.html", "z.bin"):
        (tmp_path / name).write_text("文本", encoding="utf-8")
    files, errors, skipped = expand_paths([tmp_path, tmp_path / "x.txt", str(tmp_path / "*.html"), str(tmp_path / "*.doc")])
    assert files == [tmp_path / "x.txt", tmp_path / "y.html"]
    assert [e.path for e in errors] == [str(tmp_path / "*.doc")]
    assert skipped == 1  # z.bin
