"""Where policylens keeps its data, and small shared settings.

Defaults live in code; ``POLICYLENS_DATA`` overrides the data directory; ``--data-dir``
overrides both. This module imports nothing from the project but the version string.
"""

from __future__ import annotations

import os
from pathlib import Path

from policylens import __version__

__all__ = ["DEFAULT_DATA_DIR", "DATA_ENV", "USER_AGENT", "CONTACT_URL", "resolve_data_dir"]

DATA_ENV = "POLICYLENS_DATA"
DEFAULT_DATA_DIR = Path("policylens-data")
CONTACT_URL = "https://github.com/policylens/policylens"
USER_AGENT = f"policylens/{__version__} (+{CONTACT_URL})"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory: the argument, else ``$POLICYLENS_DATA``, else ``./policylens-data``.

    The directory is not created here; the stores that write into it create it.
    """
    if data_dir:
        return Path(data_dir)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return DEFAULT_DATA_DIR
