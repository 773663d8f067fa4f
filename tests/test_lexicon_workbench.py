"""Lexicon workbench: add/remove with changelog, diff, export round trips, CLI errors."""

from __future__ import annotations

import json
import re
import threading

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.errors import LexiconError, UsageError
from policylens.lexicons import lexicon_from_mapping, load_lexicon
from policylens.lexicons.diff import diff_lexicons
from policylens.lexicons.edit import add_term, read_changelog, remove_term, user_lexicon_path
from policylens.lexicons.export import atomic_write_text, export_lexicon, to_jieba

SHIPPED = load_lexicon()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def user_file(tmp_path):
    return tmp_path / "data" / "lexicon.toml"


# ----------------------------------------------------------------------- editing (library)


def test_first_add_creates_user_copy_with_changelog(user_file):
    result = add_term(user_file, "算力", "云计算", note="2025 reports", who="alice")
    assert result.created is True
    assert user_file.is_file()
    assert len(result.lexicon) == 77
    assert result.lexicon.categories["云计算"][-1] == "算力"
    assert result.entry.version_before == SHIPPED.version
    assert result.entry.version_after == result.lexicon.version != SHIPPED.version
    log = read_changelog(user_file)
    assert [(e.action, e.term, e.category, e.note, e.who) for e in log] == [
        ("create", "", "", f"copied from the shipped lexicon {SHIPPED.name} "
         f"(version {SHIPPED.version})", "alice"),
        ("add", "算力", "云计算", "2025 reports", "alice"),
    ]
    # The loader ignores [[changelog]]; the hash is the terms', so reloading gives it back.
    reloaded = load_lexicon(user_file)
    assert reloaded.version == result.lexicon.version
    assert reloaded.source == SHIPPED.source and reloaded.notes == SHIPPED.notes
    # UTC ISO 8601 like every other time policylens writes (not the machine's local offset)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", log[1].when)


def test_hash_follows_terms_not_changelog(user_file):
    add_term(user_file, "算力", "云计算", who="a")
    removed = remove_term(user_file, "算力", note="undo", who="a")
    assert removed.lexicon.version == SHIPPED.version  # same terms, same hash
    assert [e.action for e in read_changelog(user_file)] == ["create", "add", "remove"]
    assert removed.entry.category == "云计算"


def test_remove_is_case_insensitive_and_suggests(user_file):
    result = remove_term(user_file, "fintech", note="not a technology", who="b")
    assert result.entry.term == "Fintech" and result.entry.category == "数字技术运用"
    assert len(result.lexicon) == 75
    with pytest.raises(UsageError, match=r"did you mean 征信"):
        remove_term(user_file, "征心")


def test_duplicate_unknown_category_and_bad_term(user_file):
    with pytest.raises(UsageError, match=r"term '大数据' is already in category '大数据'"):
        add_term(user_file, "大数据", "云计算")
    with pytest.raises(UsageError, match=r"term 'b2b' is already in category '数字技术运用'"):
        add_term(user_file, "b2b", "云计算")
    with pytest.raises(UsageError, match=r"unknown category '算力'.*--new-category"):
        add_term(user_file, "智算", "算力")
    with pytest.raises(LexiconError, match="whitespace or punctuation"):
        add_term(user_file, "数据 要素", "大数据")
    assert not user_file.exists()  # nothing was written by failed edits
    result = add_term(user_file, "智算", "算力", new_category=True)
    assert list(result.lexicon.categories)[-1] == "算力"
    assert load_lexicon(user_file).categories["算力"] == ("智算",)


def test_term_that_splits_badly_is_accepted(user_file):
    # jieba splits 元宇宙 into 元/宇宙; the tokenizer keeps lexicon terms whole anyway.
    result = add_term(user_file, "元宇宙", "数字技术运用")
    assert "元宇宙" in result.lexicon.term_category


