"""``policylens score`` and ``policylens lexicon``: every format and error path."""

from __future__ import annotations

import json

import pytest
from docbuilders import write_docx, write_pdf
from typer.testing import CliRunner

from policylens.cli import app

POLICY = "关于加快数字经济发展的通知。建设大数据中心，发展移动互联网和电子商务，推广区块链技术。"


@pytest.fixture
def runner():
    return CliRunner()


def score_json(runner, *args):
    result = runner.invoke(app, ["score", "--format", "json", *map(str, args)])
    return result, json.loads(result.stdout)


def test_txt_json_contract(runner, tmp_path):
    doc = tmp_path / "notice.txt"
    doc.write_text(POLICY, encoding="utf-8")
    result, data = score_json(runner, doc)
    assert result.exit_code == 0
    assert data["lexicon"]["name"] == "digital-technology-table4"
    assert data["lexicon"]["terms"] == 76
    assert len(data["lexicon"]["version"]) == 12
    assert data["errors"] == []
    (document,) = data["documents"]
    assert document["path"] == str(doc)
    assert document["terms"] == {"大数据": 1, "区块链": 1, "电子商务": 1, "移动互联网": 1}
    assert document["categories"] == {"人工智能": 0, "大数据": 1, "云计算": 0, "区块链": 1, "数字技术运用": 2}
    assert (document["total"], document["chars"]) == (4, 39)
    assert document["per_10k_chars"] == 1025.641
    assert document["kwic"] == []


def test_gb18030_md_html_pdf_docx(runner, tmp_path):
    gbk = tmp_path / "gbk.md"
    gbk.write_bytes(("# 标题\n" + POLICY + "镕").encode("gb18030"))
    html = tmp_path / "page.html"
    html.write_text(
        "<html><head><meta charset='utf-8'><title>通知</title></head><body>"
        "<div class='nav'>首页 大数据 云计算</div><div id='zoom'><p>" + POLICY + "</p></div>"
        "<div class='footer'>网站地图</div></body></html>",
        encoding="utf-8",
    )
    pdf = write_pdf(tmp_path / "doc.pdf", [[POLICY[:20], POLICY[20:]]])
    docx = write_docx(tmp_path / "doc.docx", [POLICY[:20]], table=[["指标", POLICY[20:]]])
    result, data = score_json(runner, gbk, html, pdf, docx)
    assert result.exit_code == 0, data["errors"]
    totals = {d["path"].rsplit("/", 1)[-1]: d["total"] for d in data["documents"]}
    assert totals == {"gbk.md": 4, "page.html": 4, "doc.pdf": 4, "doc.docx": 4}


def test_folder_and_glob(runner, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(POLICY, encoding="utf-8")
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    result, data = score_json(runner, tmp_path)
    assert [d["path"] for d in data["documents"]] == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    result, data = score_json(runner, tmp_path / "*.txt")
    assert len(data["documents"]) == 2 and result.exit_code == 0


def test_bad_inputs_are_reported_and_others_scored(runner, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(POLICY, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "tool.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    corrupt_pdf = tmp_path / "broken.pdf"
    corrupt_pdf.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    corrupt_docx = tmp_path / "broken.docx"
    corrupt_docx.write_bytes(b"PK\x03\x04 this is not a real zip")
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    args = [good, tmp_path / "missing.txt", empty_dir, empty, binary, corrupt_pdf, corrupt_docx]
    result, data = score_json(runner, *args)
    assert result.exit_code == 1
    assert [d["path"] for d in data["documents"]] == [str(good)]
    errors = {e["path"]: e["error"] for e in data["errors"]}
    assert set(errors) == {str(p) for p in args[1:]}
    assert "no such file or folder" in errors[str(tmp_path / "missing.txt")]
    assert "folder holds no documents" in errors[str(empty_dir)]
    assert "empty" in errors[str(empty)]
    for path in (binary, corrupt_pdf, corrupt_docx):
        assert errors[str(path)]  # one clear line each
        assert "\n" not in errors[str(path)]


def test_table_output_and_kwic(runner, tmp_path):
    doc = tmp_path / "notice.txt"
    doc.write_text(POLICY, encoding="utf-8")
    result = runner.invoke(app, ["score", str(doc), "--kwic", "2"])
    assert result.exit_code == 0
    assert "digital-technology-table4" in result.stdout
    assert "建设【大数据】中心" in result.stdout
    assert "大数据 1" in result.stdout


def test_csv_output(runner, tmp_path):
    doc = tmp_path / "notice.txt"
    doc.write_text(POLICY, encoding="utf-8")
    result = runner.invoke(app, ["score", str(doc), "--format", "csv"])
    header, row = result.stdout.strip().splitlines()
    columns = header.split(",")
    assert columns[:7] == ["path", "chars", "words", "total", "per_10k_chars", "share_of_words", "log1p"]
    values = dict(zip(columns, row.split(","), strict=True))
    assert (values["total"], values["大数据"], values["term:移动互联网"], values["term:征信"]) == ("4", "1", "1", "0")


def test_user_lexicon_and_its_errors(runner, tmp_path):
    lexicon = tmp_path / "mine.txt"
    lexicon.write_text("# name: 数据要素\n[要素]\n数据要素\n算力\n", encoding="utf-8")
    doc = tmp_path / "d.txt"
    doc.write_text("培育数据要素市场，建设算力网络。", encoding="utf-8")
    result, data = score_json(runner, "--lexicon", lexicon, doc)
    assert data["lexicon"]["name"] == "数据要素" and data["documents"][0]["terms"] == {"数据要素": 1, "算力": 1}
    lexicon.write_text("[要素]\n数据要素\n数据要素\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--lexicon", str(lexicon), str(doc)])
    assert result.exit_code == 2
    assert f"{lexicon}:3: duplicate term '数据要素'" in result.stderr


def test_usage_errors_exit_2(runner):
    assert runner.invoke(app, ["score"]).exit_code == 2
    assert runner.invoke(app, ["score", "x.txt", "--format", "yaml"]).exit_code == 2


def test_lexicon_show_json(runner):
    result = runner.invoke(app, ["lexicon", "show", "--format", "json"])
    data = json.loads(result.stdout)
    assert set(data) == {"name", "version", "categories"}
    assert {c: len(t) for c, t in data["categories"].items()} == {
        "人工智能": 15, "大数据": 9, "云计算": 13, "区块链": 5, "数字技术运用": 34}


def test_lexicon_show_table_and_validate(runner, tmp_path):
    result = runner.invoke(app, ["lexicon", "show"])
    assert result.exit_code == 0 and "76 terms" in result.stdout and "数字技术运用" in result.stdout
    good = tmp_path / "ok.txt"
    good.write_text("[a]\n算力\n", encoding="utf-8")
    result = runner.invoke(app, ["lexicon", "validate", str(good)])
    assert result.exit_code == 0 and "1 terms (a 1)" in result.stdout
    good.write_text("算力\n", encoding="utf-8")
    result = runner.invoke(app, ["lexicon", "validate", str(good)])
    assert result.exit_code == 2 and f"{good}:1" in result.stderr
