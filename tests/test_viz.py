"""The pure figure and table builders of unet_lessons.viz: hourglass, shapes, breakdown, scaling."""

from collections import namedtuple

import pytest
import torch

from unet_lessons.analysis import (
    count_parameters,
    count_parameters_by_component,
    count_parameters_by_kind,
    count_parameters_by_level,
    trace_shapes,
)
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.unet import UNet
from unet_lessons.viz._common import cached_trace, format_shape, meta_model, rounded
from unet_lessons.viz.alt_text import alternative_of
from unet_lessons.viz.breakdown import breakdown_figure, breakdown_table
from unet_lessons.viz.hourglass import BOX_LABELS, hourglass_figure
from unet_lessons.viz.scaling import KNOBS, scaling_figure, scaling_rows
from unet_lessons.viz.shapes import shape_plot, shape_table

DDPM_CONFIG = UNetConfig(image_size=32, channel_mults=(1, 2, 2, 2), attention_resolutions=(16,), topology="ddpm")

CONFIGS = {
    "chapter_example": PRESETS["chapter_example"].config,
    "highres": PRESETS["highres"].config,
    "ddpm_topology": DDPM_CONFIG,
    "tiny": UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                       attention_resolutions=(8,), groups=8),
}


Box = namedtuple("Box", "x0 x1 y0 y1 opacity")


def boxes(figure):
    """{block name: (x0, x1, y0, y1, opacity)} from the filled box traces (rectangles separated by None)."""
    drawn = {}
    for trace in figure.data:
        if trace.fill != "toself":
            continue
        corners = [(x, y) for x, y in zip(trace.x, trace.y) if x is not None]
        rectangles = [corners[i:i + 5] for i in range(0, len(corners), 5)]
        assert len(rectangles) == len(trace.meta) and trace.x.count(None) == len(trace.meta)
        for name, rectangle in zip(trace.meta, rectangles):
            xs, ys = [x for x, _ in rectangle], [y for _, y in rectangle]
            assert name not in drawn  # drawn once
            drawn[name] = Box(min(xs), max(xs), min(ys), max(ys), trace.opacity)
    return drawn


def skip_arrows(figure):
    """One (saving row, consuming row, x, y) per arrow drawn; the arrows are None-separated in one trace."""
    (trace,) = [trace for trace in figure.data if trace.legendgroup == "skip"]
    assert sum(size > 0 for size in trace.marker.size) == len(trace.meta)  # one arrowhead per arrow
    arrows, x, y = [], [], []
    for x_value, y_value in zip(trace.x, trace.y):
        if x_value is None:
            arrows.append((*trace.meta[len(arrows)], x, y))
            x, y = [], []
        else:
            x.append(x_value)
            y.append(y_value)
    assert len(arrows) == len(trace.meta)
    return arrows


def skip_opacity(figure):
    (trace,) = [trace for trace in figure.data if trace.legendgroup == "skip"]
    return trace.opacity


def block_labels(figure):
    (labels,) = [trace for trace in figure.data if trace.name == "blocks"]
    return labels


