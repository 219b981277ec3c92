"""How many CPU threads the lessons give torch: one core is left to the rest of the laptop.

torch starts one worker thread per core, and at the end of every parallel operation the workers wait for
each other. When another program (a browser tab, a video call, a second notebook) keeps one core busy, the
worker that shares that core runs late and every operation waits for it: measured on our 2-core machines
(``benchmarks/threads.py``, RESULTS.md section "Threads"), one busy process made lesson 08's explorer 12x
slower with 2 threads and 2x slower with 1. Leaving a core free costs a quiet machine some speed (1.3x to
1.7x there) and keeps a busy one usable, so the lessons call
:func:`use_course_threads` in their set-up cell. An ``OMP_NUM_THREADS`` set by the user, the class hub or
Binder is respected.
"""

import os

import torch

_TORCH_DEFAULT = torch.get_num_threads()  # torch's own choice, before any lesson changed it


def use_course_threads(leave_free: int = 1) -> int:
    """Give torch one thread per core but ``leave_free`` (at least one thread); return the thread count.

    Args:
        leave_free: cores left to other programs. Lesson 09's set-up cell passes 0: the lesson is mostly a
            four-minute training run, which a learner watches rather than works beside.

    With ``OMP_NUM_THREADS`` set in the environment nothing changes: that choice was made on purpose.
    """
    if not isinstance(leave_free, int) or isinstance(leave_free, bool) or leave_free < 0:
        raise ValueError(f"leave_free={leave_free!r}: the number of cores to leave free, an integer >= 0 "
                         "(1 by default).")
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    threads = max(1, _TORCH_DEFAULT - leave_free)
    torch.set_num_threads(threads)
    return threads
