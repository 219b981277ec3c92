"""The Zero to JupyterHub values (classroom/hub/z2jh-config.yaml) parse and name what the repository really has.

Not a cluster test: no Kubernetes here. What can be checked offline is checked: the file is valid YAML with the
chart's keys, the lesson it opens exists, nbgitpuller pulls the repository and branch the links use into the
folder they open, the image is built from binder/ (which pins nbgitpuller, the command the hook runs), the
culler and the thread count match the local hub's, and the memory limit fits the heaviest lesson.
"""

import re
from pathlib import Path

import yaml

from classroom.links import BRANCH, REPO, repo_folder

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "classroom" / "hub"
VALUES = yaml.safe_load((HUB / "z2jh-config.yaml").read_text())


def gigabytes(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([GM])i?", text).groups()
    return float(number) / (1024 if unit == "M" else 1)


def test_only_the_charts_top_level_keys():
    assert set(VALUES) <= {"hub", "singleuser", "cull", "proxy", "scheduling", "prePuller", "ingress"}


def test_the_default_url_opens_a_lesson_that_exists_in_the_pulled_folder():
    url = VALUES["singleuser"]["defaultUrl"]
    folder, path = re.fullmatch(r"/lab/tree/([^/]+)/(notebooks/\d\d_\w+\.ipynb)", url).groups()
    assert folder == repo_folder(REPO)
    assert (ROOT / path).exists()


def test_the_start_hook_pulls_the_repository_and_branch_the_links_use():
    command = VALUES["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command == ["gitpuller", REPO, BRANCH, repo_folder(REPO)]
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^nbgitpuller==[\d.]+$", requirements, re.MULTILINE)  # gitpuller is in the image


def test_the_image_is_built_from_binder_with_the_repository_outside_home():
    text = (HUB / "z2jh-config.yaml").read_text()
    assert "--target-repo-dir /srv/" in text and (ROOT / "binder" / "requirements.txt").exists()
    assert (ROOT / "binder" / "postBuild").exists()


def test_culling_and_threads_match_the_local_hub():
    local = (HUB / "jupyterhub_config.py").read_text()
    timeout = int(re.search(r"--timeout=(\d+)", local).group(1))
    assert VALUES["cull"] == {"enabled": True, "timeout": timeout, "every": 300}
    assert VALUES["singleuser"]["extraEnv"]["OMP_NUM_THREADS"] == "1"
    assert 'OMP_NUM_THREADS": "1"' in local and "OMP_NUM_THREADS" in (ROOT / "binder" / "start").read_text()


def test_memory_fits_the_heaviest_lesson_and_the_guarantee_is_below_the_limit():
    memory = VALUES["singleuser"]["memory"]
    assert gigabytes(memory["guarantee"]) <= gigabytes(memory["limit"])
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    peaks = [int(mib) for mib in re.findall(r"\.ipynb: kernel peak memory \| (\d+) MiB", results)]
    assert len(peaks) >= 9
    assert max(peaks) / 1024 < gigabytes(memory["guarantee"])


def test_https_and_a_real_authenticator():
    assert VALUES["proxy"]["https"]["enabled"] is True
    assert VALUES["hub"]["config"]["JupyterHub"]["authenticator_class"] not in ("dummy", "shared-password", "null")
    assert VALUES["hub"]["config"]["Authenticator"]["allow_all"] is False
