"""Lesson 06 builders: per-block figures along the depth, with exact zeros drawn on their own line."""

import pytest

from unet_lessons.analysis import trace_shapes
from unet_lessons.init import BlockStat
from unet_lessons.viz.alt_text import alternative_of
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


def test_per_block_alternative_gives_each_scheme_range_and_its_exact_zeros(tiny_config):
    schemes = {"a": _stats(tiny_config, [0.5, 2.0, 0.0]), "b": _stats(tiny_config, [1.0, 3.0, 4.0])}
    fig = gradient_norm_figure(schemes, tiny_config, title="after one step")
    alternative = alternative_of(fig)
    assert "L2 norm of each block's parameter gradient for 3 blocks" in alternative["alt"]
    assert "a: 0.500 to 2.00, exactly 0 at 1 of 3 blocks; b: 1.00 to 4.00." in alternative["alt"]
    assert alternative["alt"].endswith("Titled “after one step”.")
    data = alternative["table"]
    assert data["columns"] == ["block", "module", "a", "b"]
    assert len(data["rows"]) == len(fig.data[0].x) == len(fig.data[1].x)  # one row per block
    labels = block_labels(tiny_config)
    assert data["rows"][2] == [labels[schemes["a"][2].name], schemes["a"][2].name, "0", "4.00"]  # exact zero: "0"
    assert [row[0] for row in data["rows"]] == list(fig.layout.xaxis.ticktext)


def test_activation_alternative_says_what_is_measured(tiny_config):
    alternative = alternative_of(activation_std_figure({"a": _stats(tiny_config, [1.0, 1.0])}, tiny_config))
    assert "standard deviation of each block's output for 2 blocks" in alternative["alt"]
    assert "a: 1.00." in alternative["alt"] and "exactly 0" not in alternative["alt"]


def test_loss_curve_alternative_gives_first_and_last_loss_and_one_row_per_step():
    losses = {"a": [1.2, 1.1, 1.05], "b": [1.0, 0.99, 0.5]}
    fig = loss_curve_figure(losses)
    alternative = alternative_of(fig)
    assert "a: 1.20 at step 0, 1.05 at step 2; b: 1.00 at step 0, 0.500 at step 2" in alternative["alt"]
    rows = alternative["table"]["rows"]
    assert len(rows) == len(fig.data[0].x) and rows[1] == ["1", "1.10", "0.990"]
    long = alternative_of(loss_curve_figure({"a": [1 / (step + 1) for step in range(200)]}))["table"]["rows"]
    assert len(long) <= 52 and long[0][0] == "0" and long[-1] == ["199", "0.00500"]  # 1/200, decimals kept
