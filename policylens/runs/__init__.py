"""What changed between two runs: documents, counted policies, indicators and ranks."""

from policylens.runs.diff import RunDiff, diff_runs, find_previous_run, resolve_run, write_digest

__all__ = ["RunDiff", "diff_runs", "find_previous_run", "resolve_run", "write_digest"]
