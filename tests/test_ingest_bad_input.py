"""Bad input never crashes a batch nor leaves a partial row; the manifest names bad rows; CLI."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.extract.pdfgen import build_pdf
from policylens.corpus.ingest import ingest_paths, read_manifest
from policylens.corpus.paths import expand_paths
from policylens.corpus.store import Corpus
from policylens.errors import UsageError

GOOD = "克州2025年经济运行情况分析\n全州地区生产总值增长6.2%，数字经济加快发展。\n" * 5
GBK_HTML = (
    '<html><head><meta charset="utf-8"><title>哈密市人民政府关于推进数字政府建设的通知</title></head>'
    "<body><div class='content'><h1>哈密市人民政府关于推进数字政府建设的通知</h1>"
    + "<p>各区县人民政府：为加快数字政府建设，推进政务数据共享，提升一体化政务服务能力，现通知如下。</p>" * 6
    + "</div></body></html>"
).encode("gb18030")  # the page claims UTF-8 but is GBK


def zip_bomb_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (24 * 1024 * 1024))
    return buffer.getvalue()


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "liar.html").write_bytes(GBK_HTML)
    (folder / "locked.pdf").write_bytes(build_pdf([["巴州数字经济发展规划"]], user_password="secret"))
    (folder / "cut.pdf").write_bytes(build_pdf([["巴州数字经济发展规划"] * 20] * 3)[:200])
    (folder / "bomb.docx").write_bytes(zip_bomb_docx())
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")
    (folder / "notes.xyz").write_text("not a document", encoding="utf-8")
    return folder


def test_bad_files_fail_with_reasons_and_good_ones_are_stored(inputs, tmp_path):
    with Corpus.open(tmp_path / "data") as corpus:
        summary = ingest_paths(corpus, [inputs, tmp_path / "missing.pdf"], workers=2)
        by_name = {item.path.rsplit("/", 1)[-1]: item for item in summary.items}
        assert summary.counts == {"added": 2, "duplicate": 0, "near_duplicate": 0, "new_version": 0,
                                  "flagged": 0, "failed": 5}
        assert summary.skipped == 1  # notes.xyz
        assert by_name["missing.pdf"].message == "no such file or folder; check the path"
        assert by_name["dangling.txt"].message == "cannot read: no such file"
        assert by_name["locked.pdf"].flags == ("encrypted",)
        assert "password" in by_name["locked.pdf"].message
        assert by_name["cut.pdf"].flags == ("truncated",)
        assert by_name["bomb.docx"].status == "failed"
        assert "zip bomb" in by_name["bomb.docx"].message
        rows = corpus.conn.execute("SELECT source, title FROM documents ORDER BY id").fetchall()
        assert [(r[0].rsplit("/", 1)[-1], r[1]) for r in rows] == [
            ("good.txt", "克州2025年经济运行情况分析"),
            ("liar.html", "哈密市人民政府关于推进数字政府建设的通知"),
        ]
        liar = corpus.documents(region="哈密市")[0]
        assert (liar.doc_type, liar.issuer) == ("policy", "哈密市人民政府")
        # only the stored documents' bytes are kept
        assert len(list((tmp_path / "data" / "raw").rglob("*.bin"))) == 2


def test_expand_paths_globs_and_folders(inputs, tmp_path):
    files, problems, skipped = expand_paths([str(inputs / "*.pdf"), inputs / "good.txt", "nothing-*.pdf"])
    assert [f.name for f in files] == ["cut.pdf", "locked.pdf", "good.txt"]
    assert [(p.path, p.message) for p in problems] == [("nothing-*.pdf", "pattern matches no file; check the pattern")]
    assert skipped == 0


def test_manifest_rows_set_metadata_and_bad_rows_are_named(inputs, tmp_path):
    manifest = inputs / "manifest.csv"
    manifest.write_text(
        "path,region,year,type,title,url\n"
        "good.txt,巴州,2024,policy,巴州的文件,https://www.xjbz.gov.cn/a.html\n"
        "liar.html,火星,2024,,,\n"
        "cut.pdf,,twenty,,,\n"
        ",,,,,\n"
        "good.txt,,,report,,\n",
        encoding="utf-8",
    )
    rows, bad = read_manifest(manifest)
    assert [(r.line, r.path.name, r.url) for r in rows] == [(2, "good.txt", "https://www.xjbz.gov.cn/a.html")]
    assert [(b.path.rsplit("/", 1)[-1], b.message) for b in bad] == [
        ("manifest.csv:3", "unknown region '火星' (use a name, short form or code from "
                           "corpus/data/regions_*.toml)"),
        ("manifest.csv:4", "year must be a number, got 'twenty'"),
        ("manifest.csv:5", "row has no path"),
        ("manifest.csv:6", "unknown document type 'report' (use work_report, five_year_plan, "
                           "statistical_bulletin, policy, other)"),
    ]
    with Corpus.open(tmp_path / "data") as corpus:
        summary = ingest_paths(corpus, [], {"region": "哈密", "year": 2030}, manifest)
        assert summary.counts["added"] == 1 and summary.counts["failed"] == 4
        doc = corpus.documents()[0]
        assert (doc.region, doc.year, doc.doc_type, doc.title, doc.source) == (
            "巴音郭楞蒙古自治州", 2024, "policy", "巴州的文件", "https://www.xjbz.gov.cn/a.html")


def test_manifest_without_path_column(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,region\na.txt,巴州\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no 'path' column"):
        read_manifest(manifest)
    with pytest.raises(UsageError, match="manifest not found"):
        read_manifest(tmp_path / "absent.csv")


def test_cli_ingest_ls_show_search_stats_export(inputs, tmp_path):
    runner = CliRunner()
    data = str(tmp_path / "data")
    result = runner.invoke(app, ["ingest", str(inputs / "good.txt"), str(inputs / "liar.html"),
                                 "--data-dir", data, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["added"] == 2
    again = runner.invoke(app, ["ingest", str(inputs), "--data-dir", data, "--format", "json"])
    assert again.exit_code == 1  # the bad files fail
    counts = json.loads(again.stdout)["counts"]
    assert (counts["duplicate"], counts["failed"], counts["added"]) == (2, 4, 0)

    listed = runner.invoke(app, ["corpus", "ls", "--data-dir", data, "--format", "json"])
    assert json.loads(listed.stdout) == [
        {"id": 1, "title": "克州2025年经济运行情况分析", "region": "克孜勒苏柯尔克孜自治州",
         "year": 2025, "doc_type": "other", "chars": len(GOOD.strip()), "flags": [], "duplicate_of": None},
        {"id": 2, "title": "哈密市人民政府关于推进数字政府建设的通知", "region": "哈密市",
         "year": None, "doc_type": "policy", "chars": json.loads(runner.invoke(
             app, ["corpus", "show", "2", "--data-dir", data, "--format", "json"]).stdout)["chars"],
         "flags": [], "duplicate_of": None},
    ]
    shown = json.loads(runner.invoke(app, ["corpus", "show", "1", "--data-dir", data, "-f", "json"]).stdout)
    assert shown["text"] == GOOD.strip() and shown["source"].endswith("good.txt")
    found = runner.invoke(app, ["corpus", "search", "数字政府", "--data-dir", data, "-f", "json"])
    assert [h["doc_id"] for h in json.loads(found.stdout)] == [2]
    stats = json.loads(runner.invoke(app, ["corpus", "stats", "--data-dir", data, "-f", "json"]).stdout)
    assert (stats["documents"], stats["by_type"]) == (2, {"other": 1, "policy": 1})
    out = tmp_path / "c.csv"
    exported = runner.invoke(app, ["corpus", "export", str(out), "--format", "csv", "--data-dir", data])
    assert exported.exit_code == 0 and out.exists()
    missing = runner.invoke(app, ["corpus", "show", "9", "--data-dir", data])
    assert missing.exit_code != 0


def test_cli_ingest_nothing_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["ingest", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
