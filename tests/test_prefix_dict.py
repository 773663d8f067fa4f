"""jieba's prefix dictionary cache: the same dictionary as jieba's own load, rebuilt when the
dictionary changes or the file is damaged, and never able to run code."""

from __future__ import annotations

import os
import pickle

import jieba
import pytest

from policylens.nlp.prefix_dict import load_prefix_dict

WORDS = "数字经济 30 n\n数字 200 n\n经济 300 n\n5g基站 4 n\nc++ 5 n\n云计算 20 n\n"


@pytest.fixture
def dictionary(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text(WORDS, encoding="utf-8")
    return path


def _load(dictionary, cache_dir):
    tokenizer = jieba.Tokenizer(str(dictionary))
    tokenizer.tmp_dir = str(dictionary.parent)  # jieba's own cache, when it is built
    return load_prefix_dict(tokenizer, cache_dir)


def _cache_files(cache_dir):
    return sorted(p.name for p in cache_dir.glob("jieba-prefix-*.pickle"))


def test_cached_dictionary_equals_jiebas_own(dictionary, tmp_path, monkeypatch):
    plain = jieba.Tokenizer(str(dictionary))
    plain.tmp_dir = str(tmp_path)
    plain.initialize()
    first = _load(dictionary, tmp_path / "cache")
    tokenizer = jieba.Tokenizer(str(dictionary))

    def not_again(*_):
        raise AssertionError("jieba loaded its dictionary although the cache is current")

    monkeypatch.setattr(jieba.Tokenizer, "initialize", not_again)
    second = load_prefix_dict(tokenizer, tmp_path / "cache")  # from the cache file
    assert len(_cache_files(tmp_path / "cache")) == 1
    for loaded in (first, second):
        assert loaded.freq == plain.FREQ
        assert loaded.total == plain.total == 559
        assert loaded.mixed_words == ("5g基站", "c++")
    # The tokenizer is ready: it cuts with the cached dictionary and loads nothing more.
    assert tokenizer.initialized and tokenizer.lcut("云计算和5g基站", HMM=False) == [
        "云计算", "和", "5g基站"]


def test_each_load_gets_its_own_dict(dictionary, tmp_path):
    first = _load(dictionary, tmp_path)
    first.freq["新词"] = 9  # what add_word does to a tokenizer's dictionary
    assert "新词" not in _load(dictionary, tmp_path).freq


def test_changed_dictionary_builds_a_new_cache(dictionary, tmp_path):
    assert _load(dictionary, tmp_path).freq["云计算"] == 20
    dictionary.write_text(WORDS.replace("云计算 20", "云计算 21"), encoding="utf-8")
    os.utime(dictionary, ns=(1, 2_000_000_000_000_000_000))  # a later modification time
    assert _load(dictionary, tmp_path).freq["云计算"] == 21
    assert len(_cache_files(tmp_path)) == 2


def test_damaged_cache_is_rebuilt(dictionary, tmp_path, caplog):
    _load(dictionary, tmp_path)
    (cache,) = tmp_path.glob("jieba-prefix-*.pickle")
    cache.write_bytes(cache.read_bytes()[:200])  # cut short, as by a full disk
    with caplog.at_level("WARNING", logger="policylens.nlp.prefix_dict"):
        assert _load(dictionary, tmp_path).freq["数字经济"] == 30
    assert "ignoring the dictionary cache" in caplog.text
    assert _load(dictionary, tmp_path).total == 559  # the rebuilt file reads again
    assert len(pickle.loads(cache.read_bytes())[1].split("\n")) == 16  # 6 words, 10 prefixes


def test_cache_with_unequal_lists_is_rebuilt(dictionary, tmp_path, caplog):
    _load(dictionary, tmp_path)
    (cache,) = tmp_path.glob("jieba-prefix-*.pickle")
    key, words, frequencies, total, mixed = pickle.loads(cache.read_bytes())
    cache.write_bytes(pickle.dumps((key, words, frequencies[:-8], total, mixed)))
    with caplog.at_level("WARNING", logger="policylens.nlp.prefix_dict"):
        assert _load(dictionary, tmp_path).freq["云计算"] == 20
    assert "16 words but 15 frequencies" in caplog.text


class _Runs:
    def __reduce__(self):
        return (os.system, ("touch ran-from-cache",))


def test_cache_holding_code_is_refused_not_run(dictionary, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    _load(dictionary, tmp_path)
    (cache,) = tmp_path.glob("jieba-prefix-*.pickle")
    key = pickle.loads(cache.read_bytes())[0]
    cache.write_bytes(pickle.dumps((key, _Runs(), b"", 1, ())))
    with caplog.at_level("WARNING", logger="policylens.nlp.prefix_dict"):
        assert _load(dictionary, tmp_path).freq["经济"] == 300
    assert "posix.system" in caplog.text or "os.system" in caplog.text
    assert not (tmp_path / "ran-from-cache").exists()


def test_unwritable_cache_still_loads(dictionary, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    loaded = _load(dictionary, blocker / "cache")  # the cache folder cannot be created
    assert loaded.freq["数字"] == 200 and loaded.mixed_words == ("5g基站", "c++")
