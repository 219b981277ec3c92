"""JupyterHub for a class on one machine, for a lecturer to try and for the tests: ``make hub``.

Read by ``jupyterhub -f classroom/hub/jupyterhub_config.py``; ``classroom.hub.launch`` sets the environment
variables below and starts it. Everything listens on 127.0.0.1 only. Students log in with any user name
and the shared password; the lecturer logs in as ``lecturer`` with the admin password. Each student gets
their own Jupyter server, started from the course environment (this Python), with their own home folder
under the state folder; on first login nbgitpuller clones the course into ``~/unet_lessons`` and JupyterLab
opens lesson 00 (a later login pulls again and keeps the student's edits).

This set-up is for trying the hub and for measuring a class. For a real class, change three things (the
README's "Teaching a class" says how): a real authenticator instead of the shared password, a spawner that
isolates students and enforces a memory limit (the local spawner here runs every server as this system
user and does not enforce one), and HTTPS in front.

Environment variables:

* ``UNET_HUB_STATE`` - a folder for the database, the cookie secret and the students' homes
* ``UNET_HUB_PORT``, ``UNET_HUB_API_PORT``, ``UNET_HUB_PROXY_API_PORT`` - ports on 127.0.0.1
* ``UNET_HUB_PASSWORD`` - the students' shared password (8 characters or more)
* ``UNET_HUB_ADMIN_PASSWORD`` - the lecturer's password (32 characters or more)
* ``UNET_HUB_API_TOKEN`` - a token for the ``course-admin`` service (scripts and tests add users with it)
* ``UNET_HUB_PROXY`` - the ``configurable-http-proxy`` command (``classroom.hub.launch`` installs it)
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(os.environ.get("UNET_HUB_REPO", Path(__file__).resolve().parents[2]))
STATE = Path(os.environ["UNET_HUB_STATE"])
BIN = Path(sys.executable).parent
FIRST_LESSON = "lab/tree/unet_lessons/notebooks/00_overview.ipynb"
c = get_config()  # noqa: F821 (jupyterhub defines it)

# Listen on this machine only: the public proxy, the hub's own API and the proxy's API.
c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ.get('UNET_HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('UNET_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('UNET_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [os.environ.get("UNET_HUB_PROXY", "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["UNET_HUB_PASSWORD"]
c.SharedPasswordAuthenticator.admin_password = os.environ["UNET_HUB_ADMIN_PASSWORD"]
c.Authenticator.admin_users = {"lecturer"}
c.Authenticator.allow_all = True  # any student name: the class list is the lecturer's real authenticator's job

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
# One torch thread per student: a class shares the cores, and threads waiting for a core spin (README).
c.Spawner.environment = {"OMP_NUM_THREADS": "1"}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.default_url = "/git-pull?" + urlencode(
    {"repo": str(ROOT), "branch": os.environ.get("UNET_HUB_BRANCH", "main"), "targetPath": "unet_lessons",
     "urlpath": FIRST_LESSON})

c.JupyterHub.services = [
    {"name": "course-admin", "api_token": os.environ["UNET_HUB_API_TOKEN"]},
    # Stops a server after an hour without activity: its memory goes back to the class.
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]},
]
c.JupyterHub.load_roles = [
    {"name": "course-admin", "services": ["course-admin"],
     "scopes": ["admin:users", "admin:servers", "admin:server_state", "tokens", "list:users", "read:users"]},
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]
