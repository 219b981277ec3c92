"""The environment files cannot drift apart: every pin in requirements.txt appears, equal, elsewhere."""

from pathlib import Path

import tomllib

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def pins(lines) -> dict[str, str]:
    result = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            result[name.strip().lower()] = version.strip()
    return result


def test_requirements_pin_every_package_exactly():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    packages = [l for l in lines if l and not l.startswith("#")]
    assert packages and all("==" in l for l in packages), packages
    assert pins(packages)["torch"] == "2.13.0"


def test_environment_yml_matches_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins(pip_section) == pins((ROOT / "requirements.txt").read_text().splitlines())


def test_binder_pins_match_requirements():
    binder = pins((ROOT / "binder" / "requirements.txt").read_text().splitlines())
    binder["torch"] = binder["torch"].removesuffix("+cpu")  # the same release, CPU-only build
    assert binder == pins((ROOT / "requirements.txt").read_text().splitlines())


def test_binder_uses_the_cpu_wheel_and_installs_the_package():
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("--extra-index-url") and line.endswith("/whl/cpu") for line in lines)
    assert "torch==" in "\n".join(lines) and "+cpu" in pins(lines)["torch"]
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "set -e" in post_build and "pip install --no-deps -e ." in post_build
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_the_package_states_the_lowest_versions_colab_tests_and_our_pins_are_in_range():
    colab = pins((ROOT / "requirements-colab.txt").read_text().splitlines())
    ours = pins((ROOT / "requirements.txt").read_text().splitlines())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in map(Requirement, project):
        name = requirement.name.lower()
        (lowest,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        # the lowest version stated is Colab's, which make test-colab runs (torch: README, "On Google Colab")
        assert name == "torch" or lowest == colab[name], f"{requirement}: make test-colab tests {name} {colab[name]}"
        assert requirement.specifier.contains(ours[name]) and requirement.specifier.contains(colab[name])
    assert {"ipywidgets": "7.7.1", "plotly": "5.24.1", "ipython": "7.34.0"}.items() <= colab.items()