def test_refuses_the_package_folder_and_non_toml(tmp_path):
    from importlib import resources

    shipped = resources.files("policylens.lexicons").joinpath("digital_technology.toml")
    with pytest.raises(UsageError, match="inside the installed lexicons package"):
        add_term(str(shipped), "算力", "云计算")
    text = tmp_path / "mine.txt"
    text.write_text("[a]\n算力\n", encoding="utf-8")
    with pytest.raises(UsageError, match="only TOML lexicons can be edited"):
        add_term(text, "智算", "a")
    assert text.read_text(encoding="utf-8") == "[a]\n算力\n"


def test_edits_a_given_user_file_keeping_its_extras(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        '[lexicon]\nname = "mine"\nowner = "team-a"\ncategories = ["a"]\n\n[terms]\na = ["算力"]\n',
        encoding="utf-8",
    )
    result = add_term(path, "智算", "a", who="c")
    assert result.created is False
    assert load_lexicon(path).categories == {"a": ("算力", "智算")}
    assert 'owner = "team-a"' in path.read_text(encoding="utf-8")
    assert [e.action for e in read_changelog(path)] == ["add"]
    with pytest.raises(UsageError, match="last term"):
        remove_term(remove_term(path, "算力").path, "智算")


def test_concurrent_edits_lose_nothing(user_file):
    terms = [f"候选词{i}" for i in range(8)]
    threads = [threading.Thread(target=add_term, args=(user_file, t, "大数据")) for t in terms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lex = load_lexicon(user_file)
    assert sorted(t for t in lex.categories["大数据"] if t.startswith("候选词")) == terms
    assert len(read_changelog(user_file)) == 1 + 8


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "x" / "out.toml"
    atomic_write_text(target, "a = 1\n")
    atomic_write_text(target, "a = 2\n")
    assert target.read_text(encoding="utf-8") == "a = 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.toml"]


def test_user_lexicon_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("POLICYLENS_DATA", str(tmp_path / "env"))
    assert user_lexicon_path() == tmp_path / "env" / "lexicon.toml"
    assert user_lexicon_path(tmp_path / "flag") == tmp_path / "flag" / "lexicon.toml"


# ----------------------------------------------------------------------- diff and export


def test_diff_added_removed_moved():
    a = lexicon_from_mapping("x", {"甲": ["算力", "征信", "Fintech"], "乙": ["区块链"]})
    b = lexicon_from_mapping("x", {"甲": ["算力", "FINTECH"], "乙": ["区块链", "征信"],
                                   "丙": ["元宇宙"]})
    d = diff_lexicons(a, b)
    assert d.added == (("元宇宙", "丙"),)
    assert d.removed == ()
    assert d.moved == (("征信", "甲", "乙"),)
    assert d.categories_added == ("丙",) and d.categories_removed == ()
    assert d.unchanged == 3 and not d.is_empty
    back = diff_lexicons(b, a)
    assert back.removed == (("元宇宙", "丙"),) and back.categories_removed == ("丙",)
    assert diff_lexicons(a, a).is_empty


@pytest.mark.parametrize("fmt,suffix", [("toml", ".toml"), ("txt", ".txt"), ("yaml", ".yaml")])
def test_export_round_trip_keeps_version(tmp_path, fmt, suffix):
    path = tmp_path / f"out{suffix}"
    atomic_write_text(path, export_lexicon(SHIPPED, fmt))
    again = load_lexicon(path)
    assert again.version == SHIPPED.version
    assert again.categories == SHIPPED.categories
    if fmt != "txt":
        assert again.source == SHIPPED.source


def test_export_yaml_is_cntext_style():
    import yaml

    data = yaml.safe_load(export_lexicon(SHIPPED, "yaml"))
    assert list(data) == ["Name", "Desc", "Refer", "Category", "Dictionary"]
    assert data["Category"] == ["人工智能", "大数据", "云计算", "区块链", "数字技术运用"]
    assert data["Dictionary"]["区块链"] == ["区块链", "数字货币", "分布式计算", "差分隐私技术",
                                         "智能金融合约"]


