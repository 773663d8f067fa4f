"""The one path expander behind ``ingest`` and ``score``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from policylens.api import Scorer
from policylens.corpus.paths import PathProblem, expand_paths

TEXT = "推进大数据中心建设，发展移动互联网。"


def _tree(root):
    (root / "docs" / "sub").mkdir(parents=True)
    (root / "docs" / ".git").mkdir()
    for name in ("docs/b.txt", "docs/a.PDF", "docs/sub/c.html", "docs/.hidden.txt",
                 "docs/.git/d.txt", "docs/notes.xyz", "docs/sub/e.md"):
        (root / name).write_text(TEXT, encoding="utf-8")
    (root / "docs" / "gone.txt").symlink_to(root / "nowhere.txt")
    (root / "empty").mkdir()
    (root / "empty" / ".only-hidden.txt").write_text(TEXT, encoding="utf-8")
    return root / "docs"


def test_folders_skip_hidden_files_and_keep_dangling_links(tmp_path):
    docs = _tree(tmp_path)
    files, problems, skipped = expand_paths([docs])
    assert [str(f.relative_to(docs)) for f in files] == [
        "a.PDF", "b.txt", "gone.txt", "sub/c.html", "sub/e.md"]
    assert problems == []
    assert skipped == 1  # notes.xyz


def test_named_files_globs_duplicates_and_problems(tmp_path):
    docs = _tree(tmp_path)
    files, problems, skipped = expand_paths([
        docs / "notes.xyz",                 # named: taken whatever its suffix
        str(docs / "**" / "*.md"),          # glob
        docs / "sub" / "e.md",              # the same file again: kept once
        str(docs / "sub" / ".." / "b.txt"),  # the same file as b.txt below, other spelling
        docs / "b.txt",
        tmp_path / "missing.pdf",
        str(tmp_path / "*.docx"),
        tmp_path / "empty",
    ])
    assert [str(f.relative_to(docs)) for f in files] == ["notes.xyz", "sub/e.md", "sub/../b.txt"]
    assert problems == [
        PathProblem(str(tmp_path / "missing.pdf"), "no such file or folder; check the path"),
        PathProblem(str(tmp_path / "*.docx"), "pattern matches no file; check the pattern"),
        PathProblem(str(tmp_path / "empty"),
                    "folder holds no documents (.bmp, .doc, .docx, .gif, .htm, .html, .jpeg, "
                    ".jpg, .md, .pdf, .png, .shtml, .tif, .tiff, .txt, .webp, .wps, .xhtml); "
                    "point at a folder with documents"),
    ]
    assert skipped == 0


def test_score_skips_hidden_files_like_ingest(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / ".draft.txt").write_text(TEXT * 3, encoding="utf-8")
    report = Scorer().score_paths([folder])
    assert [d.path for d in report.documents] == [str(folder / "a.txt")]
    assert report.documents[0].counts.terms == {"大数据": 1, "移动互联网": 1}
    assert report.errors == []


def test_score_cli_reports_a_dangling_link_in_a_folder(tmp_path):
    import json

    from typer.testing import CliRunner

    from policylens.cli import app

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(TEXT, encoding="utf-8")
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    result = CliRunner().invoke(app, ["score", "--format", "json", str(folder)])
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [d["path"] for d in data["documents"]] == [str(folder / n) for n in ("a.txt", "b.txt", "c.txt")]
    assert [e["path"] for e in data["errors"]] == [str(folder / "gone.txt")]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_ingest_resolves_each_folder_once_and_gets_what_path_resolve_gets(tmp_path, monkeypatch):
    from policylens.corpus.ingest import _Resolver

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b.txt").symlink_to(tmp_path / "real" / "a.txt")
    monkeypatch.chdir(tmp_path)
    resolve = _Resolver()
    given = ["link/a.txt", str(tmp_path / "link" / "a.txt"), "real/b.txt", "real/../real/a.txt",
             "./real/a.txt", "real/a.txt"]
    assert [resolve(p) for p in given] == [str(Path(p).resolve()) for p in given]
    assert {resolve(p) for p in given} == {str(tmp_path.resolve() / "real" / "a.txt")}
