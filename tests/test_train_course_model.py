"""make course-model: an interrupted run, resumed, writes exactly what one uninterrupted run writes."""

import json

import pytest
import torch

import tools.train_course_model as script
from unet_lessons.configs import UNetConfig
from unet_lessons.course_files import COURSE_MODEL, load_course_model, read_checked
from unet_lessons.training import shapes_dataset

SMALL = UNetConfig(image_size=8, in_channels=1, out_channels=1, base_channels=8, channel_mults=(1,),
                   num_res_blocks=1, attention_resolutions=(), groups=4, num_classes=3)


@pytest.fixture
def data():
    images, labels = shapes_dataset(16, size=8, return_labels=True)
    return images[:, :1], labels


def build(data, folder, work):
    script.build_course_model(*data, steps=6, config=SMALL, folder=folder, work=work, chunk_steps=2)
    return read_checked(COURSE_MODEL, folder)


def test_an_interrupted_run_resumes_to_the_same_weights(data, tmp_path, monkeypatch):
    whole, whole_info = build(data, tmp_path / "a", tmp_path / "work-a")
    calls, real_train = [], script.train

    def interrupted_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(script, "train", interrupted_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        build(data, tmp_path / "b", tmp_path / "work-b")
    assert not (tmp_path / "b" / COURSE_MODEL).exists()
    assert read_checked(script.CHECKPOINT, tmp_path / "work-b")[1]["done"] == "2"
    monkeypatch.setattr(script, "train", real_train)
    resumed, resumed_info = build(data, tmp_path / "b", tmp_path / "work-b")
    assert resumed.keys() == whole.keys() and all(torch.equal(whole[k], resumed[k]) for k in whole)
    assert resumed_info["loss_per_chunk"] == whole_info["loss_per_chunk"]
    assert [entry["from_step"] for entry in json.loads(resumed_info["commits"])] == [0, 2]
    model, schedule, info = load_course_model(tmp_path / "b")
    assert model.config == SMALL and info["steps"] == "6" and schedule.num_steps == 1000


def test_a_finished_model_is_not_trained_again(data, tmp_path, monkeypatch, capsys):
    build(data, tmp_path / "a", tmp_path / "work")
    monkeypatch.setattr(script, "train", lambda *args, **kwargs: pytest.fail("trained again"))
    build(data, tmp_path / "a", tmp_path / "work")
    assert "up to date" in capsys.readouterr().out
    with pytest.raises(pytest.fail.Exception, match="trained again"):  # unless asked to
        script.build_course_model(*data, steps=6, config=SMALL, folder=tmp_path / "a", work=tmp_path / "work2",
                                  chunk_steps=2, retrain=True)
