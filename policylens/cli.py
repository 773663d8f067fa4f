"""The ``policylens`` command line: a thin layer over the library (:mod:`policylens.commands`).

This module stays empty until a command runs: a worker process that ``multiprocessing``
spawns (on Windows) imports the command's script again, and the script imports this module;
the typer application (0.1 s to import) is loaded by :func:`main` and by ``from
policylens.cli import app`` only. (The counting workers the fork server starts on Linux and
macOS skip the script: :mod:`policylens.nlp.warm_start`.)
"""

from __future__ import annotations

__all__ = ["main"]  # and ``app``, loaded on first use (below)


def main() -> None:
    """Entry point of the ``policylens`` script."""
    from policylens.commands.app import run

    run()


def __getattr__(name: str):
    if name == "app":
        from policylens.commands.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
