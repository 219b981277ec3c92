"""Tests for unet_lessons/viz/training.py: the figures of lesson 07 show what they claim."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from unet_lessons.init import initialize_weights
from unet_lessons.training import NoiseSchedule, shapes_dataset
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import alternative_of
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


def test_forward_process_alternative_gives_the_signal_at_each_step():
    alternative = alternative_of(forward_process_figure(shapes_dataset(2, 16), SCHEDULE, timesteps=(0, 500, 999)))
    signal = SCHEDULE.alpha_bars[500].sqrt().item()
    assert alternative["alt"].startswith("A grid of 2 16x16 training images (rows), each noised to 3 steps")
    assert f"t = 500 (signal {signal:.2f})" in alternative["alt"] and "t = 999 (signal 0.01)" in alternative["alt"]
    assert [row[0] for row in alternative["table"]["rows"]] == ["0", "500", "999"]


def test_loss_curve_alternative_gives_the_ends_and_a_row_per_step_and_checkpoint():
    history = [1.0, 0.8, 0.6, 0.4]
    fig = loss_curve_figure(history, held_out={0: 1.0, 4: 0.5}, smoothing=2)
    alternative = alternative_of(fig)
    assert "over 4 steps" in alternative["alt"]
    assert "1.00 at step 1, 0.400 at the end (mean 0.500); held-out loss 1.00 at step 0, 0.500 at step 4" \
        in alternative["alt"]
    rows = alternative["table"]["rows"]
    assert rows[0] == ["0", "", "", "1.00"]  # the held-out loss before training
    assert [row[1] for row in rows[1:]] == ["1.00", "0.800", "0.600", "0.400"]  # decimals kept, 1.0 too
    assert [float(row[2]) for row in rows[1:]] == pytest.approx(list(fig.data[1].y))


def test_loss_curve_table_of_a_long_run_keeps_every_checkpoint_and_the_last_step():
    history = [1 / step for step in range(1, 301)]
    held_out = {0: 1.0, 150: 0.05, 300: 0.033}
    fig = loss_curve_figure(history, held_out)
    alternative = alternative_of(fig)
    assert "0.00333 at the end" in alternative["alt"] and "0.0330 at step 300" in alternative["alt"]
    rows = {int(row[0]): row for row in alternative["table"]["rows"]}
    assert len(rows) <= 52 and {0, 1, 150, 300} <= set(rows)
    for step, row in rows.items():
        if step:
            assert float(row[1]) == pytest.approx(fig.data[0].y[step - 1], rel=5e-3)
    assert rows[300][3] == "0.0330" and rows[1][3] == ""


def test_held_out_curves_alternative_gives_each_run_and_one_row_per_checkpoint():
    runs = {"intact": {0: 1.0, 25: 0.4, 50: 0.2}, "no time": {0: 1.0, 25: 0.5, 50: 0.31}}
    fig = held_out_curves_figure(runs, title="after 50 steps")
    alternative = alternative_of(fig)
    assert "for 2 runs: intact: 1.00 at step 0, 0.200 at step 50; no time: 1.00 at step 0, 0.310 at step 50." \
        in alternative["alt"]
    assert alternative["alt"].endswith("Titled “after 50 steps”.")
    assert alternative["table"]["columns"] == ["training step", "intact", "no time"]
    rows = alternative["table"]["rows"]
    assert [int(row[0]) for row in rows] == list(fig.data[0].x)
    assert [float(row[2]) for row in rows] == list(fig.data[1].y)


def test_estimates_and_denoising_alternatives_give_the_noise_mse_the_panels_show(tiny_config):
    zero = initialize_weights(UNet(tiny_config))
    x0 = shapes_dataset(1, 16)
    fig = estimates_figure({"zero": zero}, x0, SCHEDULE, t=250)
    alternative = alternative_of(fig)
    mse = fig.axes[2].get_xlabel().removeprefix("noise MSE ")
    assert f"zero (noise MSE {mse})" in alternative["alt"] and "noised to t = 250" in alternative["alt"]
    assert alternative["table"]["rows"] == [["zero", mse]]
    fig = denoising_figure(zero, x0, SCHEDULE, timesteps=(10, 900))
    alternative = alternative_of(fig)
    mses = [fig.axes[5 * row + 3].get_xlabel().removeprefix("MSE ") for row in range(2)]
    assert alternative["alt"].startswith("A grid of 2 rows, one per timestep, and 5 columns")
    assert f"is {mses[0]} at t = 10, {mses[1]} at t = 900." in alternative["alt"]
    assert alternative["table"]["rows"] == [["10", mses[0]], ["900", mses[1]]]


def test_image_figures_say_how_many_images_and_how_they_are_laid_out():
    alternative = alternative_of(image_grid_figure(shapes_dataset(5, 16), columns=3, title="five shapes"))
    assert alternative["alt"] == "A grid of 5 colour 16x16 images, 2 rows of up to 3. Titled “five shapes”."
    assert "table" not in alternative
    alternative = alternative_of(samples_figure(shapes_dataset(3, 16), shapes_dataset(4, 16, seed=1), num_steps=50))
    assert "3 samples generated in 50 sampling steps (top) above 4 training images (bottom)" in alternative["alt"]
