"""The counting pool's fork server leaves at once when its command ends, instead of taking its
dictionaries apart object by object while it still holds the command's stdout."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time

import pytest

SCRIPT = """
import multiprocessing, sys

def double(x):
    return 2 * x

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(sys.argv[1:])
    with context.Pool(1) as pool:
        print(pool.map(double, [1, 2]), flush=True)
"""

# A module whose teardown takes two seconds: a fork server that finalises normally holds the
# pipe open that long after the script has ended.
SLOW_TEARDOWN = """
import time

class Slow:
    def __del__(self):
        time.sleep(2)

held = Slow()
"""


def _seconds_from_exit_to_end_of_output(tmp_path, preload: list[str]) -> tuple[bytes, float]:
    (tmp_path / "script.py").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "slow_teardown.py").write_text(SLOW_TEARDOWN, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(tmp_path), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "script.py", *preload], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE)
    output = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()))
    reader.start()
    process.wait(timeout=120)
    exited = time.monotonic()
    reader.join(timeout=120)
    return output[0], time.monotonic() - exited


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="no fork server on this platform (workers are spawned)")
def test_the_fork_server_leaves_at_once_when_the_command_ends(tmp_path):
    # The check itself: without the counting preload, the slow teardown holds the pipe.
    output, lingered = _seconds_from_exit_to_end_of_output(tmp_path, ["slow_teardown"])
    assert output == b"[2, 4]\n" and lingered >= 1.5
    output, lingered = _seconds_from_exit_to_end_of_output(
        tmp_path, ["slow_teardown", "policylens.nlp.warm_start"])
    assert output == b"[2, 4]\n" and lingered < 1.0
