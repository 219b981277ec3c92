"""The configuration explorer: builds without a frontend, redraws on every control, survives bad input."""

import ipywidgets as widgets
import pytest

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.viz.architecture_widgets import CUSTOM, UNetExplorer, explorer_state, parse_ints, unet_explorer


def block_count(figure) -> int:
    (labels,) = [trace for trace in figure.data if trace.name == "blocks"]
    return len(labels.x)


def breakdown_total(figure) -> int:
    (components,) = [trace for trace in figure.data if trace.name == "component"]
    return sum(components.x)


@pytest.fixture(scope="module")
def explorer() -> UNetExplorer:
    return unet_explorer("chapter_example")


def test_explorer_builds_without_a_frontend_and_shows_the_preset(explorer):
    assert isinstance(explorer, widgets.VBox)
    config = PRESETS["chapter_example"].config
    assert explorer.config == config
    assert set(explorer.controls) == {"preset", "image_size", "base_channels", "channel_mults", "num_res_blocks",
                                      "attention_resolutions", "topology"}
    assert explorer.controls["channel_mults"].value == "1,2,2,4"
    assert explorer.controls["attention_resolutions"].value == "16,8"
    assert block_count(explorer.figures["hourglass"]) == len(trace_shapes(config))
    assert explorer.table.count("\n") + 1 == len(trace_shapes(config)) + 3  # header, rule, rows, total
    assert "✘" not in explorer.message.value


def test_changing_a_control_redraws_every_figure(explorer):
    explorer.controls["preset"].value = "chapter_example"
    before = explorer.figures
    explorer.controls["num_res_blocks"].value = 3
    config = PRESETS["chapter_example"].config.replace(num_res_blocks=3)
    rows = trace_shapes(config)
    assert explorer.config == config
    assert explorer.figures is not before
    assert block_count(explorer.figures["hourglass"]) == len(rows)
    assert breakdown_total(explorer.figures["breakdown"]) == sum(row.params for row in rows)
    assert len(explorer.table.splitlines()) == len(rows) + 3
    assert explorer.controls["preset"].value == CUSTOM  # no preset has three ResBlocks per level


def test_topology_and_text_controls_reach_the_config(explorer):
    explorer.controls["preset"].value = "light"
    explorer.controls["topology"].value = "ddpm"
    explorer.controls["attention_resolutions"].value = "16, 32"
    expected = PRESETS["light"].config.replace(topology="ddpm", attention_resolutions=(16, 32))
    assert explorer.config == expected
    skip_trace = next(trace for trace in explorer.figures["hourglass"].data if trace.legendgroup == "skip")
    assert len(skip_trace.meta) == sum(row.skip_from is not None for row in trace_shapes(expected))


@pytest.mark.parametrize("control, value, field", [
    ("image_size", 60, "image_size"),
    ("channel_mults", "1,2,x", "channel_mults"),
    ("attention_resolutions", "12", "attention_resolutions"),
    ("channel_mults", "", "channel_mults"),
    ("channel_mults", "1,2,2,99999999999", "channel_mults"),  # a weight larger than any tensor, even on meta
])
def test_invalid_value_shows_the_message_and_keeps_the_last_figures(explorer, control, value, field):
    explorer.controls["preset"].value = "chapter_example"
    good_config, good_figures, good_table = explorer.config, explorer.figures, explorer.table
    explorer.controls[control].value = value  # must not raise
    assert "✘" in explorer.message.value and field in explorer.message.value
    assert explorer.config == good_config
    assert explorer.figures is good_figures and explorer.table == good_table
    explorer.controls["preset"].value = "light"  # a preset repairs every control
    assert "✘" not in explorer.message.value and explorer.config == PRESETS["light"].config


def test_choosing_the_same_preset_again_repairs_an_invalid_combination(explorer):
    explorer.controls["preset"].value = "light"
    explorer.controls["image_size"].value = 40  # four levels need a multiple of 8
    assert "✘" in explorer.message.value and "image_size=40" in explorer.message.value
    assert explorer.controls["preset"].value == CUSTOM  # the controls match no preset any more...
    explorer.controls["preset"].value = "light"  # ...so choosing "light" again is a change, and repairs them
    assert "✘" not in explorer.message.value and explorer.config == PRESETS["light"].config
    assert explorer.controls["image_size"].value == 64


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_sets_the_controls_and_draws(explorer, name):
    explorer.controls["preset"].value = name
    config = PRESETS[name].config
    assert explorer.config == config
    assert explorer.controls["image_size"].value == config.image_size
    assert explorer.controls["num_res_blocks"].value == config.num_res_blocks
    assert block_count(explorer.figures["hourglass"]) == len(trace_shapes(config))
    assert f"{sum(row.params for row in trace_shapes(config)):,}" in explorer.message.value


def test_explorer_starts_on_any_preset_and_rejects_unknown_ones():
    assert unet_explorer("highres").config == PRESETS["highres"].config
    with pytest.raises(ValueError, match="preset='nope'"):
        unet_explorer("nope")


def test_explorer_state_is_pure_and_raises_for_invalid_configs():
    config = PRESETS["light"].config
    state = explorer_state(config)
    assert set(state) == {"hourglass", "breakdown", "table", "parameters"}
    assert state["parameters"] == breakdown_total(state["breakdown"])
    with pytest.raises(ValueError, match="image_size"):
        explorer_state(UNetConfig(image_size=60))


def test_parse_ints():
    assert parse_ints("channel_mults", " 1, 2,2 ,4") == (1, 2, 2, 4)
    assert parse_ints("attention_resolutions", "") == ()
    with pytest.raises(ValueError, match="channel_mults='1,two'"):
        parse_ints("channel_mults", "1,two")
    with pytest.raises(ValueError, match="attention_resolutions='16;x'.*e.g. 16,8"):
        parse_ints("attention_resolutions", "16;x", "16,8")