def test_export_jieba_user_dictionary_loads_into_jieba(tmp_path):
    import jieba

    text = to_jieba(SHIPPED)
    lines = text.splitlines()
    assert len(lines) == 76
    word, freq, tag = lines[0].split(" ")
    assert (word, tag) == ("人工智能", "nz") and int(freq) >= 1
    assert to_jieba(SHIPPED, freq=5, tag="n").splitlines()[15] == "大数据 5 n"
    path = tmp_path / "user.dict"
    path.write_text(text, encoding="utf-8")
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(path))
    assert "差分隐私技术" in list(tokenizer.cut("研究差分隐私技术。"))
    with pytest.raises(UsageError, match="bad jieba tag"):
        to_jieba(SHIPPED, tag="类别")


# ----------------------------------------------------------------------- CLI


def test_cli_add_remove_log_diff(runner, tmp_path):
    data = tmp_path / "d"
    result = runner.invoke(app, ["lexicon", "add", "算力", "-c", "云计算", "-m", "2025 reports",
                                 "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"created {data / 'lexicon.toml'} from the shipped lexicon"
    assert "added 算力 (云计算)" in result.stdout and "77 terms" in result.stdout
    result = runner.invoke(app, ["lexicon", "remove", "征信", "--data-dir", str(data)])
    assert result.exit_code == 0 and "removed 征信 (大数据)" in result.stdout
    result = runner.invoke(app, ["lexicon", "log", "--format", "json", "--data-dir", str(data)])
    assert [(e["action"], e["term"]) for e in json.loads(result.stdout)] == [
        ("create", ""), ("add", "算力"), ("remove", "征信")]
    result = runner.invoke(app, ["lexicon", "diff", "shipped", "user", "--format", "json",
                                 "--data-dir", str(data)])
    diff = json.loads(result.stdout)
    assert diff["added"] == [{"term": "算力", "category": "云计算"}]
    assert diff["removed"] == [{"term": "征信", "category": "大数据"}]
    assert diff["moved"] == [] and diff["unchanged"] == 75
    assert diff["a"]["version"] == SHIPPED.version
    result = runner.invoke(app, ["lexicon", "diff", "shipped", str(data / "lexicon.toml")])
    assert result.exit_code == 0
    assert "1 added, 1 removed, 0 moved, 75 unchanged" in result.stdout
    result = runner.invoke(app, ["lexicon", "diff", "shipped", "shipped"])
    assert "no differences (76 terms)" in result.stdout


def test_cli_errors_exit_2(runner, tmp_path):
    data = ["--data-dir", str(tmp_path)]
    result = runner.invoke(app, ["lexicon", "add", "大数据", "-c", "云计算", *data])
    assert result.exit_code == 2
    assert "term '大数据' is already in category '大数据'" in result.stderr
    result = runner.invoke(app, ["lexicon", "add", "智算", "-c", "算力", *data])
    assert result.exit_code == 2 and "pass --new-category" in result.stderr
    result = runner.invoke(app, ["lexicon", "diff", "shipped", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "lexicon file not found" in result.stderr
    result = runner.invoke(app, ["lexicon", "export", "--format", "xml"])
    assert result.exit_code == 2 and "unknown export format 'xml'" in result.stderr


def test_cli_export_to_file_and_stdout(runner, tmp_path):
    out = tmp_path / "lex.yaml"
    result = runner.invoke(app, ["lexicon", "export", "--format", "yaml", "--out", str(out)])
    assert result.exit_code == 0
    assert load_lexicon(out).version == SHIPPED.version
    result = runner.invoke(app, ["lexicon", "export", "--format", "txt"])
    assert result.stdout.splitlines()[:2] == [f"# name: {SHIPPED.name}", f"# version: {SHIPPED.version}"]
    result = runner.invoke(app, ["lexicon", "export", "--format", "jieba", "--jieba-freq", "3"])
    assert result.stdout.splitlines()[-1] == "开放银行 3 nz"
