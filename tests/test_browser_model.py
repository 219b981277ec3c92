"""The course model exported for the browser (classroom/browser_model.py): ONNX Runtime computes what PyTorch
computes, for any batch size, at timesteps across the schedule and for every label, "no class" included; the
manifest describes the files it sits beside."""

import json
import shutil

import pytest
import torch

from classroom.browser_model import MANIFEST_FILE, MAX_STEPS, MODEL_FILE, TOLERANCE, export_course_model, \
    onnx_runtime_difference
from unet_lessons.course_files import ASSETS, COURSE_MODEL, load_course_model, sha256
from unet_lessons.sampling import sampling_steps


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course-model")
    return folder, export_course_model(folder)


@pytest.mark.parametrize("batch", [1, 7, 33])
def test_onnx_runtime_computes_what_pytorch_computes(exported, batch):
    folder, _ = exported
    model, schedule, _ = load_course_model()
    generator = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, 1, 32, 32, generator=generator) * 1.5
    t = torch.randint(0, schedule.num_steps, (batch,), generator=generator)
    t[0] = schedule.num_steps - 1  # the first step of every sampler
    y = torch.randint(0, model.null_class + 1, (batch,), generator=generator)
    y[0] = model.null_class  # "no class", as guidance asks
    difference = onnx_runtime_difference(model, folder / MODEL_FILE, x, t, y)
    print(f"batch {batch}: max |ONNX Runtime - PyTorch| = {difference:.1e}")
    assert difference < TOLERANCE


def test_every_label_at_every_tenth_step(exported):
    folder, _ = exported
    model, schedule, _ = load_course_model()
    t = torch.arange(0, schedule.num_steps, 100).repeat_interleave(model.null_class + 1)
    y = torch.arange(model.null_class + 1).repeat(len(t) // (model.null_class + 1))
    x = torch.randn(len(t), 1, 32, 32, generator=torch.Generator().manual_seed(0))
    assert onnx_runtime_difference(model, folder / MODEL_FILE, x, t, y) < TOLERANCE


def test_manifest_names_the_files_it_was_made_from(exported):
    folder, manifest = exported
    assert json.loads((folder / MANIFEST_FILE).read_text()) == manifest
    assert manifest["model_sha256"] == sha256(folder / MODEL_FILE)
    assert manifest["model_bytes"] == (folder / MODEL_FILE).stat().st_size
    listed = dict(line.split()[::-1] for line in (ASSETS / "SHA256SUMS").read_text().splitlines())
    assert manifest["weights_sha256"] == listed[COURSE_MODEL]
    _, schedule, _ = load_course_model()
    assert manifest["alpha_bars"] == schedule.alpha_bars.tolist()
    assert len(manifest["sampling_steps"]) == MAX_STEPS
    for steps in (1, 2, 25, 50, MAX_STEPS):
        assert manifest["sampling_steps"][str(steps)] == sampling_steps(schedule, steps)


def test_damaged_weights_are_refused_before_any_export(tmp_path):
    assets = tmp_path / "assets"
    shutil.copytree(ASSETS, assets)
    data = bytearray((assets / COURSE_MODEL).read_bytes())
    data[-1] ^= 1
    (assets / COURSE_MODEL).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match"):
        export_course_model(tmp_path / "out", assets)
    assert not (tmp_path / "out" / MODEL_FILE).exists()
