"""The class hub in a browser, as a student meets it: log in, nbgitpuller copies the course, lesson 00 opens.

The hub of ``make hub`` (classroom/hub), started on 127.0.0.1 with a fresh state folder; every request that
leaves the local server is blocked and fails the test.
"""

import pytest
from test_notebooks_in_lab import wait_until

from classroom.hub.launch import running_hub

LESSON = "00_overview.ipynb"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


def test_a_student_logs_in_and_lesson_00_opens_in_their_own_copy(hub, new_offline_page, artifacts):
    page = new_offline_page(hub.url + "/", {"width": 1400, "height": 900})
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", hub.password)
        page.click("input[type=submit], button[type=submit]")
        # the server starts, nbgitpuller clones the course, JupyterLab opens the lesson
        page.wait_for_url(f"**/user/ada/lab/tree/unet_lessons/notebooks/{LESSON}", timeout=180_000)
        tab = page.locator(f".lm-TabBar-tabLabel:text-is('{LESSON}')")
        wait_until(lambda: tab.count() == 1, 120, f"JupyterLab's tab for {LESSON}")
        wait_until(lambda: page.locator(".jp-Notebook .jp-Cell").count() > 5, 60, "the lesson's cells")
        page.screenshot(path=str(artifacts / "hub_lesson_00.png"))
        assert (hub.state / "homes" / "ada" / "unet_lessons" / "notebooks" / LESSON).exists()
    finally:
        page.context.close()
    assert not page.outside_requests, f"requests left the local server: {page.outside_requests}"
