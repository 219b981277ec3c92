"""A real JupyterLab in a real browser: the server, the browser and the offline guard.

JupyterLab is started from this environment on 127.0.0.1 with a token and its own config, settings and
runtime folders, serving a *copy* of the notebooks (Run All must never overwrite the committed outputs).
Debian's Chromium is driven by the ``playwright`` package; every request that is not for the local
server is blocked and recorded, and a test fails if any was made.

Without ``/usr/bin/chromium`` the tests are skipped with a clear reason; with
``UNET_LESSONS_REQUIRE_BROWSER=1`` (set by ``.ci/run``) the skip becomes a failure.
"""

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from classroom.build import build_site, build_slides
from classroom.serve import CoursePackHandler, course_server

ROOT = Path(__file__).resolve().parents[2]
PROJECTOR = {"width": 1280, "height": 720}
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"
# The Python of make test-colab's environment, where the classic Notebook runs (unset: its tests are skipped).
CLASSIC_PYTHON = os.environ.get("UNET_LESSONS_CLASSIC_PYTHON") and os.path.abspath(os.environ["UNET_LESSONS_CLASSIC_PYTHON"])
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def browser_unavailable_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make test installs requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("UNET_LESSONS_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"browser tests are required (UNET_LESSONS_REQUIRE_BROWSER=1) but {reason}")
    marker = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(marker)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A running JupyterLab: its base URL, token, served folder, runtime folder and log file."""

    def __init__(self, url: str, token: str, root: Path, runtime_dir: Path, process: subprocess.Popen, log: Path):
        self.url, self.token, self.root, self.runtime_dir, self.process = url, token, root, runtime_dir, process
        self.log = log

    def log_tail(self, lines: int = 30) -> str:
        """The server's last lines (kernel restarts, failed requests): for a failing test's message."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def kernel_pids(self) -> list[int]:
        """PIDs of the kernels this server started (found by their connection files)."""
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "ipykernel_launcher" in cmdline and str(self.runtime_dir) in cmdline:
                pids.append(int(proc.name))
        return pids


@contextlib.contextmanager
def running_server(command, log_path: Path, env: dict, cwd: Path):
    """A Jupyter server started by ``command(port, token)`` (a free port, a fresh token), its output in
    ``log_path``: yields ``(url, token, process)`` once its API answers, and stops it afterwards."""
    token, port = secrets.token_hex(16), _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command(port, token), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    process.kill()
                    raise RuntimeError(f"{' '.join(command(port, token)[:3])} did not start; see {log_path}:\n"
                                       + log_path.read_text()[-3000:])
                time.sleep(0.5)
        try:
            yield url, token, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab")
    served = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", served)
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTER_RUNTIME_DIR"):
        (base / name.lower()).mkdir()
        env[name] = str(base / name.lower())
    # Keep every cell in the DOM (no virtual scrolling), never autosave (a run must not overwrite the stored
    # outputs a later test opens), and do not ask about news.
    for plugin, settings in {"notebook-extension/tracker": {"windowingMode": "none"},
                             "docmanager-extension/plugin": {"autosave": False},
                             "apputils-extension/notification": {"fetchNews": "false"}}.items():
        path = base / "jupyterlab_settings_dir" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    def command(port: int, token: str) -> list[str]:
        return [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}"]

    with running_server(command, base / "lab.log", env, served) as (url, token, process):
        yield Lab(url, token, served, Path(env["JUPYTER_RUNTIME_DIR"]), process, base / "lab.log")


class Classic:
    """A running classic Notebook (tests/browser/test_notebooks_in_classic.py)."""

    def __init__(self, url: str, token: str, process: subprocess.Popen, plotly_js: Path, plotly_cdn: str, log: Path):
        self.url, self.token, self.process, self.plotly_js, self.plotly_cdn = url, token, process, plotly_js, plotly_cdn
        self.log = log

    log_tail = Lab.log_tail


@pytest.fixture(scope="session")
def classic(tmp_path_factory):
    """The classic Notebook 6.5.7 of ``make test-colab``'s environment (Colab's ipywidgets, plotly and IPython),
    serving a copy of the notebooks; ``plotly_js`` is the file its framed figures ask ``plotly_cdn`` for."""
    if not CLASSIC_PYTHON:
        pytest.skip("run by make test-colab, which names its environment's Python in UNET_LESSONS_CLASSIC_PYTHON")
    base = tmp_path_factory.mktemp("classic")
    served = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", served)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR"):
        (base / name.lower()).mkdir()
        env[name] = str(base / name.lower())
    # The plotly.js file plotly's framed pages ask for, and where plotly keeps the same file for offline use.
    located = subprocess.run(
        [CLASSIC_PYTHON, "-c", "import pathlib, plotly, plotly.io._utils as u; print(u.plotly_cdn_url()); "
         "print(pathlib.Path(plotly.__file__).parent / 'package_data' / 'plotly.min.js')"],
        capture_output=True, text=True, check=True).stdout.split()
    def command(port: int, token: str) -> list[str]:
        return [CLASSIC_PYTHON, "-m", "notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
                f"--NotebookApp.token={token}", f"--notebook-dir={served}"]

    with running_server(command, base / "notebook.log", env, served) as (url, token, process):
        yield Classic(url, token, process, Path(located[1]), located[0], base / "notebook.log")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def offline_page(browser, local: str, viewport: dict):
    """A fresh page in its own context; every request not for ``local`` (a URL prefix) is blocked and
    listed in ``page.outside_requests``. Tests get it through the ``new_offline_page`` fixture."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.outside_requests = []

    def guard(route):
        if route.request.url.startswith(local) or route.request.url.startswith("data:") \
                or route.request.url.startswith("blob:"):
            route.continue_()
        else:
            page.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("websocket", lambda ws: None if ws.url.startswith(local.replace("http", "ws", 1))
            else page.outside_requests.append(ws.url))
    return page


@pytest.fixture(scope="session")
def new_offline_page(browser):
    """``new_offline_page(local, viewport)``: an offline page for any local server (close its context)."""
    return lambda local, viewport: offline_page(browser, local, viewport)


@pytest.fixture
def page(browser, lab):
    """A page on the JupyterLab server; requests that leave it are blocked, and fail the test."""
    page = offline_page(browser, lab.url + "/", viewport={"width": 1400, "height": 1000})
    yield page
    page.context.close()
    assert not page.outside_requests, f"requests left the local server: {page.outside_requests}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class QuietHandler(CoursePackHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def classroom_folder(tmp_path_factory) -> Path:
    """The course pack and the decks (site/, slides/), built into a temporary folder."""
    built = tmp_path_factory.mktemp("classroom")
    build_site(ROOT / "notebooks", built / "site")
    build_slides(ROOT / "notebooks", built / "slides")
    return built


@pytest.fixture(scope="session")
def classroom_url(classroom_folder):
    """The course pack and the decks served on 127.0.0.1 as ``classroom.serve`` serves them (cross-origin
    isolated, so the live sampler may use every core)."""
    server = course_server(classroom_folder, handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def offline(new_offline_page, classroom_url):
    """A 1280x720 page that records console errors, script errors and failed local requests."""
    page = new_offline_page(classroom_url + "/", PROJECTOR)
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("response", lambda response: response.status >= 400
            and page.problems.append(f"{response.status} {response.url}"))
    yield page
    page.context.close()
    assert not page.outside_requests, f"requests left the local server: {page.outside_requests}"
    assert not page.problems, page.problems
