"""The class hub's test client on its own, without a hub (tests/test_classroom_hub.py runs it against one)."""

import os
import subprocess
import sys
import time

import psutil

from classroom.hub.client import Student, kernel_pids


def test_kernel_pids_skips_a_child_that_has_exited_but_is_not_yet_reaped():
    """A zombie among a server's children (a finished git of nbgitpuller) once failed a whole class run."""
    zombie = subprocess.Popen(["true"])  # not waited for until the end: a zombie meanwhile
    kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "ipykernel_launcher"])
    try:
        deadline = time.monotonic() + 10
        while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.05)
        pids = kernel_pids(Student("student00", "token", pid=os.getpid()))
        assert kernel.pid in pids and zombie.pid not in pids
    finally:
        kernel.kill()
        kernel.wait()
        zombie.wait()
