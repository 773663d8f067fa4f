"""Documents without text that are real documents (scanned, unsupported) are kept, flagged."""

from __future__ import annotations

from policylens.corpus.extract.pdfgen import build_pdf
from policylens.corpus.ingest import ingest_bytes
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.indicators import IndicatorConfig
from policylens.indicators.evidence import count_emphasis


def test_scanned_pdf_is_stored_flagged_with_zero_text(tmp_path):
    scanned = build_pdf([["乌鲁木齐市2025年政府工作报告"], ["建设大数据中心"]], image_only=True)
    with Corpus.open(tmp_path) as corpus:
        first = ingest_bytes(corpus, scanned, DocumentMeta(source="scan.pdf", filename="scan.pdf", overrides={"region": "乌鲁木齐市", "year": 2025, "doc_type": "work_report"}))
        assert first.status == "flagged" and "needs_ocr" in first.flags
        record = corpus.get(first.doc_id)
        assert (record.text, record.chars, record.flags) == ("", 0, ("needs_ocr",))
        assert corpus.raw_bytes(first.doc_id) == scanned  # the bytes wait for OCR
        again = ingest_bytes(corpus, scanned, DocumentMeta(source="scan.pdf", filename="scan.pdf"))
        assert (again.status, again.duplicate_of) == ("duplicate", first.doc_id)
        other = build_pdf([["哈密市2025年政府工作报告"]], image_only=True)
        assert ingest_bytes(corpus, other, DocumentMeta(source="other.pdf", filename="other.pdf")).status == "flagged"
        assert len(corpus.documents()) == 2  # empty texts are not duplicates of each other


def test_corrupt_document_is_still_refused(tmp_path):
    with Corpus.open(tmp_path) as corpus:
        result = ingest_bytes(corpus, b"%PDF-1.7\ngarbage", DocumentMeta(source="bad.pdf", filename="bad.pdf"))
        assert result.status == "failed" and result.doc_id is None
        assert corpus.documents() == []


def test_emphasis_skips_documents_without_text(tmp_path):
    scanned = build_pdf([["乌鲁木齐市2025年政府工作报告"]], image_only=True)
    with Corpus.open(tmp_path) as corpus:
        doc_id = ingest_bytes(corpus, scanned, DocumentMeta(source="scan.pdf", filename="scan.pdf", overrides={"region": "乌鲁木齐市", "year": 2025, "doc_type": "work_report"})).doc_id
        docs = corpus.documents(with_text=True)
    notes: list[str] = []
    result = count_emphasis(docs, 2025, counter=None, config=IndicatorConfig(), plan_re=None, notes=notes)
    assert result["status"] == "missing"
    assert notes[0].startswith(f"technology_emphasis: document {doc_id} (")
    assert "has no text [needs_ocr]" in notes[0]
