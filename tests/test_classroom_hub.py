"""The class hub (classroom/hub): N students at once each run a lesson in their own server and kernel, and
nobody gets in where they do not belong.

N is 8 here (``UNET_CLASS_SIZE`` changes it). The students log in through the hub's API, start their own
servers, pull the course with nbgitpuller (from this checkout) and run lesson 00 at the same time. What it
costs (memory, spawn time, the lesson's time alone and with N at once) is measured by benchmarks/classroom.py.
"""

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests

from classroom.hub.client import add_student, course_file, kernel_pids, pull_course, run_lesson, start_server
from classroom.hub.launch import ROOT, current_branch, running_hub

CLASS_SIZE = int(os.environ.get("UNET_CLASS_SIZE", "8"))
LESSON = "00_overview.ipynb"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.fixture(scope="module")
def students(hub):
    """The class: every student logged in, their server started and the course pulled, all at once."""
    names = [f"student{i:02d}" for i in range(CLASS_SIZE)]
    with ThreadPoolExecutor(CLASS_SIZE) as pool:
        class_list = list(pool.map(lambda name: add_student(hub, name), names))
        list(pool.map(lambda student: start_server(hub, student), class_list))
        list(pool.map(lambda student: pull_course(hub, student, str(ROOT), current_branch()), class_list))
    return class_list


@pytest.fixture(scope="module")
def lesson_run(hub, students):
    """Lesson 00 run by every student at the same time, in their own kernel; the kernels' process ids."""
    seen = {}

    async def run(student):
        task = asyncio.create_task(run_lesson(hub, student, LESSON))
        while not task.done():  # note the kernel process while it runs
            pids = await asyncio.to_thread(kernel_pids, student)
            if pids:
                seen[student.name] = pids
            await asyncio.sleep(0.5)
        return await task

    async def everyone():
        return await asyncio.gather(*(run(student) for student in students))

    # In its own thread: the browser tests' playwright leaves an event loop running in this one.
    with ThreadPoolExecutor(1) as runner:
        seconds = runner.submit(asyncio.run, everyone()).result()
    return seconds, seen


def test_every_student_runs_the_lesson_with_no_error(students, lesson_run):
    seconds, _ = lesson_run
    assert len(students) == CLASS_SIZE
    assert [student.errors for student in students] == [[] for _ in students]
    assert all(s > 0 for s in seconds)


def test_every_student_has_their_own_server_home_and_kernel(hub, students, lesson_run):
    _, kernels = lesson_run
    assert len({student.pid for student in students}) == CLASS_SIZE
    assert len({student.kernel_id for student in students}) == CLASS_SIZE
    assert sorted(kernels) == sorted(student.name for student in students)
    assert len({pid for pids in kernels.values() for pid in pids}) == CLASS_SIZE  # one kernel each, none shared
    for student in students:
        (kernel,) = kernels[student.name]
        assert course_file(hub, student, LESSON).exists()  # their own copy, pulled by nbgitpuller
        server = psutil.Process(student.pid)
        assert server.environ()["JUPYTERHUB_USER"] == student.name
        assert Path(server.cwd()) == hub.state / "homes" / student.name


def test_a_students_token_does_not_open_another_students_server(hub, students):
    alice, bob = students[:2]
    assert alice.get(hub, "api/contents").status_code == 200
    for path in ("api/contents", "api/kernels", f"files/unet_lessons/notebooks/{LESSON}", "lab"):
        response = requests.get(bob.server(hub, path), headers={"Authorization": f"token {alice.token}"},
                                timeout=60, allow_redirects=False)
        assert response.status_code in (403, 404), (path, response.status_code)


def test_a_student_cannot_reach_another_students_account_or_the_admin_api(hub, students):
    alice, bob = students[:2]
    assert hub.api("GET", "user", token=alice.token).json()["name"] == alice.name
    refused = [
        ("GET", f"users/{bob.name}"), ("DELETE", f"users/{bob.name}/server"), ("POST", f"users/{bob.name}/tokens"),
        ("GET", "users"), ("POST", "users/mallory"), ("DELETE", f"users/{bob.name}"), ("GET", "proxy"),
        ("POST", f"users/{alice.name}/admin-access"), ("PATCH", f"users/{alice.name}"),
    ]
    for method, path in refused:
        status = hub.api(method, path, token=alice.token, json={"admin": True}).status_code
        assert status in (403, 404), (method, path, status)
    assert hub.api("GET", f"users/{alice.name}", token=alice.token).json()["admin"] is False


def test_a_request_with_no_token_is_refused(hub, students):
    alice = students[0]
    for method, path in (("GET", "users"), ("GET", f"users/{alice.name}"), ("POST", "users/mallory")):
        assert hub.api(method, path, token="").status_code == 403, (method, path)
    for path in ("api/contents", "api/kernels"):
        response = requests.get(alice.server(hub, path), timeout=60, allow_redirects=False)
        assert response.status_code in (302, 403), (path, response.status_code)
        if response.status_code == 302:  # to the hub's login, never into the server
            assert "/hub/" in response.headers["Location"]
    assert hub.api("GET", "users", token="not-a-token").status_code == 403


def login(hub, name: str, password: str) -> requests.Session:
    """A browser's login: the hub's form (with its XSRF token), then its cookie."""
    session = requests.Session()
    form = session.get(f"{hub.url}/hub/login", timeout=60).text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
    session.post(f"{hub.url}/hub/login", data={"username": name, "password": password, "_xsrf": xsrf}, timeout=60)
    return session


def test_a_students_cookie_opens_their_own_server_only(hub, students):
    alice, bob = students[:2]
    browser = login(hub, alice.name, hub.password)
    assert browser.get(alice.server(hub, "api/contents"), timeout=60).status_code == 200  # via the hub's OAuth
    response = browser.get(bob.server(hub, "api/contents"), timeout=60)
    assert response.status_code == 403, response.status_code
    assert browser.get(f"{hub.url}/hub/admin", timeout=60).status_code == 403


def test_a_wrong_password_and_the_lecturers_name_with_the_students_password_are_refused(hub):
    for name, password in (("student00", "not-the-password"), ("lecturer", hub.password)):
        browser = login(hub, name, password)
        assert browser.get(f"{hub.url}/hub/api/user", timeout=60).status_code == 403, name


def test_hub_proxy_servers_and_kernels_listen_on_127_0_0_1_only(hub, students):
    processes = [psutil.Process(hub.process.pid)]
    processes += psutil.Process(hub.process.pid).children(recursive=True)  # the proxy and the culler
    for student in students:
        processes += [psutil.Process(student.pid), *psutil.Process(student.pid).children(recursive=True)]
    listening = {(p.pid, c.laddr.ip, c.laddr.port) for p in processes for c in p.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN}
    assert len({pid for pid, _, _ in listening}) >= 2 + CLASS_SIZE  # hub, proxy, every server
    assert {ip for _, ip, _ in listening} == {"127.0.0.1"}
