"""Execute notebooks top to bottom in a fresh kernel, in bounded time, and store their outputs.

``make notebooks`` runs ``python -m tools.run_notebooks notebooks/*.ipynb``; ``benchmarks/notebooks.py`` uses
:func:`notebook_client` to time the same runs. Two things make a run bounded on a busy machine:

- **No lost wake-ups.** nbclient waits for kernel messages through pyzmq's asyncio sockets, which learn of a
  message from zmq's edge-triggered file descriptor. On a loaded machine that notice was sometimes lost:
  traced on 2026-12-03 (2 cores, two busy processes beside the run), lesson 05's kernel sent its idle
  status and ``execute_reply`` at 28.9 s, and nbclient read the reply at 178.8 s, the moment its 150 s wait
  expired, when pyzmq looks at the socket once more. That was the "113 s instead of 12 s" of
  ``jupyter nbconvert --execute`` (whose wait is 600 s). Our channels wait in slices of
  :data:`POLL_SLICE_S` and look at the socket after each one, so a lost notice costs at most a slice.
- **A stall that remains fails**, naming the notebook and the cell, after :data:`CELL_TIMEOUT_S`, as
  nbval's in ``make test``: the longest cell, lesson 09's wait for its training, took 233 s on 2 idle Intel
  Xeon cores (lesson 07's training runs 63-67 s); with one thread (``make test-notebooks``) or a second job
  on the machine it takes two to three times that, and must still pass.

Kernels talk over Unix sockets in a temporary directory, not TCP ports: kernels that other processes start
at the same time (tests, benchmarks) cannot take a run's ports.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import Type
from traitlets.config import Config

POLL_SLICE_S = 0.5
CELL_TIMEOUT_S = 900


class SlicedWaitChannel(AsyncZMQSocketChannel):
    """A kernel channel whose waits look at the socket every :data:`POLL_SLICE_S`, so no message is missed."""

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
            if await self.socket.poll(int(min(POLL_SLICE_S, left) * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class SlicedWaitKernelClient(AsyncKernelClient):
    """nbclient's kernel client with :class:`SlicedWaitChannel` for every channel it reads."""

    shell_channel_class = Type(SlicedWaitChannel)
    iopub_channel_class = Type(SlicedWaitChannel)
    stdin_channel_class = Type(SlicedWaitChannel)
    control_channel_class = Type(SlicedWaitChannel)


@contextmanager
def notebook_client(notebook: nbformat.NotebookNode, directory: Path, cell_timeout: float = CELL_TIMEOUT_S,
                    **hooks) -> Iterator[NotebookClient]:
    """An nbclient ``NotebookClient`` for ``notebook`` (cells run in ``directory``), valid inside the ``with``.

    ``hooks`` are nbclient's (``on_cell_executed=...``). ``client.execute()`` fills the outputs in place.
    """
    with tempfile.TemporaryDirectory() as sockets:
        config = Config({"KernelManager": {
            "transport": "ipc", "ip": f"{sockets}/kernel",
            "client_class": f"{SlicedWaitKernelClient.__module__}.{SlicedWaitKernelClient.__qualname__}",
        }})
        yield NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3", config=config,
                             resources={"metadata": {"path": str(directory)}}, coalesce_streams=True, **hooks)


def execute_in_place(path: Path, cell_timeout: float = CELL_TIMEOUT_S) -> float:
    """Run the notebook at ``path`` in a fresh kernel and store its outputs there; return the seconds it took.

    Raises ``RuntimeError`` naming the notebook and the cell if a cell fails or the kernel stops answering;
    the file is then left as it was.
    """
    notebook = nbformat.read(path, as_version=4)
    current = {"index": None}
    start = time.perf_counter()
    with notebook_client(notebook, path.parent, cell_timeout,
                         on_cell_start=lambda cell, cell_index: current.update(index=cell_index)) as client:
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            index = current["index"]
            first_line = notebook.cells[index].source.splitlines()[0] if index is not None else ""
            problem = (f"no answer from the kernel within {cell_timeout:.0f} s" if isinstance(error, CellTimeoutError)
                       else "the kernel died" if isinstance(error, DeadKernelError)
                       else f"error: {error.ename}: {error.evalue}")
            raise RuntimeError(f"{path}: cell {index} ({first_line!r}): {problem}") from error
    seconds = time.perf_counter() - start
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT_S, help="seconds a cell may take")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        try:
            seconds = execute_in_place(path, args.cell_timeout)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"  stored, {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
