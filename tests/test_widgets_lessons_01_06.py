"""Lesson 01 and 06 explorers: moving a control changes what the Output shows; bad input shows a message."""

from unet_lessons.data import sample_photo
from unet_lessons.viz.block_widgets import resblock_explorer
from unet_lessons.viz.style import use_course_style
from unet_lessons.viz.training_widgets import init_explorer


def _text(output):
    return "".join(item.get("text", "") for item in output.outputs)


def _plotly_figures(output):
    return [item for item in output.outputs if "application/vnd.plotly.v1+json" in item.get("data", {})]


def test_resblock_explorer_updates_and_shows_errors():
    use_course_style()  # plotly's renderer: the figure as its JSON mimetype
    explorer = resblock_explorer(sample_photo(16))
    (in_control, out_control, groups_control), output = explorer.children[0].children, explorer.children[1]
    assert "1x1 conv" in _text(output)
    assert len(_plotly_figures(output)) == 1  # the output split into shortcut and branch, beside the text
    out_control.value = 64
    assert "shortcut: identity" in _text(output)
    in_control.value = 24
    assert "⚠️" in _text(output) and "in_channels=24 is not divisible by groups=32" in _text(output)
    assert "groups=8 fits both" in _text(output)  # a value the groups menu offers, and it works:
    groups_control.value = 8
    assert "⚠️" not in _text(output) and "in_channels=24" in _text(output)
    assert "ResBlock(24 → 64, groups=8)" in str(_plotly_figures(output)[0]["data"]["application/vnd.plotly.v1+json"]["layout"]["title"])


def test_init_explorer_redraws_and_needs_a_scheme(tiny_config):
    use_course_style()  # as every notebook does: plotly figures become plotly-JSON outputs
    config = tiny_config.replace(base_channels=8)
    explorer = init_explorer(config, base_channel_choices=(8, 16))
    boxes = explorer.children[0].children
    timestep, base_channels, steps = explorer.children[1].children
    output = explorer.children[2]
    assert len(_plotly_figures(output)) == 2 and "t = 500" in _text(output)
    timestep.value = 10
    assert "t = 10" in _text(output)
    steps.value = 1
    assert "after 1 Adam step" in _text(output)
    for box in boxes:
        box.value = False
    assert "⚠️ No scheme ticked" in _text(output)
    boxes[0].value = True
    assert "PyTorch default" in _text(output) and "chapter" not in _text(output)
    base_channels.value = 16
    assert len(_plotly_figures(output)) == 2
