"""Text alternatives: every figure of the course says in words what it shows, and gives its numbers as a table.

A screen-reader user gets nothing from a plotly SVG or a PNG. So every builder of ``unet_lessons.viz`` writes,
from the data it plots, a short description (what is plotted and the key numbers) and, where a figure plots
numbers, the table of them, and attaches both with :func:`describe`:

- a plotly figure keeps them in ``layout.meta`` (``{"alt": ..., "table": ...}``), so they travel with the
  figure's JSON into the stored notebook, the explorers' outputs and the course pack, whose pages show the
  description as the figure's caption (its accessible name) and the table in a ``<details>`` under it;
- a matplotlib figure keeps them until it is shown: the PNG output then carries ``alt`` (and ``table``) in
  its metadata (``metadata["image/png"]["alt"]``, the key nbconvert's templates read), in a notebook cell
  (:func:`show_alt_text_in_notebooks` teaches IPython) and in the explorers (:func:`png_output`).
"""

import base64
import io
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from matplotlib.figure import Figure

PNG_MIME = "image/png"
PLOTLY_MIME = "application/vnd.plotly.v1+json"


@dataclass(frozen=True)
class DataTable:
    """The numbers a figure plots, as a reader would print them.

    * `columns` - the column headings
    * `rows` - one tuple of printed cells per row, as many cells as columns
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self):
        if not self.columns or not self.rows:
            raise ValueError("a DataTable needs at least one column and one row.")
        bad = [row for row in self.rows if len(row) != len(self.columns)]
        if bad:
            raise ValueError(f"every row needs {len(self.columns)} cells (columns {list(self.columns)}); got {bad[0]!r}.")

    def as_json(self) -> dict:
        return {"columns": list(self.columns), "rows": [list(row) for row in self.rows]}


def table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> DataTable:
    """A :class:`DataTable` from any cells (each turned into its ``str``)."""
    return DataTable(tuple(columns), tuple(tuple(str(cell) for cell in row) for row in rows))


_MATPLOTLIB: "weakref.WeakKeyDictionary[Figure, dict]" = weakref.WeakKeyDictionary()


def describe(figure, alt: str, data: DataTable | None = None):
    """Attach the text alternative ``alt`` (and the table ``data``) to ``figure``; returns the figure.

    Args:
        figure: a plotly ``go.Figure`` or a matplotlib ``Figure``.
        alt: what the figure shows and its key numbers, in one or a few sentences.
        data: the numbers plotted, or None for a figure of images.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty description of what the figure shows.")
    alternative = {"alt": " ".join(alt.split())}
    if data is not None:
        alternative["table"] = data.as_json()
    if isinstance(figure, go.Figure):
        figure.layout.meta = alternative
    elif isinstance(figure, Figure):
        _MATPLOTLIB[figure] = alternative
    else:
        raise ValueError(f"figure must be a plotly go.Figure or a matplotlib Figure; got {type(figure).__name__}.")
    return figure


def alternative_of(figure) -> dict | None:
    """The ``{"alt": ..., "table": ...}`` attached to ``figure`` by :func:`describe`, or None."""
    if isinstance(figure, go.Figure):
        meta = figure.layout.meta
        return dict(meta) if isinstance(meta, dict) and "alt" in meta else None
    return _MATPLOTLIB.get(figure)


def png_output(figure: Figure) -> tuple[str, dict]:
    """A matplotlib figure as a notebook output: (base64 PNG, its metadata with the figure's ``alt``)."""
    png = io.BytesIO()
    figure.savefig(png, format="png", bbox_inches="tight")
    return base64.b64encode(png.getvalue()).decode(), dict(_MATPLOTLIB.get(figure, {}))


def output_alternative(output: dict) -> dict | None:
    """The text alternative a stored notebook output carries for its figure, or None if it has none.

    Plotly outputs carry it in the figure's ``layout.meta``; PNG outputs in ``metadata["image/png"]``.
    """
    data = output.get("data", {})
    if PLOTLY_MIME in data:
        meta = data[PLOTLY_MIME].get("layout", {}).get("meta")
        return meta if isinstance(meta, dict) and meta.get("alt") else None
    if PNG_MIME in data:
        meta = output.get("metadata", {}).get(PNG_MIME, {})
        return meta if meta.get("alt") else None
    return None


def _png_with_alt(figure: Figure) -> tuple[bytes, dict] | bytes:
    """IPython's PNG formatter for matplotlib figures, as matplotlib-inline's but with the figure's ``alt``."""
    from IPython.core.pylabtools import print_figure

    png = print_figure(figure, "png", bbox_inches="tight")
    alternative = _MATPLOTLIB.get(figure)
    return (png, dict(alternative)) if alternative else png


def show_alt_text_in_notebooks() -> None:
    """In an IPython kernel, make every matplotlib figure shown inline store its ``alt`` in the PNG's metadata.

    Called by :func:`unet_lessons.viz.style.use_course_style`; does nothing outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib
    import matplotlib.pyplot as plt

    # Load the backend now: matplotlib-inline registers its own PNG formatter when it is first imported,
    # and a later registration would replace ours.
    plt.switch_backend(matplotlib.get_backend())
    shell.display_formatter.formatters[PNG_MIME].for_type(Figure, _png_with_alt)
