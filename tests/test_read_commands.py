"""Read commands never create a corpus: a mistyped --data-dir is an error naming it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from policylens.cli import app


@pytest.mark.parametrize("command", [["corpus", "ls"], ["corpus", "stats"], ["corpus", "search", "数字"],
                                     ["index"], ["indicators"]])
def test_mistyped_data_dir_is_refused_and_not_created(tmp_path, command):
    typo = tmp_path / "policylens-dta"
    result = CliRunner().invoke(app, [*command, "--data-dir", str(typo)])
    assert result.exit_code == 2, result.output
    assert f"no corpus in {typo} (the folder does not exist)" in result.output
    assert f"policylens ingest FOLDER --data-dir {typo}" in result.output
    assert not typo.exists()


def test_search_table_shows_the_match(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    text = "2026年政府工作报告。" + "稳定就业，促进消费，保障民生。" * 30 + "加快发展数字经济，推进人工智能。" + "改善民生。" * 30
    (folder / "r.txt").write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    assert CliRunner().invoke(app, ["ingest", str(folder), "--data-dir", str(data)]).exit_code == 0
    result = CliRunner().invoke(app, ["corpus", "search", "人工智能", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "[人工智能]" in result.output.replace("\n", "").replace("│", "").replace(" ", "")
