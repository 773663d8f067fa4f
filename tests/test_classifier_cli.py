"""``policylens policies train|evaluate|classify`` and the index counting policies with the model."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_classifier_model import SMALL  # the same eight labelled titles
from typer.testing import CliRunner

from policylens.cli import app

# Urumqi policies of 2025: (title, 文号, body). The keyword rules count only #2 (title
# keyword 数字经济); the shipped model also counts #1 (智慧停车) and #4 (一网通办).
POLICIES = [
    ("乌鲁木齐市智慧停车建设实施方案", "乌政办〔2025〕11号", "规范停车秩序，方便群众出行。" * 8),
    ("乌鲁木齐市关于加快数字经济发展的实施意见", "乌政办〔2025〕12号", "培育新兴产业，扩大有效投资。" * 8),
    ("乌鲁木齐市人民政府关于做好春耕生产的通知", "乌政发〔2025〕3号", "做好春耕备耕工作，保障粮食生产。" * 8),
    ("乌鲁木齐市“一网通办”改革实施方案", "乌政办〔2025〕14号", "压缩办理时限，减少申请材料。" * 8),
]


def run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    from policylens.corpus.ingest import ingest_bytes
    from policylens.corpus.records import DocumentMeta
    from policylens.corpus.store import Corpus

    data = tmp_path_factory.mktemp("data")
    with Corpus.open(data) as corpus:
        for i, (title, number, body) in enumerate(POLICIES, 1):
            raw = f"{title}\n{number}\n{body}\n".encode()
            result = ingest_bytes(corpus, raw, DocumentMeta(source=f"https://www.wlmq.gov.cn/p/{i}.shtml", filename=f"p{i}.txt", overrides={"title": title, "region": "乌鲁木齐市", "year": 2025,
                                           "doc_type": "policy", "doc_number": number,
                                           "issuer": "乌鲁木齐市人民政府办公厅"}))
            assert result.status == "added", result
        raw = "2025年乌鲁木齐市政府工作报告\n推进大数据发展。".encode()
        ingest_bytes(corpus, raw, DocumentMeta(source="https://www.wlmq.gov.cn/r.shtml", filename="r.txt", overrides={"region": "乌鲁木齐市", "year": 2025, "doc_type": "work_report"}))
    return data


def test_train_writes_model_into_the_data_dir(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text(SMALL, encoding="utf-8")
    data = tmp_path / "data"
    result = run("policies", "train", labels, "--folds", "0", "--data-dir", data)
    assert result.exit_code == 0, result.output
    model = data / "models" / "policy_model.npz"
    lines = result.stdout.splitlines()
    assert lines[1] == "domains: industry, livelihood"
    assert lines[-1] == f"wrote {model} and policy_model.json"
    assert model.is_file() and model.with_suffix(".json").is_file()
    # The user model now wins over the shipped one.
    from policylens.models import find_model

    assert find_model(data_dir=data) == model


def test_train_json_records_cv(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "m.npz"
    result = run("policies", "train", labels, "--folds", "2", "--out", out, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == str(out) and data["rows"] == 8
    assert data["cv"]["folds"] == 2
    assert set(data["cv"]) == {"folds", "digital_macro_f1", "domain_macro_f1", "rules_digital_macro_f1"}


@pytest.mark.parametrize("text, message", [
    ("title,digital\n甲,1\n", "missing column(s) domain"),
    ("title,digital,domain\n甲,1,industry\n乙,1,livelihood\n", "column digital has a single class (1)"),
])
def test_train_bad_labels_exit_2(tmp_path, text, message):
    labels = tmp_path / "bad.csv"
    labels.write_text(text, encoding="utf-8")
    result = run("policies", "train", labels, "--out", tmp_path / "m.npz")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {labels}")
    assert message in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_evaluate_csv_and_json():
    result = run("policies", "evaluate", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["task"][:8], r["class"]) for r in rows] == [
        ("digital", "0"), ("digital", "1"), ("rules: k", "0"), ("rules: k", "1"),
        ("domain", "governance"), ("domain", "industry"), ("domain", "livelihood"),
        ("majority", "governance"), ("majority", "industry"), ("majority", "livelihood")]
    rules = rows[3]
    assert (rules["precision"], rules["recall"], rules["support"]) == ("1.0", "0.6346", "104")
    assert float(rows[0]["macro_f1"]) >= 0.88


def test_evaluate_too_many_folds_for_a_small_file(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text(SMALL, encoding="utf-8")
    result = run("policies", "evaluate", labels, "--folds", "5")
    assert result.exit_code == 2
    assert "fewer rows than the 5 folds" in result.stderr


def test_classify_corpus_with_the_shipped_model(corpus_dir):
    result = run("policies", "classify", "--data-dir", corpus_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["classifier"].startswith("model-v2(labels ")
    assert data["documents"] == 4  # the work report is not a policy
    got = [(r["title"], r["digital"], r["rules_digital"], r["domain"]) for r in data["rows"]]
    assert got == [
        ("乌鲁木齐市智慧停车建设实施方案", 1, 0, "governance"),
        ("乌鲁木齐市关于加快数字经济发展的实施意见", 1, 1, "industry"),
        ("乌鲁木齐市人民政府关于做好春耕生产的通知", 0, 0, "governance"),
        ("乌鲁木齐市“一网通办”改革实施方案", 1, 0, "livelihood"),
    ]
    assert data["rows"][1]["rules_reason"] == "title contains 数字经济"
    assert result.stderr.strip() == ""  # a transient progress bar leaves a newline


def test_classify_filters_and_table(corpus_dir):
    result = run("policies", "classify", "--data-dir", corpus_dir, "--year", "2024")
    assert result.exit_code == 0, result.output
    assert "0 document(s): 0 digital-economy related; the keyword rules agree on 0" in result.stdout
    result = run("policies", "classify", "--data-dir", corpus_dir, "--type", "any",
                 "--region", "乌鲁木齐市", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 5 and rows[-1]["doc_type"] == "work_report"
    result = run("policies", "classify", "--data-dir", corpus_dir)
    assert "4 document(s): 3 digital-economy related; the keyword rules agree on 2" in result.stdout


def test_classify_without_a_model_falls_back_to_rules(corpus_dir, tmp_path):
    missing = tmp_path / "none.npz"
    result = run("policies", "classify", "--data-dir", corpus_dir, "--model", missing,
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert "warning: no trained policy model at" in result.stderr
    assert "counting policies with the rules" in result.stderr
    data = json.loads(result.stdout)
    assert data["classifier"] == "keywords-v1(title or >=10 hits and >=50/10k chars)"
    assert [(r["digital"], r["domain"], r["p_digital"]) for r in data["rows"]] == [
        (0, None, None), (1, None, None), (0, None, None), (0, None, None)]


def _policy_count(corpus_dir, *extra):
    result = run("indicators", "--year", "2025", "--format", "json", "--data-dir", corpus_dir,
                 *extra)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    urumqi = next(r for r in data["regions"] if r["region"] == "乌鲁木齐市")
    return data, urumqi["policy_count"]


def test_index_counts_policies_with_rules_or_model(corpus_dir, tmp_path):
    data, rules = _policy_count(corpus_dir)
    assert data["relevance"] == "keywords-v1(title or >=10 hits and >=50/10k chars)"
    assert rules["value"] == 1.0
    assert [p["title"] for p in rules["policies"]] == ["乌鲁木齐市关于加快数字经济发展的实施意见"]

    data, model = _policy_count(corpus_dir, "--relevance", "model")
    assert data["relevance"].startswith("model-v2(labels ")
    assert model["value"] == 3.0
    assert [p["title"] for p in model["policies"]] == [
        "乌鲁木齐市智慧停车建设实施方案", "乌鲁木齐市关于加快数字经济发展的实施意见",
        "乌鲁木齐市“一网通办”改革实施方案"]
    assert model["policies"][0]["reason"].startswith("model: digital (P=")

    data, fallback = _policy_count(corpus_dir, "--relevance", "model", "--model",
                                   tmp_path / "none.npz")
    assert fallback["value"] == 1.0
    assert data["notes"][0].startswith(f"no trained policy model at {tmp_path / 'none.npz'}")


def test_index_relevance_must_be_rules_or_model(corpus_dir):
    result = run("indicators", "--year", "2025", "--data-dir", corpus_dir, "--relevance", "magic")
    assert result.exit_code == 2
    assert result.stderr.strip() + "\n" == "error: unknown relevance 'magic' (use rules or model)\n"
