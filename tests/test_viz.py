"""The pure figure and table builders of unet_lessons.viz: hourglass, shapes, breakdown, scaling."""

import pytest
import torch

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.unet import UNet
from unet_lessons.viz._common import format_shape
from unet_lessons.viz.hourglass import BOX_LABELS, hourglass_figure

DDPM_CONFIG = UNetConfig(image_size=32, channel_mults=(1, 2, 2, 2), attention_resolutions=(16,), topology="ddpm")

CONFIGS = {
    "chapter_example": PRESETS["chapter_example"].config,
    "highres": PRESETS["highres"].config,
    "ddpm_topology": DDPM_CONFIG,
    "tiny": UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                       attention_resolutions=(8,), groups=8),
}


def boxes(figure):
    return {shape.name: shape for shape in figure.layout.shapes if shape.type == "rect"}


def skip_arrows(figure):
    return [trace for trace in figure.data if trace.legendgroup == "skip"]


def block_labels(figure):
    (labels,) = [trace for trace in figure.data if trace.name == "blocks"]
    return labels


# --- hourglass ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_hourglass_has_one_box_per_traced_block(name):
    rows = trace_shapes(CONFIGS[name])
    figure = hourglass_figure(CONFIGS[name])
    assert list(boxes(figure)) == [row.name for row in rows if len(row.out_shape) == 4] + ["time_embed"]
    assert list(block_labels(figure).text) == [BOX_LABELS[row.kind] for row in rows if row.kind != "TimeEmbedding"] + ["t"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_hourglass_has_one_skip_arrow_per_skip_at_the_matching_resolution(name):
    rows = trace_shapes(CONFIGS[name])
    figure = hourglass_figure(rows)
    expected = {(row.skip_from, row.index) for row in rows if row.skip_from is not None}
    arrows = skip_arrows(figure)
    assert len(arrows) == len(expected) > 0
    assert {tuple(arrow.meta) for arrow in arrows} == expected
    drawn = boxes(figure)
    for arrow in arrows:
        source, target = rows[arrow.meta[0]], rows[arrow.meta[1]]
        assert source.saves_skip and source.out_shape[-1] == target.in_shape[-1]
        start, end = drawn[source.name], drawn[target.name]
        assert arrow.x[0] == pytest.approx((start.x0 + start.x1) / 2)  # leaves the saving block
        assert arrow.x[-1] == pytest.approx((end.x0 + end.x1) / 2)  # lands on the consumer
        assert (start.y0, start.y1) == (end.y0, end.y1)  # same row: same resolution
        assert min(arrow.y) == pytest.approx(start.y1) and max(arrow.y) > start.y1  # arches over the row


def test_ddpm_topology_draws_the_extra_skips_from_init_conv_and_downsamples():
    rows = trace_shapes(DDPM_CONFIG)
    sources = {rows[arrow.meta[0]].kind for arrow in skip_arrows(hourglass_figure(DDPM_CONFIG))}
    assert sources >= {"InitConv", "Downsample", "ResBlock", "Attention"}
    chapter = DDPM_CONFIG.replace(topology="chapter")
    chapter_sources = {rows[arrow.meta[0]].kind for arrow in skip_arrows(hourglass_figure(chapter))}
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
    assert all(arrow.opacity < 1 for arrow in skip_arrows(hourglass_figure(rows, highlight=highlight)))


def test_highlight_skip_emphasises_the_arrows_only():
    figure = hourglass_figure(CONFIGS["tiny"], highlight="skip")
    assert all(arrow.opacity == 1.0 for arrow in skip_arrows(figure))
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
