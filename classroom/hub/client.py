"""A student, scripted: log in to the class hub's API, start a server, pull the course, run a lesson.

What the tests and the sizing benchmark do with N students at once. Everything goes through the hub's
public address (the proxy), as a browser's requests would: the hub's REST API, nbgitpuller's pull, the
Jupyter server's sessions API and its kernel websocket. ``run_lesson`` sends every code cell of a notebook to
the student's own kernel, in order, and collects the errors, as "Run All" would.
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from classroom.hub.launch import Hub

COURSE_FOLDER = "unet_lessons"


@dataclass
class Student:
    """One logged-in student: their name, their API token and, once started, their server's process id."""

    name: str
    token: str
    pid: int | None = None
    kernel_id: str | None = None
    spawn_seconds: float | None = None
    errors: list[str] = field(default_factory=list)

    def server(self, hub: Hub, path: str) -> str:
        return f"{hub.url}/user/{self.name}/{path}"

    def get(self, hub: Hub, path: str, **kwargs) -> requests.Response:
        return requests.get(self.server(hub, path), headers={"Authorization": f"token {self.token}"}, timeout=120,
                            **kwargs)


def add_student(hub: Hub, name: str) -> Student:
    """Create the user ``name`` and a token for them (what a login does, without a browser)."""
    hub.api("POST", f"users/{name}").raise_for_status()
    response = hub.api("POST", f"users/{name}/tokens", json={"note": "class simulation", "expires_in": 3600})
    response.raise_for_status()
    return Student(name, response.json()["token"])


def start_server(hub: Hub, student: Student, timeout: float = 180) -> None:
    """Start the student's server as they would (their own token), wait until it is ready; time it."""
    start = time.monotonic()
    hub.api("POST", f"users/{student.name}/server", token=student.token).raise_for_status()
    while True:
        server = hub.api("GET", f"users/{student.name}").json()["servers"].get("", {})
        if server.get("ready"):
            break
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{student.name}'s server was not ready within {timeout:.0f} s")
        time.sleep(0.25)
    student.spawn_seconds = time.monotonic() - start
    student.pid = server["state"]["pid"]


def pull_course(hub: Hub, student: Student, repo: str, branch: str) -> None:
    """nbgitpuller's pull into ``~/unet_lessons`` (its API streams progress events until 'finished')."""
    params = {"repo": repo, "branch": branch, "targetpath": COURSE_FOLDER}
    with student.get(hub, "git-pull/api", params=params, stream=True) as response:
        response.raise_for_status()
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                event = json.loads(line[len("data: "):])
                if event.get("phase") == "error":
                    raise RuntimeError(f"nbgitpuller failed for {student.name}: {event.get('message')}")
                if event.get("phase") == "finished":
                    return
    raise RuntimeError(f"nbgitpuller's stream for {student.name} ended before 'finished'")


def message(msg_type: str, content: dict, session: str) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session, "username": "",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}


async def run_lesson(hub: Hub, student: Student, notebook: str, cell_timeout: float = 300) -> float:
    """Run every code cell of ``~/unet_lessons/notebooks/<notebook>`` in a new kernel of the student's server.

    Returns the seconds the cells took; each error (an ``error`` message or a failed reply) is appended to
    ``student.errors`` as ``"cell N: Name: value"``. The kernel is shut down at the end.
    """
    path = f"{COURSE_FOLDER}/notebooks/{notebook}"
    headers = {"Authorization": f"token {student.token}"}
    session = requests.post(student.server(hub, "api/sessions"), headers=headers, timeout=120,
                            json={"path": path, "type": "notebook", "name": notebook, "kernel": {"name": "python3"}})
    session.raise_for_status()
    student.kernel_id = session.json()["kernel"]["id"]
    cells = [cell.source for cell in nbformat.reads(student.get(hub, f"files/{path}").text, as_version=4).cells
             if cell.cell_type == "code"]
    url = student.server(hub, f"api/kernels/{student.kernel_id}/channels").replace("http://", "ws://", 1)
    socket = await websocket_connect(HTTPRequest(url, headers=headers), max_message_size=256 * 1024 * 1024)
    session_id = uuid.uuid4().hex
    start = time.monotonic()
    try:
        for index, source in enumerate(cells):
            request = message("execute_request", {"code": source, "silent": False, "store_history": True,
                                                  "user_expressions": {}, "allow_stdin": False,
                                                  "stop_on_error": True}, session_id)
            await socket.write_message(json.dumps(request))
            replied = idle = False
            while not (replied and idle):
                raw = await asyncio.wait_for(socket.read_message(), cell_timeout)
                if raw is None:
                    raise RuntimeError(f"{student.name}'s kernel connection closed at cell {index}")
                reply = json.loads(raw)
                if reply.get("parent_header", {}).get("msg_id") != request["header"]["msg_id"]:
                    continue
                kind = reply["header"]["msg_type"]
                if kind == "error":
                    student.errors.append(f"cell {index}: {reply['content']['ename']}: {reply['content']['evalue']}")
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and reply["content"]["execution_state"] == "idle":
                    idle = True
        return time.monotonic() - start
    finally:
        socket.close()
        requests.delete(student.server(hub, f"api/sessions/{session.json()['id']}"), headers=headers, timeout=60)


def kernel_pids(student: Student) -> list[int]:
    """Process ids of the kernels the student's server started (its descendants running ipykernel).

    A child that exits between the listing and the look at its command line (a finished git of nbgitpuller, a
    zombie not yet reaped) is skipped: psutil then raises NoSuchProcess (ZombieProcess is one).
    """
    pids = []
    for process in psutil.Process(student.pid).children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                pids.append(process.pid)
        except psutil.NoSuchProcess:
            continue
    return pids


def tree_memory(pid: int) -> tuple[int, int]:
    """Resident and unique bytes of a process and its descendants (0, 0 once it has exited)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    rss = uss = 0
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss, uss = rss + info.rss, uss + info.uss
    return rss, uss


class MemoryWatch:
    """Peak memory of named process trees, sampled every ``interval`` seconds in a background task."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5):
        self.pids, self.interval = pids, interval
        self.peak = {name: (0, 0) for name in pids}
        self._task = None

    async def _sample(self):
        while True:
            for name, pid in self.pids.items():
                rss, uss = await asyncio.to_thread(tree_memory, pid)
                old = self.peak[name]
                self.peak[name] = (max(old[0], rss), max(old[1], uss))
            await asyncio.sleep(self.interval)

    def __enter__(self):
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *exc):
        self._task.cancel()


def course_file(hub: Hub, student: Student, notebook: str) -> Path:
    """Where the student's copy of a lesson is on disk (their home, under the hub's state folder)."""
    return hub.state / "homes" / student.name / COURSE_FOLDER / "notebooks" / notebook
