"""Queries that grow with their output: batched listing, --limit/--offset, and scoring on
several worker processes with the same results as one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from policylens.api import Scorer
from policylens.cli import app
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.errors import UsageError
from policylens.lexicons import load_lexicon
from policylens.nlp.parallel import count_many

TOPICS = [
    "农村供水保障", "城市更新行动", "中小学课后服务", "医疗保障待遇", "森林草原防火", "旅游市场秩序",
    "粮食安全责任", "住房公积金管理", "退役军人就业", "道路交通安全", "科技成果转化", "生态环境监测",
]
TEXTS = [
    f"关于{topic}的通知。"
    + f"各地要围绕{topic}建设大数据中心，健全{topic}工作机制，定期报告{topic}进展情况。" * (1 + i % 3)
    for i, topic in enumerate(TOPICS)
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    with Corpus.open(folder) as corpus:
        for i, text in enumerate(TEXTS):
            corpus.add(text.encode(), DocumentMeta(source=f"doc{i}"), Extraction(text=text, method="test"))
        assert corpus.stats()["documents"] == 12
    return folder


def test_iter_documents_in_batches_with_limit_and_offset(data_dir):
    with Corpus.open(data_dir) as corpus:
        assert [d.id for d in corpus.iter_documents(batch=5)] == list(range(1, 13))
        assert [d.id for d in corpus.iter_documents(batch=5, offset=3, limit=7)] == list(range(4, 11))
        assert [d.id for d in corpus.iter_documents(batch=2, offset=10, limit=5)] == [11, 12]
        assert list(corpus.iter_documents(limit=0)) == []
        texts = [d.text for d in corpus.iter_documents(with_text=True, batch=4)]
        assert texts == TEXTS
        with pytest.raises(UsageError, match="limit and offset must be >= 0"):
            next(corpus.iter_documents(offset=-1))


def test_corpus_ls_streams_pages(data_dir):
    runner = CliRunner()
    result = runner.invoke(
        app, ["corpus", "ls", "--data-dir", str(data_dir), "--limit", "3", "--offset", "2",
              "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [3, 4, 5]
    assert rows[0]["chars"] == len(TEXTS[2])
    empty = runner.invoke(
        app, ["corpus", "ls", "--data-dir", str(data_dir), "--offset", "50", "--format", "json"]
    )
    assert empty.stdout == "[]\n"
    csv_out = runner.invoke(
        app, ["corpus", "ls", "--data-dir", str(data_dir), "-n", "2", "--format", "csv"]
    ).stdout.splitlines()
    assert csv_out[0].startswith("id,title") and [r.split(",")[0] for r in csv_out[1:]] == ["1", "2"]


def test_corpus_search_pages(data_dir):
    with Corpus.open(data_dir) as corpus:
        every = [h.doc_id for h in corpus.search("大数据中心", limit=50)]
        assert sorted(every) == list(range(1, 13))
        page = [h.doc_id for h in corpus.search("大数据中心", limit=4, offset=4)]
        assert page == every[4:8]
        short = [h.doc_id for h in corpus.search("数据", limit=50)]
        assert [h.doc_id for h in corpus.search("数据", limit=3, offset=2)] == short[2:5]
    runner = CliRunner()
    result = runner.invoke(
        app, ["corpus", "search", "大数据中心", "--data-dir", str(data_dir), "-n", "2",
              "--offset", "10", "--format", "json"]
    )
    assert [r["doc_id"] for r in json.loads(result.stdout)] == every[10:12]
    result = runner.invoke(
        app, ["corpus", "search", "大数据中心", "--data-dir", str(data_dir), "-n", "3",
              "--offset", "1", "--order", "newest", "--format", "json"]
    )
    assert [r["doc_id"] for r in json.loads(result.stdout)] == [11, 10, 9]


def test_count_many_on_two_processes_equals_one():
    lexicon = load_lexicon()
    one = list(count_many(lexicon, TEXTS, workers=1, kwic=2))
    two = list(count_many(lexicon, iter(TEXTS), workers=2, kwic=2))
    assert two == one
    assert [c.terms["大数据"] for c in one] == [1 + i % 3 for i in range(12)]
    assert one[0].words == 28  # 关于/农村/供水/保障/的/通知 + 22 in the sentence
    with pytest.raises(ValueError, match="workers must be at least 1"):
        list(count_many(lexicon, TEXTS, workers=0))


def test_a_pool_counts_many_texts_in_batches_in_order():
    lexicon = load_lexicon()
    # 156 short texts (batches of 64, 64 and the rest) with a long one counted in pieces
    # between them: every count comes back in input order.
    texts = TEXTS * 13
    texts.insert(70, "。".join(TEXTS) * 3)
    one = list(count_many(lexicon, texts, workers=1, kwic=1, piece_chars=500))
    two = list(count_many(lexicon, iter(texts), workers=2, kwic=1, piece_chars=500, batch=64))
    assert two == one
    assert list(count_many(lexicon, texts[:5], workers=2, batch=64)) == list(
        count_many(lexicon, texts[:5], workers=1))  # one short batch, shared by both workers
    assert len(two) == 157
    assert [c.terms["大数据"] for c in two[:3]] == [1, 2, 3]
    assert two[70].terms["大数据"] == 3 * sum(1 + i % 3 for i in range(12))


def _how_this_worker_started(_) -> dict:
    import os
    import sys

    from policylens.nlp import parallel

    warm = sys.modules.get("policylens.nlp.warm_start")
    counter = parallel._counter
    counter.prepare_words()
    return {
        "pid": os.getpid(),
        "parent": os.getppid(),
        # Only the worker's tokenizer takes it (taking clears it).
        "jieba taken": warm is not None and warm._jieba is None,
        "rjieba shared": warm is not None and counter._words._rjieba is warm.rjieba(),
    }


def test_counting_workers_start_with_the_dictionaries_their_fork_server_loaded():
    from policylens.nlp.parallel import _start, _worker_context

    lexicon = load_lexicon()
    with _worker_context().Pool(2, initializer=_start, initargs=(lexicon,)) as pool:
        seen = pool.map(_how_this_worker_started, range(8), chunksize=1)
    import os

    assert all(s["parent"] != os.getpid() for s in seen)  # forked by the fork server
    assert all(s["jieba taken"] and s["rjieba shared"] for s in seen)
    assert len({s["pid"] for s in seen}) == 2
    # And they count what one process counts (test above).


def test_score_corpus_with_workers_keeps_no_text(data_dir):
    scorer = Scorer()
    serial = scorer.score_corpus(data_dir)
    parallel = scorer.score_corpus(data_dir, workers=2)
    assert [d.counts for d in parallel.documents] == [d.counts for d in serial.documents]
    assert [d.doc_id for d in parallel.documents] == list(range(1, 13))
    assert all(d.text is None for d in parallel.documents)
    kept = scorer.score_corpus(data_dir, year=None, keep_text=True)
    assert [d.text for d in kept.documents] == TEXTS


def test_score_cli_workers_same_output(tmp_path):
    for i, text in enumerate(TEXTS[:4]):
        (tmp_path / f"d{i}.txt").write_text(text, encoding="utf-8")
    runner = CliRunner()
    outputs = [
        runner.invoke(app, ["score", str(tmp_path), "--format", "json", "--workers", w]).stdout
        for w in ("1", "2")
    ]
    assert outputs[0] == outputs[1]
    docs = json.loads(outputs[1])["documents"]
    assert [d["terms"]["大数据"] for d in docs] == [1, 2, 3, 1]
