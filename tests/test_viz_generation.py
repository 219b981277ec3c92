"""Lesson 08's figures and explorers: they show what they claim, redraw on every control, and put an invalid
choice's message in the widget."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from unet_lessons.configs import UNetConfig
from unet_lessons.training import NoiseSchedule
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import alternative_of
from unet_lessons.viz.generation import class_grid_figure, image_row_figure, quality_figure, trajectory_figure
from unet_lessons.viz.generation_widgets import LARGEST_SEED, record_trajectory, sampler_explorer, trajectory_explorer

matplotlib.use("Agg")
NAMES = ("Cat", "Ankle boot", "T-shirt/top")
SCHEDULE = NoiseSchedule.linear(num_steps=50)


@pytest.fixture
def model():
    config = UNetConfig(image_size=8, in_channels=1, out_channels=1, base_channels=8, channel_mults=(1,),
                        num_res_blocks=1, attention_resolutions=(), groups=4, num_classes=3)
    return UNet(config).eval()


def test_class_grid_has_a_column_per_class_real_above_drawn():
    real, samples = torch.rand(6, 1, 8, 8) * 2 - 1, torch.rand(9, 1, 8, 8) * 2 - 1
    fig = class_grid_figure(samples, torch.arange(3).repeat(3), real, torch.arange(3).repeat(2), NAMES, "t")
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 3 * (2 + 3)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["Cat", "Ankle\nboot", "T-shirt/\ntop"]
    assert fig.axes[0].get_ylabel() == "real" and fig.axes[2 * 3].get_ylabel() == "drawn"
    # column 1 row 0 is the first real image of class 1
    assert torch.allclose(torch.tensor(fig.axes[1].images[0].get_array()), (real[1, 0] + 1) / 2)
    with pytest.raises(ValueError, match="every class"):
        class_grid_figure(samples[:2], torch.tensor([0, 1]), real, torch.arange(3).repeat(2), NAMES, "t")
    plt.close("all")


def test_trajectory_figure_shows_x_t_over_the_x0_guess():
    frames = [(t, torch.full((1, 8, 8), v), torch.full((1, 8, 8), -v)) for t, v in ((999, 0.5), (0, -0.5))]
    fig = trajectory_figure(frames, "walk")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["t = 999", "t = 0"]
    assert fig.axes[0].images[0].get_array()[0, 0] == pytest.approx(0.75)  # x_t of the first frame
    assert fig.axes[2].images[0].get_array()[0, 0] == pytest.approx(0.25)  # its x0 guess
    plt.close("all")


def test_quality_figure_draws_a_line_per_step_count_and_the_real_ceiling():
    accuracy = {(5, 0): 0.1, (5, 2): 0.6, (25, 0): 0.2, (25, 2): 0.9}
    fig = quality_figure(accuracy, 0.9, "q")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["DDIM, 5 steps", "DDIM, 25 steps", "real images"]
    assert list(lines[1].get_ydata()) == [20, 90] and lines[0].get_marker() != lines[1].get_marker()
    plt.close("all")


def test_image_row_figure_fills_rows():
    fig = image_row_figure(torch.zeros(10, 1, 8, 8), "row", columns=4)
    assert len([ax for ax in fig.axes if ax.images]) == 10 and len(fig.axes) == 12
    plt.close("all")


def test_image_row_figure_labels_each_row():
    fig = image_row_figure(torch.zeros(10, 1, 8, 8), "dress", columns=4, row_labels=("w = 0", "w = 1", "w = 2"))
    assert [fig.axes[row * 4].get_ylabel() for row in range(3)] == ["w = 0", "w = 1", "w = 2"]
    assert [ax.get_ylabel() for ax in fig.axes if ax not in fig.axes[::4]] == [""] * 9
    assert "3 rows of up to 4, labelled w = 0, w = 1, w = 2." in alternative_of(fig)["alt"]
    plt.close("all")


def test_class_grid_alternative_names_the_classes_and_the_real_and_drawn_rows():
    real, samples = torch.rand(6, 1, 8, 8) * 2 - 1, torch.rand(9, 1, 8, 8) * 2 - 1
    fig = class_grid_figure(samples, torch.arange(3).repeat(3), real, torch.arange(3).repeat(2), NAMES, "w = 2")
    alt = alternative_of(fig)["alt"]
    assert "greyscale 8x8 images, one column per class (3: Cat, Ankle boot, T-shirt/top)" in alt
    assert "2 rows of real images of the class on top" in alt and "3 rows of samples drawn for it" in alt
    assert alt.endswith("Titled “w = 2”.") and "table" not in alternative_of(fig)
    plt.close("all")


def test_trajectory_alternative_lists_the_steps_shown():
    frames = [(t, torch.zeros(1, 8, 8), torch.zeros(1, 8, 8)) for t in (999, 500, 0)]
    alt = alternative_of(trajectory_figure(frames, "walk"))["alt"]
    assert "one greyscale 8x8 image at 3 steps (columns, t = 999, 500, 0)" in alt and "walk" in alt
    one_step = [(7, torch.zeros(1, 8, 8), torch.zeros(1, 8, 8))]  # as the trajectory explorer draws it
    assert "at 1 step (columns, t = 7)" in alternative_of(trajectory_figure(one_step, "w"))["alt"]
    plt.close("all")


def test_quality_alternative_gives_every_accuracy_and_one_row_per_point():
    accuracy = {(5, 0): 0.1, (5, 2): 0.6, (25, 0): 0.2, (25, 1.5): 0.875, (25, 2): 0.9}
    fig = quality_figure(accuracy, 0.9, "q")
    alternative = alternative_of(fig)
    assert "5 steps: 10.0%, 60.0% at w = 0, 2; 25 steps: 20.0%, 87.5%, 90.0% at w = 0, 1.5, 2" in alternative["alt"]
    assert "real images 90.0% (dashed line)" in alternative["alt"]
    rows = alternative["table"]["rows"]
    points = sum(len(line.get_xdata()) for line in fig.axes[0].get_lines()[:-1])  # without the real-images line
    assert len(rows) == points == 5 and rows[3] == ["25", "1.5", "87.5%"]
    plt.close("all")


def test_image_row_alternative_says_how_many_images_in_how_many_rows():
    alt = alternative_of(image_row_figure(torch.zeros(10, 1, 8, 8), "row", columns=4))["alt"]
    assert alt == "A grid of 10 greyscale 8x8 images, 3 rows of up to 4. Titled “row”."
    plt.close("all")


def test_trajectory_explorer_walks_the_recorded_steps(model):
    frames = record_trajectory(model, SCHEDULE, label=1, num_steps=5, seed=0)
    assert [t for t, _, _ in frames] == [49, 37, 24, 12, 0] and frames[0][1].shape == (1, 8, 8)
    explorer = trajectory_explorer(frames, "walk")
    step, output = explorer.children
    first = output.outputs[0]["data"]["image/png"]
    step.value = 4
    assert output.outputs[0]["data"]["image/png"] != first
    assert plt.get_fignums() == []


def test_sampler_explorer_redraws_and_shows_an_invalid_choice_in_the_widget(model):
    explorer = sampler_explorer(model, SCHEDULE, NAMES, batch=2)
    (label, sampler, seed), (steps, eta, guidance) = explorer.children[0].children, explorer.children[1].children
    progress, output = explorer.children[2], explorer.children[3]
    assert label.value == 0 and label.options[1] == ("Ankle boot", 1)
    steps.value = 3
    assert (progress.value, progress.max) == (3, 3)  # the bar followed every step
    first = output.outputs[0]["data"]["image/png"]
    guidance.value = 4.0
    assert output.outputs[0]["data"]["image/png"] != first
    second = output.outputs[0]["data"]["image/png"]
    seed.value = 1
    assert output.outputs[0]["data"]["image/png"] != second
    eta.value = 0.5
    sampler.value = "ancestral"
    assert output.outputs[0]["output_type"] == "stream" and "eta=0.5 applies to DDIM only" in output.outputs[0]["text"]
    eta.value = 0.0
    assert "image/png" in output.outputs[0]["data"]


def test_sampler_explorer_offers_no_more_steps_than_the_schedule_has(model):
    explorer = sampler_explorer(model, NoiseSchedule.linear(num_steps=10), NAMES, batch=1)
    steps, output = explorer.children[1].children[0], explorer.children[3]
    assert (steps.value, steps.max) == (10, 10)  # 25 steps of 100 would be more than this schedule has
    assert "image/png" in output.outputs[0]["data"]
    assert sampler_explorer(model, SCHEDULE, NAMES, batch=1).children[1].children[0].max == 50


def test_sampler_explorer_draws_with_a_large_seed_and_says_when_a_seed_is_out_of_range(model):
    explorer = sampler_explorer(model, SCHEDULE, NAMES, batch=1)
    seed, steps, output = explorer.children[0].children[2], explorer.children[1].children[0], explorer.children[3]
    steps.value = 2
    seed.value = 10**12  # was clamped to 9999 without a word
    assert seed.value == 10**12 and "image/png" in output.outputs[0]["data"]
    assert "seed 1000000000000" in str(output.outputs[0]["metadata"])  # the figure's title: the seed typed
    for bad in (-1, LARGEST_SEED + 1):
        seed.value = bad
        assert seed.value == bad and output.outputs[0]["output_type"] == "stream"
        assert f"seed={bad} is out of range" in output.outputs[0]["text"]
        assert "from 0 to 9,007,199,254,740,991" in output.outputs[0]["text"]
