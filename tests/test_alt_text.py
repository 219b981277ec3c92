"""Text alternatives travel with the figure: in plotly's JSON, in a PNG output's metadata, in a real kernel."""

import matplotlib.pyplot as plt
import nbclient
import nbformat
import plotly.graph_objects as go
import pytest

from unet_lessons.viz.alt_text import DataTable, alternative_of, describe, output_alternative, png_output, table


def test_a_plotly_figure_keeps_its_alternative_in_its_json():
    figure = describe(go.Figure(go.Bar(x=[1, 2])), "Two  bars:\n 1 and 2.", table(["bar", "height"], [[0, 1], [1, 2]]))
    stored = figure.to_plotly_json()["layout"]["meta"]
    assert stored == {"alt": "Two bars: 1 and 2.", "table": {"columns": ["bar", "height"], "rows": [["0", "1"], ["1", "2"]]}}
    assert alternative_of(figure) == stored
    output = {"data": {"application/vnd.plotly.v1+json": figure.to_plotly_json()}}
    assert output_alternative(output)["alt"] == "Two bars: 1 and 2."


def test_a_matplotlib_figure_gives_its_alternative_to_its_png_output():
    figure, _ = plt.subplots()
    assert alternative_of(figure) is None
    describe(figure, "An empty plot.")
    data, metadata = png_output(figure)
    plt.close(figure)
    assert data.startswith("iVBOR")  # base64 of a PNG's signature
    assert metadata == {"alt": "An empty plot."}
    assert output_alternative({"data": {"image/png": data}, "metadata": {"image/png": metadata}}) == metadata
    assert output_alternative({"data": {"image/png": data}, "metadata": {}}) is None


def test_a_table_needs_a_cell_per_column():
    with pytest.raises(ValueError, match="2 cells"):
        table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="at least one"):
        DataTable(("a",), ())


def test_in_a_kernel_a_shown_figure_stores_its_alt_in_the_png_metadata():
    # What the lessons do: use_course_style() in the first cell, then a builder's figure shown by the inline backend.
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from unet_lessons.viz.style import use_course_style\nuse_course_style()"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfrom unet_lessons.viz.alt_text import describe\n"
                                  "fig, ax = plt.subplots()\nax.plot([1, 2])\ndescribe(fig, 'A line from 1 to 2.');"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([2, 1])"),
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    described = [o for o in notebook.cells[1].outputs if "image/png" in o.get("data", {})]
    plain = [o for o in notebook.cells[2].outputs if "image/png" in o.get("data", {})]
    assert len(described) == 1 and len(plain) == 1
    assert output_alternative(described[0]) == {"alt": "A line from 1 to 2."}
    assert output_alternative(plain[0]) is None  # no description: the figure-alternatives test would catch it
