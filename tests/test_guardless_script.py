"""A script that scores with counting workers needs no ``if __name__ == "__main__":`` guard.

``multiprocessing`` runs the script that started a pool again in each worker; without a guard
each worker would start a pool of its own, fail, and be replaced without end (the command
hung). The counting workers now start without the caller's script, so its top level runs
once.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(),
    reason="no fork server on this platform: spawned workers import the script (guard needed)",
)

# No main guard, on purpose; its top level notes each run in runs.txt.
GUARDLESS = """
import json, sys

with open("runs.txt", "a", encoding="utf-8") as runs:
    runs.write("ran\\n")

from policylens.api import Scorer

report = Scorer().score_paths(sys.argv[1:], workers=2)
print(json.dumps([[d.counts.total, d.counts.words, d.counts.terms] for d in report.documents],
                 ensure_ascii=False))
"""

TEXTS = {
    "a.txt": "我们加快发展大数据和人工智能。云计算平台服务企业。\n",
    "b.txt": "推进区块链应用，建设物联网。大数据中心投入运行。\n",
}


def _write(tmp_path):
    for name, text in TEXTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "guardless.py").write_text(GUARDLESS, encoding="utf-8")
    (tmp_path / "guardless_module.py").write_text(GUARDLESS, encoding="utf-8")


def _run(tmp_path, how: list[str]) -> list:
    try:
        done = subprocess.run(
            [sys.executable, *how, *TEXTS], cwd=tmp_path, capture_output=True, text=True,
            timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)},
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"a script without a main guard hung ({(tmp_path / 'runs.txt').read_text()!r})"
        ) from exc
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("how", [["guardless.py"], ["-m", "guardless_module"]],
                         ids=["script", "module"])
def test_a_script_without_a_main_guard_scores_with_workers(tmp_path, how):
    _write(tmp_path)

    results = _run(tmp_path, how)

    assert results == [
        [3, 10, {"大数据": 1, "人工智能": 1, "云计算": 1}],  # 我们/加快/发展/大数据/和/...
        [3, 9, {"区块链": 1, "物联网": 1, "大数据": 1}],
    ]
    # Its top level ran once: in the script's own process, not again in each worker.
    assert (tmp_path / "runs.txt").read_text(encoding="utf-8") == "ran\n"


def test_the_counts_equal_those_of_one_process(tmp_path):
    from policylens.api import Scorer

    _write(tmp_path)
    report = Scorer().score_paths([tmp_path / name for name in TEXTS], workers=1)

    assert [[d.counts.total, d.counts.words, d.counts.terms] for d in report.documents] == (
        _run(tmp_path, ["guardless.py"])
    )
