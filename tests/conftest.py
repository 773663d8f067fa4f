"""Shared fixtures.

Real-data tests read ``../shared`` (beside the repository) and skip cleanly when it is absent:
a user who clones the project has no ``shared`` folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The throwaway PostgreSQL server fixtures (pg_server, pg_url).
pytest_plugins = ["pgserver"]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICYLENS_SHARED", REPO.parent / "shared"))


def _shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real-data test: {path} is absent (set POLICYLENS_SHARED to run it)")
    return path


@pytest.fixture
def shared():
    """Return a function ``shared("realdata", "govtext", "x.txt")`` that skips when absent."""
    return _shared_path


@pytest.fixture
def seed():
    """Return a function ``seed("002")`` giving the seed file with that prefix, or skip."""

    def find(prefix: str) -> Path:
        folder = _shared_path("seeds")
        matches = sorted(folder.glob(f"{prefix}_*.txt"))
        if not matches:
            pytest.skip(f"real-data test: no seed {prefix}_*.txt in {folder}")
        return matches[0]

    return find
