"""Tests for unet_lessons/viz/training.py: the figures of lesson 07 show what they claim."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from unet_lessons.init import initialize_weights
from unet_lessons.training import NoiseSchedule, shapes_dataset
from unet_lessons.unet import UNet
from unet_lessons.viz.training import (
    BASELINE_LABEL,
    denoising_figure,
    estimates_figure,
    forward_process_figure,
    held_out_curves_figure,
    image_grid_figure,
    loss_curve_figure,
    samples_figure,
)

SCHEDULE = NoiseSchedule.linear()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_forward_process_figure_has_one_panel_per_image_and_step():
    images = shapes_dataset(2, 16)
    fig = forward_process_figure(images, SCHEDULE, timesteps=(0, 500, 999))
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "t = 0\nsignal 1.00"
    assert fig.axes[2].get_title() == "t = 999\nsignal 0.01"
    clean_panel = fig.axes[0].images[0].get_array()
    assert clean_panel.shape == (16, 16, 3)


def test_loss_curve_figure_traces_and_baseline():
    history = [1.0, 0.8, 0.6, 0.4]
    fig = loss_curve_figure(history, held_out={0: 1.0, 4: 0.5}, smoothing=2)
    raw, running, held_out = fig.data
    assert list(raw.y) == history
    assert list(running.y) == pytest.approx([1.0, 0.9, 0.7, 0.5])
    assert list(held_out.x) == [0, 4]
    assert fig.layout.shapes[0].y0 == 1.0 and fig.layout.annotations[0].text == BASELINE_LABEL
    assert fig.layout.yaxis.type == "log" and 10 ** fig.layout.yaxis.range[1] > 1.0  # the baseline is in view
    assert 10 ** fig.layout.annotations[0].y == 1.0  # its label too: a log axis places annotations by log10


def test_held_out_curves_figure_one_labelled_curve_per_run():
    runs = {"intact": {0: 1.0, 25: 0.4, 50: 0.2}, "no time": {0: 1.0, 25: 0.5, 50: 0.31}}
    fig = held_out_curves_figure(runs, title="after 50 steps")
    assert [trace.name for trace in fig.data] == ["intact: 0.200 at step 50", "no time: 0.310 at step 50"]
    assert list(fig.data[1].x) == [0, 25, 50] and list(fig.data[1].y) == [1.0, 0.5, 0.31]
    assert fig.data[0].line.color != fig.data[1].line.color
    assert fig.data[0].marker.symbol != fig.data[1].marker.symbol
    # a curve drawn over another leaves it visible: the later one is thinner and dashed
    assert fig.data[1].line.width < fig.data[0].line.width and fig.data[1].line.dash != fig.data[0].line.dash
    assert fig.layout.title.text == "after 50 steps" and fig.layout.shapes[0].y0 == 1.0
    assert fig.layout.yaxis.type == "log" and 10 ** fig.layout.yaxis.range[0] <= 0.01


def test_estimates_figure_one_panel_per_model(tiny_config):
    zero = initialize_weights(UNet(tiny_config))  # predicts zero noise: its estimate is x_t / sqrt(abar_t)
    x0 = shapes_dataset(1, 16)
    fig = estimates_figure({"zero": zero, "also zero": initialize_weights(UNet(tiny_config))}, x0, SCHEDULE, t=0)
    assert [ax.get_title() for ax in fig.axes] == ["clean x₀", "noisy x_t (t = 0)", "zero:\nx₀ estimate",
                                                   "also zero:\nx₀ estimate"]
    # At t = 0 almost no noise was added: the zero model's estimate is the clean image up to ~0.01.
    assert np.abs(fig.axes[2].images[0].get_array() - fig.axes[0].images[0].get_array()).max() < 0.05
    assert fig.axes[2].get_xlabel().startswith("noise MSE ")


def test_denoising_figure_rows_and_a_zero_model_predicts_zero(tiny_config):
    model = initialize_weights(UNet(tiny_config))  # zero output: predicted noise is 0, its MSE about 1
    fig = denoising_figure(model, shapes_dataset(1, 16), SCHEDULE, timesteps=(10, 900))
    assert len(fig.axes) == 10
    assert [ax.get_title() for ax in fig.axes[:5]][3] == "predicted noise"
    predicted_panel = np.asarray(fig.axes[3].images[0].get_array())
    assert np.allclose(predicted_panel, 0.5)  # zero shown as mid-grey
    mse = float(fig.axes[3].get_xlabel().removeprefix("MSE "))
    assert mse == pytest.approx(1.0, abs=0.1)  # predicting zero scores about Var(noise) on one image


def test_samples_figure_two_rows():
    fig = samples_figure(shapes_dataset(3, 16), shapes_dataset(4, 16, seed=1), num_steps=50)
    assert len(fig.axes) == 8
    assert fig.axes[0].get_ylabel() == "sampled\n(50 steps)"
    assert len(fig.axes[3].images) == 0 and len(fig.axes[7].images) == 1  # 3 samples, 4 training images


def test_image_grid_figure_shows_each_image_once():
    images = shapes_dataset(5, 16)
    fig = image_grid_figure(images, columns=3, title="five shapes")
    assert len(fig.axes) == 6
    assert [len(ax.images) for ax in fig.axes] == [1, 1, 1, 1, 1, 0]
    assert np.allclose(fig.axes[4].images[0].get_array(), (images[4].permute(1, 2, 0).numpy() + 1) / 2)
    assert fig._suptitle.get_text() == "five shapes"
