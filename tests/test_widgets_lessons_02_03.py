"""Tests for the lesson 02 and 03 explorers in unet_lessons/viz/block_widgets.py: move a control, the output changes."""

import matplotlib.pyplot as plt
import pytest
import torch

from unet_lessons.attention import AttentionBlock
from unet_lessons.resblock import ResBlock
from unet_lessons.time_embedding import TimeEmbedding
from unet_lessons.viz.style import use_course_style
from unet_lessons.viz.block_widgets import attention_explorer, time_embedding_explorer, time_response_explorer

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def controls_and_output(explorer):
    controls, output = explorer.children
    return controls.children, output


def shown(output) -> list[dict]:
    return [item["data"] for item in output.outputs]


@pytest.fixture(autouse=True)
def no_open_figures():
    use_course_style()  # plotly renders as its JSON mimetype, as in the notebooks
    yield
    assert plt.get_fignums() == []  # each redraw closes its matplotlib figure


def test_time_embedding_explorer_redraws_on_t_and_freq_shift():
    (t, freq_shift), output = controls_and_output(time_embedding_explorer(dim=16))
    def title():
        return shown(output)[0][PLOTLY_MIME]["layout"]["title"]["text"]

    assert "t = 500" in title()
    t.value = 3
    assert "t = 3" in title()
    freq_shift.value = 1
    assert "freq_shift=1" in title()
    assert len(output.outputs) == 1  # replaced, not appended


def test_time_embedding_explorer_shows_a_dim_too_small_for_freq_shift_1_in_the_widget():
    (t, freq_shift), output = controls_and_output(time_embedding_explorer(dim=2))  # one sin + cos pair: fine at 0
    assert PLOTLY_MIME in shown(output)[0]
    freq_shift.value = 1  # must not raise
    assert output.outputs[0]["output_type"] == "stream"
    assert "⚠️" in output.outputs[0]["text"] and "dim=2 is too small for freq_shift=1" in output.outputs[0]["text"]
    freq_shift.value = 0
    assert PLOTLY_MIME in shown(output)[0]


def test_time_response_explorer_redraws():
    block, embed = ResBlock(16, 16, 64, groups=8), TimeEmbedding(16)
    (t, reference), output = controls_and_output(time_response_explorer(block, embed, torch.randn(1, 16, 8, 8)))
    before = shown(output)
    t.value = 999
    after = shown(output)
    assert len(after) == 1 and after[0]["image/png"] != before[0]["image/png"]
    reference.value = 999
    assert len(output.outputs) == 1


def test_attention_explorer_sliders_cover_the_map_and_heads():
    block = AttentionBlock(32, num_heads=2, groups=8)
    with torch.no_grad():
        weights = block.attention_weights(torch.randn(1, 32, 6, 6))
    image = torch.zeros(1, 3, 12, 12)
    (query_x, query_y, head), output = controls_and_output(attention_explorer(image, weights))
    assert (query_x.max, query_y.max, head.max) == (5, 5, 1)
    before = shown(output)
    for control, value in ((query_x, 0), (query_y, 5), (head, 1)):
        control.value = value
        now = shown(output)
        assert len(now) == 1 and now[0]["image/png"] != before[0]["image/png"]
        before = now


def test_explorer_shows_errors_inside_the_widget(monkeypatch):
    import unet_lessons.viz.block_widgets as widgets_module

    def broken(*args):
        raise ValueError("t=5000: use 0..999")

    monkeypatch.setattr(widgets_module, "embedding_vector_figure", broken)
    (t, _), output = controls_and_output(time_embedding_explorer())
    t.value = 10  # no exception reaches the caller
    assert output.outputs[0]["output_type"] == "stream"
    assert "t=5000" in output.outputs[0]["text"]
