"""Packaging: one import name, one version, a wheel that lives beside packages named nlp/crawler."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import policylens
from policylens.cli import app

REPO = Path(__file__).resolve().parents[1]


def test_version_option_prints_the_one_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"policylens {policylens.__version__}\n"
    from importlib.metadata import version

    assert version("policylens") == policylens.__version__


def _run(cmd, **kwargs):
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


def _tracked_copy(dest: Path) -> Path:
    """The repository's tracked files only: a clean build directory, whatever the work tree holds."""
    files = _run(["git", "ls-files", "-z"], cwd=REPO).stdout.split("\0")
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _other_project(dest: Path) -> Path:
    """A package that ships top-level ``nlp`` and ``crawler``, like the ones on the index."""
    (dest / "nlp").mkdir(parents=True)
    (dest / "crawler").mkdir()
    (dest / "nlp" / "__init__.py").write_text("WHO = 'other nlp'\n")
    (dest / "crawler" / "__init__.py").write_text("WHO = 'other crawler'\n")
    (dest / "pyproject.toml").write_text(textwrap.dedent("""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "other-nlp-crawler"
        version = "1.0"
        [tool.setuptools]
        packages = ["nlp", "crawler"]
    """))
    return dest


@pytest.mark.slow
def test_wheel_installs_beside_top_level_nlp_and_crawler(tmp_path):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to build the wheel from its tracked files")
    wheels = tmp_path / "wheels"
    for project in (_tracked_copy(tmp_path / "src"), _other_project(tmp_path / "other")):
        _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
              str(project)])
    ours = next(wheels.glob("policylens-*.whl"))
    with zipfile.ZipFile(ours) as wheel:
        top_level = next(n for n in wheel.namelist() if n.endswith("top_level.txt"))
        assert wheel.read(top_level).decode().split() == ["policylens"]
        assert not [n for n in wheel.namelist() if n.split("/")[0] in {"nlp", "crawler", "corpus", "lexicons"}]
        assert "policylens/fonts/PolicyLensSansSC-Regular.otf" in wheel.namelist()  # charts' font

    # A fresh environment: the wheels installed for real, the third-party dependencies read
    # from this test environment's site-packages (appended to sys.path, so its .pth files and
    # the editable install of this checkout are not active there).
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # this pip installs into it (--python)
    python = env_dir / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([*pip, "install", "-q", "--no-deps", "--no-index",
          *map(str, sorted(wheels.glob("*.whl")))])

    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "POLICYLENS_DATA"}}
    probe = _run([str(python), "-c", textwrap.dedent("""
        import json, nlp, crawler, policylens.nlp.counter, policylens.crawler.engine
        print(json.dumps([nlp.WHO, crawler.WHO, policylens.nlp.counter.__file__]))
    """)], cwd=tmp_path, env=clean)
    who_nlp, who_crawler, counter_file = json.loads(probe.stdout)
    assert (who_nlp, who_crawler) == ("other nlp", "other crawler")
    assert Path(counter_file).is_relative_to(site / "policylens")

    doc = tmp_path / "doc.txt"
    doc.write_text("加快人工智能和大数据发展，推进云计算与区块链应用。", encoding="utf-8")
    scored = _run([str(env_dir / "bin" / "policylens"), "score", str(doc), "--format", "json"],
                  cwd=tmp_path, env=clean)
    (document,) = json.loads(scored.stdout)["documents"]
    assert (document["total"], document["words"]) == (4, 10)
    assert document["terms"] == {"云计算": 1, "人工智能": 1, "区块链": 1, "大数据": 1}

    # Uninstalling policylens leaves the other package whole.
    _run([*pip, "uninstall", "-q", "-y", "policylens"])
    after = _run([str(python), "-c", "import nlp, crawler; print(nlp.WHO, crawler.WHO)"],
                 cwd=tmp_path, env=clean)
    assert after.stdout.split() == ["other", "nlp", "other", "crawler"]
