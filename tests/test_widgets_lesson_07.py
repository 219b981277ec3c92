"""Tests for the lesson 07 explorer in unet_lessons/viz/widgets.py: move the slider, the figure changes."""

import matplotlib.pyplot as plt

from unet_lessons.init import initialize_weights
from unet_lessons.training import NoiseSchedule, shapes_dataset, train
from unet_lessons.unet import UNet
from unet_lessons.viz.widgets import denoising_explorer


def test_denoising_explorer_redraws_for_a_new_t(tiny_config):
    schedule = NoiseSchedule.linear()
    model = initialize_weights(UNet(tiny_config))
    train(model, shapes_dataset(8, 16), schedule, steps=2, batch_size=8)
    explorer = denoising_explorer(model, shapes_dataset(1, 16), schedule)
    (t, seed), output = explorer.children[0].children, explorer.children[1]
    first = output.outputs[0]["data"]["image/png"]
    t.value = 900
    second = output.outputs[0]["data"]["image/png"]
    assert first != second
    assert plt.get_fignums() == []  # figures are closed after rendering
