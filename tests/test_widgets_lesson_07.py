"""Tests for the lesson 07 explorer in unet_lessons/viz/training_widgets.py: move the slider, the figure changes."""

import matplotlib.pyplot as plt

from unet_lessons.init import initialize_weights
from unet_lessons.training import NoiseSchedule, shapes_dataset, train
from unet_lessons.unet import UNet
from unet_lessons.viz.training_widgets import denoising_explorer, progress_bar


def test_denoising_explorer_redraws_for_a_new_t(tiny_config):
    schedule = NoiseSchedule.linear()
    model = initialize_weights(UNet(tiny_config))
    train(model, shapes_dataset(8, 16), schedule, steps=2, batch_size=8)
    explorer = denoising_explorer(model, shapes_dataset(1, 16), schedule)
    t, output = explorer.children[0].children[0], explorer.children[1]
    first = output.outputs[0]["data"]["image/png"]
    t.value = 900
    second = output.outputs[0]["data"]["image/png"]
    assert first != second
    assert plt.get_fignums() == []  # figures are closed after rendering


def test_progress_bar_follows_training(tiny_config):
    widget, on_step = progress_bar(3)
    bar, label = widget.children
    assert (bar.value, bar.max) == (0, 3)
    train(initialize_weights(UNet(tiny_config)), shapes_dataset(4, 16), NoiseSchedule.linear(), steps=3,
          batch_size=4, on_step=on_step)
    assert bar.value == 3
    assert label.value.startswith("step 3/3, loss ")
