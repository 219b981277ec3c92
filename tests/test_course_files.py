"""The shipped files and their checked loading: nothing is used before its SHA-256 and its shapes match."""

import json
import pickle

import pytest
import torch

from unet_lessons.configs import UNetConfig
from unet_lessons.course_files import (ASSETS, CLASSIFIER, COURSE_MODEL, REAL_SAMPLE, TRAINING_SUBSET, load_classifier,
                                       load_course_model, load_real_sample, read_checked, sha256, write_checked)
from unet_lessons.data import FASHION_MNIST_CLASSES, to_model_images
from unet_lessons.quality import class_accuracy
from unet_lessons.sampling import ddim_sample
from unet_lessons.unet import UNet

SMALL = UNetConfig(image_size=8, in_channels=1, out_channels=1, base_channels=8, channel_mults=(1,),
                   num_res_blocks=1, attention_resolutions=(), groups=4, num_classes=3)


def small_model_file(folder, config=SMALL):
    model = UNet(config)
    write_checked(model.state_dict(), COURSE_MODEL, {
        "config": json.dumps({**config.__dict__}),
        "schedule": json.dumps({"num_steps": 10, "beta_start": 1e-4, "beta_end": 0.02})}, folder)
    return model


def test_a_written_file_reads_back_with_its_metadata_and_is_listed(tmp_path):
    path = write_checked({"a": torch.arange(6).reshape(2, 3)}, "x.safetensors", {"note": "hi"}, tmp_path)
    tensors, metadata = read_checked("x.safetensors", tmp_path)
    assert torch.equal(tensors["a"], torch.arange(6).reshape(2, 3)) and metadata == {"note": "hi"}
    assert (tmp_path / "SHA256SUMS").read_text() == f"{sha256(path)}  x.safetensors\n"  # sha256sum -c format
    write_checked({"b": torch.ones(1)}, "y.safetensors", {}, tmp_path)
    assert len((tmp_path / "SHA256SUMS").read_text().splitlines()) == 2  # the first entry is kept


def test_a_changed_byte_an_unlisted_file_and_a_missing_file_are_refused(tmp_path):
    path = write_checked({"a": torch.zeros(4)}, "x.safetensors", {}, tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the listed"):
        read_checked("x.safetensors", tmp_path)
    with pytest.raises(ValueError, match="not listed"):
        read_checked("other.safetensors", tmp_path)
    path.unlink()
    with pytest.raises(ValueError, match="missing"):
        read_checked("x.safetensors", tmp_path)


def test_a_pickle_under_a_listed_name_is_never_unpickled(tmp_path):
    class Bomb:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path = tmp_path / COURSE_MODEL
    path.write_bytes(pickle.dumps(Bomb()))
    (tmp_path / "SHA256SUMS").write_text(f"{sha256(path)}  {COURSE_MODEL}\n")  # listed, digest right
    with pytest.raises(ValueError, match="not a readable safetensors file"):  # parsed as data; nothing ran
        load_course_model(tmp_path)


def test_a_model_file_whose_tensors_do_not_fit_its_config_is_refused(tmp_path):
    small_model_file(tmp_path)
    assert isinstance(load_course_model(tmp_path)[0], UNet)
    tensors, metadata = read_checked(COURSE_MODEL, tmp_path)
    metadata["config"] = json.dumps({**SMALL.__dict__, "base_channels": 16})
    write_checked(tensors, COURSE_MODEL, metadata, tmp_path)
    with pytest.raises(ValueError, match="do not fit the model"):
        load_course_model(tmp_path)
    metadata["config"] = json.dumps({**SMALL.__dict__, "groups": 3})
    write_checked(tensors, COURSE_MODEL, metadata, tmp_path)
    with pytest.raises(ValueError, match="groups"):  # the config's own validation, before any layer is built
        load_course_model(tmp_path)
    small_model_file(tmp_path, SMALL.replace(num_classes=None))
    with pytest.raises(ValueError, match="num_classes=None"):
        load_course_model(tmp_path)


def test_the_shipped_files_are_small_and_listed():
    listed = {line.split()[1] for line in (ASSETS / "SHA256SUMS").read_text().splitlines()}
    assert listed == {COURSE_MODEL, CLASSIFIER, REAL_SAMPLE, TRAINING_SUBSET}
    assert sum((ASSETS / name).stat().st_size for name in listed) < 10 * 2**20
    assert (ASSETS / TRAINING_SUBSET).stat().st_size < 5 * 2**20  # lesson 09's 6,000 images, 4.7 MB


def test_the_shipped_sample_has_every_class_equally():
    pixels, labels = load_real_sample()
    assert pixels.shape == (1000, 28, 28) and pixels.dtype == torch.uint8
    assert labels.bincount().tolist() == [100] * len(FASHION_MNIST_CLASSES)


def test_the_shipped_classifier_recognises_the_real_sample():
    pixels, labels = load_real_sample()
    assert class_accuracy(load_classifier(), to_model_images(pixels), labels) > 0.85


def test_the_course_model_draws_the_class_asked_for():
    model, schedule, info = load_course_model()
    assert model.config.num_classes == len(FASHION_MNIST_CLASSES) and not model.training
    assert int(info["steps"]) >= 1000 and info["data"].startswith("Fashion-MNIST")
    labels = torch.arange(10).repeat_interleave(2)
    samples = ddim_sample(model, schedule, (20, 1, 32, 32), num_steps=10, y=labels, guidance_scale=2.0)
    assert samples.shape == (20, 1, 32, 32)
    assert class_accuracy(load_classifier(), samples, labels) >= 0.7  # chance is 0.1
