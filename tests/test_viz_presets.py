"""The presets comparison builders: rows, tables and figures carry the measured numbers."""

import pytest
import torch

from unet_lessons.analysis import count_forward_flops, count_parameters, forward_memory
from unet_lessons.configs import PRESETS
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import alternative_of
from unet_lessons.viz.presets import (
    GFLOP,
    MB,
    alternatives_rows,
    alternatives_table,
    cost_by_part_figure,
    cost_by_part_rows,
    cost_by_part_table,
    label_check_table,
    label_count,
    preset_cost_figure,
    preset_cost_rows,
    preset_cost_table,
)

NAMES = ["light", "chapter_example"]


@pytest.fixture(scope="module")
def rows():
    return preset_cost_rows(NAMES)


def meta_count(config) -> int:
    with torch.device("meta"):
        return count_parameters(UNet(config))


@pytest.mark.parametrize("label, expected", [
    ("~8M", 8_000_000), ("~35M", 35_000_000), ("~100M+", 100_000_000), ("35.7M (paper)", 35_700_000),
    ("114M (paper)", 114_000_000),
])
def test_label_count_reads_the_number_in_millions(label, expected):
    assert label_count(label) == expected


def test_label_count_rejects_a_label_without_millions():
    with pytest.raises(ValueError, match="label="):
        label_count("small")


def test_rows_hold_the_measured_numbers(rows):
    assert [row["name"] for row in rows] == NAMES
    for row in rows:
        config = PRESETS[row["name"]].config
        memory = forward_memory(config)
        assert row["params"] == meta_count(config)
        assert row["flops"] == count_forward_flops(config)
        assert (row["parameter_bytes"], row["activation_bytes"], row["skip_bytes"]) == (
            memory["parameters"], memory["activations"], memory["skips"])
        assert row["parameter_bytes"] == 4 * row["params"]
        assert row["label"] == PRESETS[row["name"]].chapter_label


def test_every_preset_has_a_row_by_default():
    assert [row["name"] for row in preset_cost_rows()] == list(PRESETS)


def test_tables_print_counts_and_rounded_costs(rows):
    table = preset_cost_table(rows)
    for row in rows:
        line = next(line for line in table.splitlines() if line.startswith(row["name"] + " "))
        assert f"{row['params']:,}" in line
        assert f"{row['flops'] / GFLOP:.2f}" in line
        assert f"{row['activation_bytes'] / MB:.1f}" in line
    checks = label_check_table(rows)
    for row in rows:
        assert f"{row['params'] - row['label_count']:+,}" in checks


def test_figure_bars_are_the_rows(rows):
    figure = preset_cost_figure(rows)
    by_name = {trace.name: trace for trace in figure.data}
    assert list(by_name["parameters (measured)"].x) == [row["params"] / 1e6 for row in rows]
    assert list(by_name["the preset's label"].x) == [row["label_count"] / 1e6 for row in rows]
    assert list(by_name["GFLOPs"].x) == [row["flops"] / GFLOP for row in rows]
    activations = by_name["block outputs (activations)"]
    assert list(activations.base) == [row["parameter_bytes"] / MB for row in rows]  # stacked on the parameters


def test_parts_sum_to_the_model_totals():
    config = PRESETS["chapter_example"].config
    parts = cost_by_part_rows(config)
    assert sum(row["params"] for row in parts) == meta_count(config)
    assert sum(row["flops"] for row in parts) == count_forward_flops(config)
    stages = [row["stage"] for row in parts]
    levels = len(config.channel_mults)
    assert stages == ["encoder"] * levels + ["bottleneck"] + ["decoder"] * levels + ["other"]
    resolutions = [row["resolution"] for row in parts]
    assert resolutions[:levels] == list(config.level_resolutions)
    assert resolutions[levels + 1:-1] == list(reversed(config.level_resolutions))
    assert "total" in cost_by_part_table(config).splitlines()[-1]


def test_parts_figure_shares_sum_to_100():
    figure = cost_by_part_figure(PRESETS["light"].config)
    assert [trace.name for trace in figure.data] == ["share of parameters", "share of FLOPs"]
    for trace in figure.data:
        assert sum(trace.x) == pytest.approx(100)


def test_alternatives_measure_each_change():
    config = PRESETS["chapter_example"].config
    target = 35_035_136
    rows = alternatives_rows(config, {"as is": {}, "base 96": {"base_channels": 96}}, target)
    assert rows[0]["params"] == meta_count(config)
    assert rows[1]["params"] == meta_count(config.replace(base_channels=96))
    assert rows[1]["difference"] == rows[1]["params"] - target
    table = alternatives_table(rows).splitlines()
    assert table[2].startswith("base 96")  # the closer one comes first


def test_an_invalid_alternative_says_why():
    with pytest.raises(ValueError, match="groups"):
        alternatives_rows(PRESETS["chapter_example"].config, {"odd": {"base_channels": 100}}, 1)


def test_preset_figure_describes_every_preset():
    rows = preset_cost_rows()  # as the lesson draws it: every preset
    figure = preset_cost_figure(rows)
    alternative = alternative_of(figure)
    alt, table_rows = alternative["alt"], alternative["table"]["rows"]
    assert len(alt) <= 420
    (measured,) = [trace for trace in figure.data if trace.name == "parameters (measured)"]
    assert len(table_rows) == len(measured.y) == len(PRESETS)  # one row per preset, in the figure's order
    assert [row[0] for row in table_rows] == list(measured.y)
    assert [row[1] for row in table_rows] == [f"{meta_count(PRESETS[name].config):,}" for name in PRESETS]
    largest = max(PRESETS, key=lambda name: meta_count(PRESETS[name].config))
    smallest = min(PRESETS, key=lambda name: count_forward_flops(PRESETS[name].config))
    assert f"to {meta_count(PRESETS[largest].config) / 1e6:.1f}M ({largest})" in alt
    assert f"GFLOPs from {count_forward_flops(PRESETS[smallest].config) / GFLOP:.1f} ({smallest})" in alt
    assert f"{len(PRESETS)} presets" in alt


def test_parts_figure_describes_every_part():
    config = PRESETS["chapter_example"].config
    figure = cost_by_part_figure(config)
    alternative = alternative_of(figure)
    alt, table_rows = alternative["alt"], alternative["table"]["rows"]
    assert len(alt) <= 420
    total = meta_count(config)
    assert f"the {total:,} parameters" in alt and f"{count_forward_flops(config) / GFLOP:.1f} GFLOPs" in alt
    parts = cost_by_part_rows(config)
    heaviest = max(parts, key=lambda row: row["params"])
    busiest = max(parts, key=lambda row: row["flops"])
    assert f"Most parameters: {heaviest['part']} ({100 * heaviest['params'] / total:.1f}%)" in alt
    assert f"Most compute: {busiest['part']} ({100 * busiest['flops'] / count_forward_flops(config):.1f}%)" in alt
    assert all(len(trace.y) == len(table_rows) for trace in figure.data)  # one row per pair of bars
    assert [row[0] for row in table_rows] == list(figure.data[0].y)
    assert [row[2] for row in table_rows] == list(figure.data[0].text)  # the shares, as the bars print them
