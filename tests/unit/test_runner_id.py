"""A scheduler's name for its claims and heartbeat is new at each start, even where host and pid repeat
(a container restarted after kill -9 is PID 1 on the same host name again)."""

import os
import socket
import subprocess
import sys

from tracker import jobs


def test_each_start_of_a_process_has_a_name_of_its_own():
    other = subprocess.run(
        [sys.executable, "-c", "from tracker import jobs; print(jobs.runner_id())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    host, pid, mark = jobs.runner_id().split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid()) and len(mark) == 8
    other_host, _other_pid, other_mark = other.split(":")
    assert other_host == host and len(other_mark) == 8 and other_mark != mark, (other, jobs.runner_id())
    assert jobs.runner_id() == jobs.runner_id(), "one name for the life of the process"