# --- hourglass ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_hourglass_has_one_box_per_traced_block(name):
    rows = trace_shapes(CONFIGS[name])
    figure = hourglass_figure(CONFIGS[name])
    drawn = boxes(figure)
    assert len(drawn) == len(rows) and set(drawn) == {row.name for row in rows}
    spatial = [row for row in rows if row.kind != "TimeEmbedding"]
    assert list(block_labels(figure).text) == [BOX_LABELS[row.kind] for row in spatial] + ["t"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_hourglass_has_one_skip_arrow_per_skip_at_the_matching_resolution(name):
    rows = trace_shapes(CONFIGS[name])
    figure = hourglass_figure(rows)
    expected = {(row.skip_from, row.index) for row in rows if row.skip_from is not None}
    arrows = skip_arrows(figure)
    assert len(arrows) == len(expected) > 0
    assert {(source, target) for source, target, _, _ in arrows} == expected
    drawn = boxes(figure)
    for source_index, target_index, x, y in arrows:
        source, target = rows[source_index], rows[target_index]
        assert source.saves_skip and source.out_shape[-1] == target.in_shape[-1]
        start, end = drawn[source.name], drawn[target.name]
        assert x[0] == pytest.approx((start.x0 + start.x1) / 2)  # leaves the saving block
        assert x[-1] == pytest.approx((end.x0 + end.x1) / 2)  # lands on the consumer
        assert (start.y0, start.y1) == (end.y0, end.y1)  # same row: same resolution
        assert min(y) == pytest.approx(start.y1) and max(y) > start.y1  # arches over the row


def test_ddpm_topology_draws_the_extra_skips_from_init_conv_and_downsamples():
    rows = trace_shapes(DDPM_CONFIG)
    sources = {rows[source].kind for source, *_ in skip_arrows(hourglass_figure(DDPM_CONFIG))}
    assert sources >= {"InitConv", "Downsample", "ResBlock", "Attention"}
    chapter = DDPM_CONFIG.replace(topology="chapter")
    chapter_rows = trace_shapes(chapter)
    chapter_sources = {chapter_rows[source].kind for source, *_ in skip_arrows(hourglass_figure(chapter))}
    assert "InitConv" not in chapter_sources and "Downsample" not in chapter_sources


def test_hourglass_accepts_a_config_a_model_or_a_trace():
    config = CONFIGS["tiny"]
    with torch.device("meta"):
        model = UNet(config)
    from_config = hourglass_figure(config).to_plotly_json()
    assert hourglass_figure(model).to_plotly_json() == from_config
    assert hourglass_figure(trace_shapes(config)).to_plotly_json() == from_config
    with pytest.raises(ValueError, match="UNetConfig"):
        hourglass_figure([1, 2, 3])


def test_hourglass_hover_carries_name_kind_shapes_and_parameters():
    rows = trace_shapes(CONFIGS["chapter_example"])
    labels = block_labels(hourglass_figure(rows))
    by_index = dict(zip(labels.customdata, labels.hovertext))
    assert set(by_index) == {row.index for row in rows}
    for row in rows:
        text = by_index[row.index]
        assert row.name in text and row.kind in text
        assert f"in: {format_shape(row.in_shape)}" in text and f"out: {format_shape(row.out_shape)}" in text
        assert f"parameters: {row.params:,}" in text


def test_hourglass_box_height_follows_resolution_and_width_follows_channels():
    rows = [row for row in trace_shapes(CONFIGS["highres"]) if len(row.out_shape) == 4]
    drawn = boxes(hourglass_figure(CONFIGS["highres"]))
    for first in rows:
        for second in rows:
            a, b = drawn[first.name], drawn[second.name]
            if first.out_shape[-1] > second.out_shape[-1]:
                assert a.y1 - a.y0 > b.y1 - b.y0
            if first.out_shape[1] > second.out_shape[1] >= 32:
                assert a.x1 - a.x0 > b.x1 - b.x0


@pytest.mark.parametrize("name", ["chapter_example", "ddpm_topology"])
def test_hourglass_labels_every_resolution_level(name):
    config = CONFIGS[name]
    resolutions = sorted(set(config.level_resolutions) | {config.bottleneck_resolution}, reverse=True)
    ticktext = hourglass_figure(config).layout.yaxis.ticktext
    assert list(ticktext) == [f"{r}x{r}" for r in resolutions]


def test_hourglass_marks_time_embedding_in_every_resblock():
    rows = trace_shapes(CONFIGS["chapter_example"])
    (markers,) = [trace for trace in hourglass_figure(rows).data if trace.name.startswith("time_emb")]
    assert len(markers.x) == sum(row.kind == "ResBlock" for row in rows)


@pytest.mark.parametrize("highlight", ["Attention", "attention", ["Downsample", "Upsample"], "bottleneck"])
def test_highlight_fades_every_other_box(highlight):
    rows = trace_shapes(CONFIGS["chapter_example"])
    names = {highlight.lower()} if isinstance(highlight, str) else {name.lower() for name in highlight}
    chosen = {row.name for row in rows if row.kind.lower() in names or row.stage in names}
    assert chosen
    for name, shape in boxes(hourglass_figure(rows, highlight=highlight)).items():
        assert (shape.opacity == 1.0) == (name in chosen)
    assert skip_opacity(hourglass_figure(rows, highlight=highlight)) < 1


def test_highlight_skip_emphasises_the_arrows_only():
    figure = hourglass_figure(CONFIGS["tiny"], highlight="skip")
    assert skip_opacity(figure) == 1.0
    assert all(shape.opacity < 1 for shape in boxes(figure).values())


def test_no_highlight_shows_everything_and_unknown_highlight_names_the_choices():
    figure = hourglass_figure(CONFIGS["tiny"])
    assert all(shape.opacity == 1.0 for shape in boxes(figure).values())
    with pytest.raises(ValueError, match="highlight=.*Attention"):
        hourglass_figure(CONFIGS["tiny"], highlight="attn")


def test_hourglass_fonts_are_projector_sized():
    figure = hourglass_figure(CONFIGS["chapter_example"])
    assert block_labels(figure).textfont.size >= 14
    assert all(annotation.font.size >= 14 for annotation in figure.layout.annotations)


# --- shapes ------------------------------------------------------------------------------------------------

def test_shape_table_has_one_line_per_block_in_forward_order():
    rows = trace_shapes(CONFIGS["ddpm_topology"])
    table = shape_table(rows)
    header, rule, *body, total = table.splitlines()
    assert header.split()[:3] == ["#", "name", "kind"] and set(rule) <= {"-", " "}
    assert len(body) == len(rows)
    for row, line in zip(rows, body):
        assert line.split()[:3] == [str(row.index), row.name, row.kind]
        assert format_shape(row.in_shape) in line and format_shape(row.out_shape) in line
        assert f"{row.params:,}" in line
        if row.skip_from is not None:
            assert line.endswith(f"+ #{row.skip_from}")
        assert line.endswith("saved") == row.saves_skip
    assert total == f"total parameters: {sum(row.params for row in rows):,}"


def test_shape_table_is_deterministic_and_accepts_a_config_or_a_model():
    config = CONFIGS["tiny"]
    with torch.device("meta"):
        model = UNet(config)
    assert shape_table(config) == shape_table(trace_shapes(config)) == shape_table(model)


def test_shape_plot_follows_resolution_and_channels_with_markers_by_kind():
    rows = [row for row in trace_shapes(CONFIGS["chapter_example"]) if len(row.out_shape) == 4]
    figure = shape_plot(rows)
    for kind in {row.kind for row in rows}:
        of_kind = [row for row in rows if row.kind == kind]
        resolution, channels = [trace for trace in figure.data if trace.name == kind]
        assert list(resolution.x) == list(channels.x) == [row.index for row in of_kind]
        assert list(resolution.y) == [row.out_shape[-1] for row in of_kind]
        assert list(channels.y) == [row.out_shape[1] for row in of_kind]
        assert all(format_shape(row.out_shape) in text for row, text in zip(of_kind, resolution.hovertext))
    (inputs,) = [trace for trace in figure.data if trace.name.startswith("decoder ResBlock input")]
    assert list(inputs.y) == [row.in_shape[1] for row in rows if row.skip_from is not None]


# --- breakdown ---------------------------------------------------------------------------------------------

def meta_unet(config: UNetConfig) -> UNet:
    with torch.device("meta"):
        return UNet(config)


def bars(figure, name):
    return [trace for trace in figure.data if trace.name == name]


@pytest.mark.parametrize("name", ["chapter_example", "ddpm_topology", "highres"])
def test_breakdown_values_sum_to_the_parameter_count(name):
    model = meta_unet(CONFIGS[name])
    total = count_parameters(model)
    figure = breakdown_figure(model)
    (components,) = bars(figure, "component")
    assert dict(zip(components.y, components.x)) == count_parameters_by_component(model)
    assert sum(components.x) == total
    (kinds,) = bars(figure, "kind")
    assert sum(kinds.x) == total
    by_kind = count_parameters_by_kind(model)
    assert dict(zip(kinds.y, kinds.x))["attention"] == by_kind.get("Attention", 0)
    assert dict(zip(kinds.y, kinds.x))["resampling (↓ ↑)"] == by_kind["Downsample"] + by_kind["Upsample"]
    levels = count_parameters_by_level(model)
    for stage in ("encoder", "decoder"):
        (per_level,) = bars(figure, stage)
        assert list(per_level.x) == [level[stage] for level in levels]
    assert f"{total:,}" in figure.layout.title.text


def test_breakdown_table_lists_components_percent_and_total():
    model = meta_unet(CONFIGS["chapter_example"])
    by_component = count_parameters_by_component(model)
    header, *body, rule, total_line = breakdown_table(CONFIGS["chapter_example"]).splitlines()
    assert header.split() == ["component", "parameters", "percent"] and set(rule) == {"-"}
    assert [line.split()[0] for line in body] == list(by_component)
    for line, count in zip(body, by_component.values()):
        assert line.split()[1] == f"{count:,}"
    assert total_line.split() == ["total", f"{count_parameters(model):,}", "100.0%"]
    percents = [float(line.split()[2].strip("%<")) for line in body]
    assert sum(percents) == pytest.approx(100, abs=0.5)


# --- scaling -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("knob", KNOBS)
def test_scaling_counts_are_those_of_really_built_models(knob):
    config = CONFIGS["chapter_example"]
    baseline = count_parameters(meta_unet(config))
    rows = scaling_rows(config, knob)
    assert sum(row["baseline"] for row in rows) == 1 and len(rows) >= 2
    for row in rows:
        assert row["note"] == ""
        assert row["params"] == count_parameters(meta_unet(row["config"]))
        assert row["ratio"] == pytest.approx(row["params"] / baseline)
        changed = {field for field in UNetConfig.__dataclass_fields__
                   if getattr(row["config"], field) != getattr(config, field)}
        assert changed <= {"base_channels": {"base_channels"}, "num_res_blocks": {"num_res_blocks"},
                           "attention": {"attention_resolutions"}, "levels": {"channel_mults"}}[knob]


def test_scaling_rules_of_thumb():
    config = CONFIGS["chapter_example"]
    widths = {row["setting"]: row for row in scaling_rows(config, "base_channels")}
    assert widths["x2 (256)"]["rule_ratio"] == 4 and widths["x2 (256)"]["ratio"] == pytest.approx(4, rel=0.02)
    blocks = scaling_rows(config, "num_res_blocks")
    assert [row["config"].num_res_blocks for row in blocks] == [1, 2, 3, 4]
    steps = [later["params"] - earlier["params"] for earlier, later in zip(blocks, blocks[1:])]
    assert len(set(steps)) == 1  # linear: every extra block per level adds the same count...
    assert blocks[-1]["ratio"] < blocks[-1]["rule_ratio"]  # ...but not proportional: n=4 is less than 2x n=2
    (attention,) = [row for row in scaling_rows(config, "attention") if not row["baseline"]]
    assert attention["config"].attention_resolutions == (16, 8, 32)
    assert attention["rule_ratio"] == pytest.approx(attention["ratio"], rel=0.01)


def test_scaling_adds_attention_where_there_is_none_yet():
    between = UNetConfig(image_size=32, channel_mults=(1, 2, 2), attention_resolutions=(32, 8))  # 16 is free
    (added,) = [row for row in scaling_rows(between, "attention") if not row["baseline"]]
    assert added["config"].attention_resolutions == (32, 8, 16)
    everywhere = between.replace(attention_resolutions=(32, 16, 8))
    (skipped,) = [row for row in scaling_rows(everywhere, "attention") if not row["baseline"]]
    assert skipped["params"] is None and "every level" in skipped["note"]


def test_scaling_skips_invalid_settings_with_a_note():
    small = UNetConfig(image_size=16, base_channels=32, channel_mults=(1, 2, 2, 2), attention_resolutions=())
    half = next(row for row in scaling_rows(small, "base_channels") if row["setting"].startswith("x0.5"))
    assert half["params"] is None and "groups" in half["note"]
    deeper = [row for row in scaling_rows(small, "levels") if not row["baseline"]]
    assert deeper[0]["params"] is None and "image_size" in deeper[0]["note"]
    figure = scaling_figure(small)
    notes = [annotation.text for annotation in figure.layout.annotations if annotation.text.startswith("skipped")]
    assert len(notes) == 2
    with pytest.raises(ValueError, match="knob='width'"):
        scaling_rows(small, "width")


def test_scaling_figure_shows_the_measured_counts_and_the_rules():
    config = CONFIGS["chapter_example"]
    figure = scaling_figure(config)
    measured = [trace for trace in figure.data if trace.type == "bar" and trace.name == "measured"]
    rules = [trace for trace in figure.data if trace.name == "rule of thumb predicts"]
    assert len(measured) == len(rules) == len(KNOBS)
    baseline = count_parameters(meta_unet(config))
    for knob, bars_trace, rule_trace in zip(KNOBS, measured, rules):
        rows = scaling_rows(config, knob)
        assert list(bars_trace.y) == [row["params"] for row in rows]
        changed = [row for row in rows if not row["baseline"]]
        assert list(rule_trace.y) == pytest.approx([row["rule_ratio"] * baseline for row in changed])
        for row, label in zip(changed, rule_trace.x):
            assert f"measured ×{row['ratio']:.2f}" in label and f"rule ×{row['rule_ratio']:.2f}" in label


def test_rounded_keeps_four_significant_digits():
    assert rounded([138.3812, 0.000123456, 0.0, 1.0]) == [138.4, 0.0001235, 0.0, 1.0]


def test_a_trace_and_the_counts_of_one_config_share_one_meta_model():
    config = CONFIGS["tiny"].replace(num_res_blocks=3)  # a config no other test has cached
    builds = meta_model.cache_info().misses
    trace = cached_trace(config)
    model = meta_model(config)
    assert meta_model.cache_info().misses == builds + 1
    assert sum(row.params for row in trace) == count_parameters(model)


def test_hourglass_marks_the_class_embedding():
    config = CONFIGS["tiny"].replace(num_classes=10)
    rows = trace_shapes(config)
    figure = hourglass_figure(config)
    assert set(boxes(figure)) == {row.name for row in rows} and "class_embed" in boxes(figure)
    assert list(block_labels(figure).text)[-2:] == ["t", "y"]  # the two vectors, below the hourglass
    texts = [annotation.text for annotation in figure.layout.annotations]
    assert "class_emb [1, 64]: added to time_emb" in texts
    legend = [trace.name for trace in figure.data if trace.showlegend is not False and trace.name]
    assert "class embedding (y)" in legend


def test_breakdown_shows_the_class_embedding_as_its_own_part():
    from unet_lessons.viz.breakdown import breakdown_table, parameters_by_family
    from unet_lessons.analysis import meta_unet
    config = CONFIGS["tiny"].replace(num_classes=10)
    assert "class_embed" in breakdown_table(config) and "704" in breakdown_table(config)  # 11 rows x 64
    assert parameters_by_family(meta_unet(config))["class embedding"] == 704
    assert "class embedding" not in parameters_by_family(meta_unet(CONFIGS["tiny"]))


# --- text alternatives -------------------------------------------------------------------------------------

def described(figure) -> tuple[str, list[list[str]]]:
    """The figure's alt text and its table rows; both must exist, the alt short enough to read as a caption."""
    alternative = alternative_of(figure)
    assert alternative is not None and alternative["alt"]
    assert len(alternative["alt"]) <= 420, alternative["alt"]
    return alternative["alt"], alternative["table"]["rows"]


@pytest.mark.parametrize("name", ["chapter_example", "ddpm_topology"])
def test_breakdown_describes_its_bars(name):
    model = meta_unet(CONFIGS[name])
    total = count_parameters(model)
    figure = breakdown_figure(model)
    alt, rows = described(figure)
    assert f"where the {total:,} parameters are" in alt
    component, count = max(count_parameters_by_component(model).items(), key=lambda item: item[1])
    assert f"{component} {count / 1e6:.1f}M ({100 * count / total:.1f}%)" in alt
    by_kind = count_parameters_by_kind(model)
    assert f"ResBlocks {by_kind['ResBlock'] / 1e6:.1f}M" in alt
    plotted = [(bar, count) for trace in figure.data for bar, count in zip(trace.y, trace.x)]
    assert len(rows) == len(plotted)  # one row per bar, in the figure's order
    assert [(row[1], int(row[2].replace(",", ""))) for row in rows] == plotted
    assert sum(int(row[2].replace(",", "")) for row in rows if row[0] == "by component") == total


def test_hourglass_describes_every_block():
    config = CONFIGS["chapter_example"]
    rows = trace_shapes(config)
    figure = hourglass_figure(config)
    alt, table_rows = described(figure)
    assert f"{len(rows)} blocks, {sum(row.params for row in rows):,} parameters" in alt
    assert f"from 64x64 to {config.bottleneck_resolution}x{config.bottleneck_resolution}" in alt
    assert f"{sum(row.skip_from is not None for row in rows)} skip arrows" in alt
    assert f"{max(row.out_shape[1] for row in rows if len(row.out_shape) == 4)}." in alt
    assert "Highlighted" not in alt
    assert [row[1] for row in table_rows] == [row.name for row in rows]  # one row per block, in forward order...
    assert len(table_rows) == len(boxes(figure))  # ...and so one per box
    assert [row[4] for row in table_rows] == [format_shape(row.out_shape) for row in rows]
    assert [row[5] for row in table_rows] == [f"{row.params:,}" for row in rows]


def test_hourglass_description_names_the_highlight():
    figure = hourglass_figure(CONFIGS["chapter_example"], highlight="Attention")
    alt, rows = described(figure)
    emphasised = [name for name, box in boxes(figure).items() if box.opacity == 1.0]
    assert f"Highlighted: Attention ({len(emphasised)} blocks)" in alt
    assert sorted(row[1] for row in rows if row[-1] == "yes") == sorted(emphasised)
    alt, _ = described(hourglass_figure(CONFIGS["tiny"], highlight="skip"))
    assert "Highlighted: skip (the skip arrows)" in alt


def test_a_generator_highlights_as_a_list_does():
    names = ["Downsample", "Upsample"]
    from_list = hourglass_figure(CONFIGS["tiny"], highlight=names)
    from_generator = hourglass_figure(CONFIGS["tiny"], highlight=(name for name in names))
    assert from_generator.layout.title.text.endswith("(highlighted: Downsample, Upsample)")
    assert from_generator.layout.title.text == from_list.layout.title.text
    emphasised = [name for name, box in boxes(from_generator).items() if box.opacity == 1.0]
    alt, rows = described(from_generator)
    assert f"Highlighted: Downsample, Upsample ({len(emphasised)} blocks)" in alt and emphasised
    assert (alt, rows) == described(from_list) and boxes(from_generator) == boxes(from_list)


def test_shape_plot_describes_every_plotted_block():
    config = CONFIGS["chapter_example"]
    spatial = [row for row in trace_shapes(config) if len(row.out_shape) == 4]
    figure = shape_plot(config)
    alt, rows = described(figure)
    markers = [trace for trace in figure.data if trace.name in {row.kind for row in spatial} and trace.yaxis == "y"]
    assert len(rows) == sum(len(trace.x) for trace in markers) == len(spatial)  # one row per plotted block
    assert [int(row[0]) for row in rows] == [row.index for row in spatial]
    assert [int(row[5]) for row in rows] == [row.out_shape[1] for row in spatial]
    assert f"({len(spatial)} blocks" in alt
    assert f"from 64x64 down to {config.bottleneck_resolution}x{config.bottleneck_resolution}" in alt
    channels = [row.out_shape[1] for row in spatial]
    assert f"from {min(channels)} to {max(channels)}" in alt
    concatenating = [row for row in spatial if row.skip_from is not None]
    assert f"the {len(concatenating)} decoder ResBlocks" in alt
    assert f"up to {max(row.in_shape[1] for row in concatenating)} channels" in alt


def test_scaling_figure_describes_every_setting():
    config = CONFIGS["chapter_example"]
    figure = scaling_figure(config)
    alt, rows = described(figure)
    baseline = count_parameters(meta_unet(config))
    assert f"(baseline {baseline:,})" in alt
    wide = next(row for row in scaling_rows(config, "base_channels") if row["setting"] == "x2 (256)")
    assert f"base_channels x2 (256): measured ×{wide['ratio']:.2f}, rule ×4.00" in alt
    measured = [trace for trace in figure.data if trace.type == "bar" and trace.name == "measured"]
    assert len(rows) == sum(len(trace.y) for trace in measured)  # every setting is valid: one row per bar
    assert [int(row[2].replace(",", "")) for row in rows] == [count for trace in measured for count in trace.y]
    assert [row[3] for row in rows].count("baseline") == len(KNOBS)


def test_scaling_description_lists_the_skipped_settings():
    small = UNetConfig(image_size=16, base_channels=32, channel_mults=(1, 2, 2, 2), attention_resolutions=())
    figure = scaling_figure(small)
    alt, rows = described(figure)
    assert "Skipped, as no valid configuration: 2 settings." in alt and "levels: no valid change" in alt
    bars = sum(len(trace.y) for trace in figure.data if trace.type == "bar" and trace.name == "measured")
    skipped = [row for row in rows if row[5].startswith("skipped")]
    assert len(rows) == bars + len(skipped) and len(skipped) == 2
    assert any("groups" in row[5] for row in skipped) and any("image_size" in row[5] for row in skipped)
