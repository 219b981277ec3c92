"""Start the class hub on 127.0.0.1: ``make hub`` (or ``python -m classroom.hub.launch``).

Installs the proxy the first time (``npm ci`` of the pinned ``configurable-http-proxy`` into
``build/hub/proxy/``; Node 20 or newer), then runs JupyterHub with ``classroom/hub/jupyterhub_config.py`` and
prints the address and the passwords. Stop it with Ctrl-C: the students' servers stop with it.
"""

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
PROXY_FOLDER = ROOT / "build" / "hub" / "proxy"
MIN_NODE = 20


def node_major() -> int:
    """The major version of the ``node`` on PATH; ``RuntimeError`` saying what to install if there is none."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the hub's proxy needs Node.js 20 or newer: install it (Debian/Ubuntu: "
                           "apt-get install nodejs npm; macOS: brew install node) and run this again")
    return int(subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
               .lstrip("v").split(".")[0])


def install_proxy(folder: Path = PROXY_FOLDER) -> Path:
    """The ``configurable-http-proxy`` command, installed by ``npm ci`` from the committed lock file.

    ``npm ci`` checks every package against the ``integrity`` in ``classroom/hub/package-lock.json``. Nothing
    is installed again while the lock file is unchanged.
    """
    if node_major() < MIN_NODE:
        raise RuntimeError(f"the hub's proxy needs Node.js {MIN_NODE} or newer; this machine has "
                           f"{node_major()} (node --version)")
    command = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    lock = (HERE / "package-lock.json").read_bytes()
    if command.exists() and (folder / "package-lock.json").read_bytes() == lock:
        return command
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / name, folder / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
    return command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Hub:
    """A running hub: its public address, the admin service's token, the passwords, its process."""

    url: str
    api_token: str
    password: str
    admin_password: str
    state: Path
    process: subprocess.Popen

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        """A request to the hub's REST API (``/hub/api/<path>``) with ``token`` (default: the admin service's)."""
        headers = {"Authorization": f"token {token or self.api_token}"} if token != "" else {}
        return requests.request(method, f"{self.url}/hub/api/{path}", headers=headers, timeout=60, **kwargs)


def hub_environment(state: Path, port: int, password: str, admin_password: str, api_token: str) -> dict:
    return {**os.environ, "UNET_HUB_STATE": str(state), "UNET_HUB_PORT": str(port),
            "UNET_HUB_API_PORT": str(free_port()), "UNET_HUB_PROXY_API_PORT": str(free_port()),
            "UNET_HUB_PASSWORD": password, "UNET_HUB_ADMIN_PASSWORD": admin_password,
            "UNET_HUB_API_TOKEN": api_token, "UNET_HUB_PROXY": str(install_proxy()),
            "UNET_HUB_REPO": str(ROOT), "UNET_HUB_BRANCH": current_branch(),
            # the single-user servers run git (nbgitpuller) and the environment's scripts
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def current_branch() -> str:
    """The branch of this checkout that nbgitpuller pulls (``main`` when the checkout is a detached commit)."""
    branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    return "main" if branch == "HEAD" else branch


@contextmanager
def running_hub(state: Path, port: int = 0, timeout: float = 90):
    """Start the hub in the background, wait until its API answers, yield a ``Hub``; stop it afterwards."""
    state.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    hub = Hub(f"http://127.0.0.1:{port}", secrets.token_hex(32), secrets.token_urlsafe(12),
              secrets.token_urlsafe(32), state, None)
    env = hub_environment(state, port, hub.password, hub.admin_password, hub.api_token)
    log = state / "hub.log"
    with open(log, "w") as output:
        hub.process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
                                       cwd=state, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if hub.process.poll() is not None:
                    raise RuntimeError(f"the hub exited with {hub.process.returncode}; see {log}")
                try:
                    if hub.api("GET", "").status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the hub did not answer within {timeout:.0f} s; see {log}")
                time.sleep(0.5)
            yield hub
        finally:
            hub.process.terminate()
            try:
                hub.process.wait(60)
            except subprocess.TimeoutExpired:
                hub.process.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="the port on 127.0.0.1 (default 8000)")
    parser.add_argument("--state", type=Path, default=ROOT / "build" / "hub" / "state",
                        help="database, cookie secret and the students' homes (default build/hub/state)")
    args = parser.parse_args(argv)
    args.state.mkdir(parents=True, exist_ok=True)
    password, admin_password = secrets.token_urlsafe(9), secrets.token_urlsafe(32)
    env = hub_environment(args.state, args.port, password, admin_password, secrets.token_hex(32))
    print(f"Hub: http://127.0.0.1:{args.port}\n"
          f"Students: any user name, password {password}\n"
          f"Lecturer: user name lecturer, password {admin_password} (admin page: /hub/admin)\n"
          "Ctrl-C stops the hub and every student's server.", flush=True)
    os.chdir(args.state)
    os.execve(sys.executable, [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")], env)


if __name__ == "__main__":
    main()
