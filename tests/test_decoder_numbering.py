"""One numbering of the levels everywhere: a level's number is its resolution's (0 = full resolution) on both
sides of the U-Net, in the module names, the trace, the figures and the lessons' diagrams."""

import re
from pathlib import Path

import nbformat
import pytest

from unet_lessons.analysis import count_parameters_by_level, trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.unet import UNet
from unet_lessons.viz.hourglass import hourglass_figure
from unet_lessons.viz.init_stats import block_labels

ROOT = Path(__file__).resolve().parents[1]
LEVEL_NAME = re.compile(r"^(encoder|decoder)\.levels\.(\d+)\.")


@pytest.mark.parametrize("preset", ["tiny", "ddpm", "ddpm_cifar10"])
def test_a_level_has_the_same_number_and_resolution_on_both_sides(preset):
    config = PRESETS[preset].config
    rows = trace_shapes(config)
    for row in rows:
        match = LEVEL_NAME.match(row.name)
        if match:
            assert row.level == int(match[2]), row
            assert row.out_shape[-1] == config.level_resolutions[row.level] or row.kind in ("Downsample", "Upsample")
    # every skip goes from encoder.levels.i (or, in the DDPM topology, init_conv or a Downsample) to decoder.levels.i
    by_index = {row.index: row for row in rows}
    for row in rows:
        if row.skip_from is not None:
            source = by_index[row.skip_from]
            assert source.out_shape[-1] == config.level_resolutions[row.level], (source.name, row.name)
            if source.kind == "ResBlock" or source.kind == "Attention":
                assert LEVEL_NAME.match(source.name)[2] == LEVEL_NAME.match(row.name)[2], (source.name, row.name)


def test_by_level_counts_use_the_module_of_that_number():
    model = UNet(PRESETS["tiny"].config)
    for row in count_parameters_by_level(model):
        level = row["level"]
        assert row["decoder"] == sum(p.numel() for p in model.decoder.levels[level].parameters())


def test_figures_show_names_the_trace_returns():
    config = UNetConfig(image_size=32, base_channels=32, channel_mults=(1, 2, 2), attention_resolutions=(8,), groups=8)
    names = {row.name for row in trace_shapes(config)}
    figure = hourglass_figure(config)
    shown = {match for trace in figure.data for text in (trace.hovertext or ())
             for match in re.findall(r"<b>([\w.]+)</b>", str(text))}
    assert shown and shown <= names
    labels = block_labels(config)
    assert set(labels) <= names
    for name, label in labels.items():  # "D2 Res" names decoder.levels.2
        match = LEVEL_NAME.match(name)
        if match:
            assert label.startswith(f"{match[1][0].upper()}{match[2]} "), (name, label)


@pytest.mark.parametrize("lesson", ["00_overview.ipynb", "04_assembly.ipynb"])
def test_the_diagrams_number_levels_as_the_code_does(lesson):
    # the text diagrams of the default configuration: "decoder level 2   16×16, 256 ch"
    config = UNetConfig()
    notebook = nbformat.read(ROOT / "notebooks" / lesson, as_version=4)
    found = [(side, int(level), int(size)) for cell in notebook.cells if cell.cell_type == "markdown"
             for side, level, size in re.findall(r"(encoder|decoder) level (\d)\s+(\d+)×\d+", cell.source)]
    assert len(found) == 2 * len(config.channel_mults)
    for side, level, size in found:
        assert size == config.level_resolutions[level], (side, level, size)
