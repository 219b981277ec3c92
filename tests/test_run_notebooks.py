"""tools/run_notebooks.py: kernel waits that survive a lost wake-up, and runs that fail with the cell's name."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from tools import run_notebooks
from tools.run_notebooks import SlicedWaitChannel, execute_in_place


class LostNoticeSocket:
    """A socket whose message arrives at ``ready_at`` but whose wake-up is lost, as traced under load:
    ``poll`` sees the message only when its own timeout ends (pyzmq's last look at the socket)."""

    def __init__(self, session: Session, ready_at: float):
        self.session, self.ready_at = session, ready_at

    async def poll(self, timeout_ms: int | None) -> int:
        if timeout_ms is None:
            await asyncio.Event().wait()  # never woken
        await asyncio.sleep(timeout_ms / 1000)
        return int(time.monotonic() >= self.ready_at)

    async def recv_multipart(self, **_):
        return self.session.serialize(self.session.msg("execute_reply"))


async def seconds_to_get(channel_class, ready_in: float, timeout: float | None):
    session = Session()
    channel = channel_class.__new__(channel_class)  # its __init__ insists on a real zmq.asyncio socket
    channel.socket, channel.session = LostNoticeSocket(session, time.monotonic() + ready_in), session
    start = time.monotonic()
    try:
        message = await asyncio.wait_for(channel.get_msg(timeout=timeout), 10)
    except TimeoutError:
        return None, time.monotonic() - start
    return message, time.monotonic() - start


def run(coroutine):
    """asyncio.run in a thread of its own: earlier tests (playwright's) may leave a loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_lost_notice_costs_a_slice_not_the_whole_wait():
    plain, plain_seconds = run(seconds_to_get(AsyncZMQSocketChannel, 0.1, 3))
    sliced, sliced_seconds = run(seconds_to_get(SlicedWaitChannel, 0.1, 3))
    assert plain["msg_type"] == sliced["msg_type"] == "execute_reply"
    assert plain_seconds >= 3  # the stall: the message waited for the end of the timeout
    assert sliced_seconds < 0.1 + 2 * run_notebooks.POLL_SLICE_S


def test_a_wait_with_no_timeout_still_finds_the_message():
    message, seconds = run(seconds_to_get(SlicedWaitChannel, 0.2, None))
    assert message["msg_type"] == "execute_reply" and seconds < 0.2 + 2 * run_notebooks.POLL_SLICE_S
    never, _ = run(seconds_to_get(AsyncZMQSocketChannel, 0.2, None))
    assert never is None  # nbclient waits for output with no timeout: without slices it never wakes


def test_no_message_raises_empty_at_the_timeout():
    from queue import Empty
    start = time.monotonic()
    with pytest.raises(Empty):
        run(seconds_to_get(SlicedWaitChannel, 60, 1.2))
    assert 1.2 <= time.monotonic() - start < 1.2 + 2 * run_notebooks.POLL_SLICE_S


def notebook_file(tmp_path, *sources):
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_execute_in_place_stores_outputs_with_streams_merged(tmp_path):
    path = notebook_file(tmp_path, "import sys, time\nprint('a'); sys.stdout.flush(); time.sleep(0.2); print('b')", "6 * 7")
    execute_in_place(path, cell_timeout=60)
    first, second = nbformat.read(path, as_version=4).cells
    assert [o["text"] for o in first.outputs] == ["a\nb\n"]  # one stream output however the kernel flushed
    assert second.outputs[0]["data"]["text/plain"] == "42"


@pytest.mark.parametrize("source, problem", [
    ("raise ValueError('bad shape')", "error: ValueError: bad shape"),
    ("import time; time.sleep(30)", "no answer from the kernel within 2 s"),
])
def test_a_failing_cell_is_named_and_the_file_left_alone(tmp_path, source, problem):
    path = notebook_file(tmp_path, "x = 1", source)
    before = path.read_text()
    with pytest.raises(RuntimeError) as raised:
        execute_in_place(path, cell_timeout=2)
    assert str(raised.value).startswith(f"{path}: cell 1 ") and problem in str(raised.value)
    assert path.read_text() == before
