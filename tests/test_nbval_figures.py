"""The notebook-figure comparison: last-bit noise passes, every change a reader could see fails."""

import copy
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from nbval_figures import (DEFAULT_TOLERANCE, PLOTLY5_CONFIG, TOLERANCES, compare_figures, compare_strings,
                           decode_typed_array, split_figures, tolerance_for)


def figure_json(y, name="sin(t · f_i)", title="Held-out loss", counts=(3, 5, 8)) -> dict:
    """A figure as a notebook stores it: plotly's JSON, with numpy arrays base64-encoded."""
    figure = go.Figure([go.Bar(x=np.arange(len(y), dtype=np.int8), y=np.asarray(y, dtype=np.float32), name=name),
                        go.Scatter(x=list(counts), y=[1.0, 0.5, 0.25], mode="lines+markers", name="params")])
    figure.update_layout(title=title, xaxis_title="step", annotations=[dict(text="intact: 0.060 at step 150")])
    return json.loads(pio.to_json(figure))  # the dict nbval reads from the stored notebook


def last_bit_noise(y: np.ndarray) -> np.ndarray:
    return np.nextafter(np.asarray(y, dtype=np.float32), np.float32(np.inf))


@pytest.fixture
def values():
    return np.sin(500 * np.exp(-np.log(10000) * np.arange(64) / 64)).astype(np.float32)


def test_last_bit_noise_passes(values):
    assert compare_figures((figure_json(values)), (figure_json(last_bit_noise(values)))) == []


def test_figure_equal_to_itself_passes(values):
    stored = (figure_json(values))
    assert compare_figures(stored, copy.deepcopy(stored)) == []


def test_a_value_moved_beyond_the_tolerance_fails(values):
    moved = values.copy()
    moved[7] += 0.01  # 1% of the axis: visible
    differences = compare_figures((figure_json(values)), (figure_json(moved)))
    assert len(differences) == 1 and "y[7]" in differences[0]


def test_one_unit_of_a_rounded_4th_decimal_passes():
    stored, fresh = [0.1393, 0.5, 1.0], [0.1394, 0.5, 1.0]
    assert compare_figures((figure_json(stored)), (figure_json(fresh))) == []


def test_a_changed_trace_name_fails(values):
    differences = compare_figures((figure_json(values)), (figure_json(values, name="cos(t · f_i)")))
    assert differences and "name" in differences[0]


def test_a_changed_title_fails(values):
    differences = compare_figures((figure_json(values)), (figure_json(values, title="Training loss")))
    assert differences and "title" in differences[0]


def test_a_changed_trace_count_fails(values):
    stored = (figure_json(values))
    fresh = copy.deepcopy(stored)
    fresh["data"].append(fresh["data"][0])
    assert compare_figures(stored, fresh) == ["figure.data: 2 items stored, 3 now"]


def test_a_changed_array_length_fails(values):
    differences = compare_figures((figure_json(values)), (figure_json(values[:-1])))
    # plotly 6 and later store the array as base64 (a shape), plotly 5 as a list (its items)
    assert differences and ("shape (64,) stored, (63,) now" in differences[0] or "64 items stored, 63 now" in differences[0])


def test_a_changed_count_fails_even_by_one(values):
    differences = compare_figures((figure_json(values, counts=(3, 5, 8))),
                                  (figure_json(values, counts=(3, 5, 9))))
    assert differences and "data[1].x" in differences[0]


def test_a_changed_trace_type_or_mode_fails(values):
    stored = (figure_json(values))
    fresh = copy.deepcopy(stored)
    fresh["data"][1]["mode"] = "lines"
    assert compare_figures(stored, fresh) == ["figure.data[1].mode: text 'lines+markers' != 'lines'"]


def test_numbers_inside_strings():
    tolerance = DEFAULT_TOLERANCE
    assert compare_strings("intact: 0.060 at step 150", "intact: 0.061 at step 150", tolerance) is None  # last digit
    assert compare_strings("intact: 0.060 at step 150", "intact: 0.062 at step 150", tolerance) is not None
    assert compare_strings("intact: 0.060 at step 150", "intact: 0.060 at step 151", tolerance) is not None  # integer
    assert compare_strings("227,379 parameters", "227,380 parameters", tolerance) is not None  # a count
    assert compare_strings("loss 0.060", "gain 0.060", tolerance) is not None  # the words
    assert compare_strings("-0.000", "0.000", tolerance) is None  # a sign flip at zero


def test_training_tolerance_keeps_the_shape_of_a_curve():
    training = TOLERANCES["training"]
    stored = (figure_json([1.0, 0.54, 0.10, 0.060, 0.033]))
    drifted = (figure_json([1.0, 0.55, 0.11, 0.064, 0.037]))  # what another machine measured
    flat = (figure_json([1.0, 0.9, 0.9, 0.9, 0.9]))  # a model that stopped learning
    assert compare_figures(stored, drifted, training) == []
    assert compare_figures(stored, drifted, DEFAULT_TOLERANCE) != []
    assert compare_figures(stored, flat, training) != []


def test_tolerance_for_tags():
    assert tolerance_for([]) is DEFAULT_TOLERANCE
    assert tolerance_for(["nbval-ignore-output"]) is DEFAULT_TOLERANCE
    assert tolerance_for(["figure-tolerance-training"]) is TOLERANCES["training"]
    with pytest.raises(ValueError, match="figure-tolerance-NAME"):
        tolerance_for(["figure-tolerance-loose"])


def test_split_figures_leaves_other_outputs_alone(values):
    figure = (figure_json(values))
    outputs = [{"output_type": "stream", "name": "stdout", "text": "shape: [3, 128]\n"},
               {"output_type": "display_data", "data": {"application/vnd.plotly.v1+json": figure}, "metadata": {}}]
    figures, rest = split_figures(outputs)
    assert figures == [figure]
    assert rest[0] == outputs[0] and rest[1]["data"] == {}
    assert "application/vnd.plotly.v1+json" in outputs[1]["data"]  # the stored output is not modified


def as_plotly5_figure(figure: dict) -> dict:
    """``figure`` as plotly 5 writes it: arrays as lists of numbers, and its display setting added."""
    def lists(value):
        if isinstance(value, dict) and set(value) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
            return decode_typed_array(value).tolist()
        if isinstance(value, dict):
            return {key: lists(item) for key, item in value.items()}
        return [lists(item) for item in value] if isinstance(value, list) else value
    figure = {**lists(figure), "config": dict(PLOTLY5_CONFIG)}
    figure["layout"].setdefault("template", {}).setdefault("data", {})["heatmapgl"] = [{"type": "heatmapgl"}]
    return figure


def test_a_plotly5_figure_equals_the_same_figure_from_a_newer_plotly(values):
    stored = figure_json(values, counts=(3, 5, 8))
    assert compare_figures(stored, as_plotly5_figure(stored)) == []


def test_a_plotly5_figure_with_other_values_or_another_setting_fails(values):
    stored = figure_json(values, counts=(3, 5, 8))
    moved = as_plotly5_figure(stored)
    moved["data"][0]["y"][7] += 0.01
    assert [line for line in compare_figures(stored, moved) if "y[7]" in line]
    other_setting = {**as_plotly5_figure(stored), "config": {"displayModeBar": False}}
    assert "figure: keys ['config'] in only one figure" in compare_figures(stored, other_setting)
    other_template = as_plotly5_figure(stored)
    other_template["layout"]["template"]["data"]["bar"] = [{"type": "bar"}]
    assert [line for line in compare_figures(stored, other_template) if "template.data" in line]
