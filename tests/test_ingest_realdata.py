"""Ingest the real documents of ../shared/realdata/govtext; metadata right, second run a no-op."""

from __future__ import annotations

import pytest
from test_metadata_infer import BULLETINS, POLICIES, PROVINCES

from policylens.corpus.ingest import ingest_paths
from policylens.corpus.store import Corpus

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from conftest import _shared_path  # the module-scoped twin of the `shared` fixture

    folder = _shared_path("realdata", "govtext")
    data = tmp_path_factory.mktemp("realdata")
    with Corpus.open(data) as corpus:
        first = ingest_paths(corpus, [folder], workers=2)
        rows_before = corpus.conn.execute("SELECT id, source, raw_sha256 FROM documents ORDER BY id").fetchall()
        second = ingest_paths(corpus, [folder], workers=2)
        rows_after = corpus.conn.execute("SELECT id, source, raw_sha256 FROM documents ORDER BY id").fetchall()
        docs = {d.source.rsplit("/", 1)[-1]: d for d in corpus.documents(include_duplicates=True)}
        yield first, second, [tuple(r) for r in rows_before], [tuple(r) for r in rows_after], docs


def test_every_file_added_once_and_second_run_changes_nothing(ingested):
    first, second, before, after, docs = ingested
    assert first.counts["failed"] == 0
    assert first.counts["added"] + first.counts["flagged"] + first.counts["near_duplicate"] == len(first.items)
    assert len(before) == len(first.items) >= 80
    assert second.counts["duplicate"] == len(second.items) == len(before)
    assert after == before


def test_work_reports_region_year_type(ingested):
    docs = ingested[4]
    got = {name: (d.region, d.year, d.doc_type) for name, d in docs.items() if name.startswith("gwr202")
           and name[3:7] in ("2025", "2026")}
    expected = {}
    for year in (2025, 2026):
        for slug, region in PROVINCES.items():
            name = f"gwr{year}_{slug}.txt"
            if name in docs:
                expected[name] = (region, year, "work_report")
    assert got == expected
    assert len(got) == 63


def test_bulletins_and_policies(ingested):
    docs = ingested[4]
    assert {n: ((docs[n].region, docs[n].region_code), docs[n].year, docs[n].doc_type) for n in BULLETINS} == {
        n: (region, 2025, "statistical_bulletin") for n, region in BULLETINS.items()}
    assert {n: (docs[n].issuer, docs[n].year, docs[n].doc_number) for n in POLICIES} == POLICIES
    assert {docs[n].doc_type for n in POLICIES} == {"policy"}
