"""Lesson 06 builders: per-block figures along the depth, with exact zeros drawn on their own line."""

import pytest

from unet_lessons.analysis import trace_shapes
from unet_lessons.init import BlockStat
from unet_lessons.viz.init_stats import activation_std_figure, block_labels, gradient_norm_figure, loss_curve_figure


def _stats(config, values):
    rows = trace_shapes(config)[:len(values)]
    return [BlockStat(row.name, row.kind, value) for row, value in zip(rows, values)]


def test_block_labels_name_stage_and_level(tiny_config):
    labels = block_labels(tiny_config)
    assert labels["init_conv"] == "InitConv"
    assert labels["encoder.levels.1.res_blocks.0"] == "E1 Res"
    assert labels["bottleneck.attn"] == "B Attn"
    assert labels["decoder.levels.0.upsample"] == "D0 Up"  # the number in the module name: one numbering


def test_one_trace_per_scheme_and_zeros_on_the_zero_line(tiny_config):
    schemes = {"a": _stats(tiny_config, [0.5, 2.0, 0.0]), "b": _stats(tiny_config, [1.0, 3.0, 4.0])}
    fig = gradient_norm_figure(schemes, tiny_config)
    assert [trace.name for trace in fig.data] == ["a", "b"]
    zero_line = fig.data[0].y[2]
    assert 0 < zero_line < 0.5  # below every positive value, drawable on the log axis
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.ticktext[0] == "0 (exact)" and fig.layout.yaxis.tickvals[0] == zero_line
    assert list(fig.data[1].y) == [1.0, 3.0, 4.0]
    assert len({trace.marker.symbol for trace in fig.data}) == 2  # schemes differ by more than colour


def test_activation_figure_needs_a_scheme_and_labels_zero_only_when_drawn(tiny_config):
    fig = activation_std_figure({"a": _stats(tiny_config, [1.0, 2.0])}, tiny_config)
    assert fig.data[0].x == (0, 1)
    assert "0 (exact)" not in fig.layout.yaxis.ticktext
    assert all(shape.line.dash != "dot" for shape in fig.layout.shapes)  # no zero line either
    with pytest.raises(ValueError, match="at least one scheme"):
        activation_std_figure({}, tiny_config)


def test_loss_curve_figure_has_one_line_per_scheme_and_the_zero_level():
    fig = loss_curve_figure({"a": [1.2, 1.1], "b": [1.0, 0.99]})
    assert [trace.name for trace in fig.data] == ["a", "b"]
    assert list(fig.data[1].y) == [1.0, 0.99]
    assert any(shape.y0 == 1.0 for shape in fig.layout.shapes)
