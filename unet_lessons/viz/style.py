"""The course's look, in one place: projector-sized fonts and colour-blind-safe palettes.

Every notebook calls :func:`use_course_style` in its first code cell.
"""

import matplotlib as mpl
import matplotlib.colors
import matplotlib.style
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio

from unet_lessons.viz.alt_text import show_alt_text_in_notebooks
from unet_lessons.viz.frontends import FRAMED_RENDERER, plotly_needs_a_frame

FONT_SIZE = 16  # readable from the back of a lecture room; never below 14
PROJECTOR_HEIGHT = 720  # px: every figure fits a 1280x720 projector (tests/test_projector_fit.py)

# Paul Tol's "safe" qualitative palette (plotly's qualitative.Safe): distinguishable with any colour vision.
PALETTE = plotly.colors.qualitative.Safe

# One colour per block kind, used by every figure that shows blocks (the hourglass, shape plots, ...).
KIND_COLORS = {
    "TimeEmbedding": PALETTE[2],
    "ClassEmbedding": PALETTE[7],
    "InitConv": PALETTE[10],
    "ResBlock": PALETTE[0],
    "Attention": PALETTE[1],
    "Downsample": PALETTE[3],
    "Upsample": PALETTE[5],
    "Bottleneck": PALETTE[4],
    "OutNorm": PALETTE[10],
    "OutConv": PALETTE[10],
}

SKIP_COLOR = PALETTE[9]  # skip-connection arrows: dark, so they read over the pale boxes
FLOW_COLOR = PALETTE[10]  # the thin forward-path line between consecutive blocks
# Labels of blocks outside a highlight: dark enough for 4.5:1 on any faded box (tests/test_style.py); the
# box itself is what fades.
FADED_TEXT_COLOR = "rgb(80, 80, 80)"
ERROR_COLOR = PALETTE[8]  # an explorer's message about an invalid configuration (always with ✘ and words)

# One colour per component of count_parameters_by_component (breakdown charts), matching the hourglass.
COMPONENT_COLORS = {
    "time_embed": KIND_COLORS["TimeEmbedding"],
    "class_embed": KIND_COLORS["ClassEmbedding"],
    "init_conv": KIND_COLORS["InitConv"],
    "encoder": PALETTE[6],
    "bottleneck": KIND_COLORS["Bottleneck"],
    "decoder": PALETTE[8],
    "output": KIND_COLORS["OutConv"],
}

CONTINUOUS_SCALE = "Viridis"  # perceptually uniform, colour-blind safe
MATPLOTLIB_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"  # for signed values centred on zero


def _rgb(color: str) -> tuple[float, float, float]:
    """'rgb(r, g, b)' (plotly's), '#rrggbb' or a CSS name, as three values in [0, 1]."""
    if color.startswith("rgb"):
        return tuple(value / 255 for value in plotly.colors.unlabel_rgb(color))
    return mpl.colors.to_rgb(color)


def relative_luminance(color: str) -> float:
    """WCAG 2.1's relative luminance of a colour ('rgb(r, g, b)', '#rrggbb' or a CSS name)."""
    linear = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in _rgb(color)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1's contrast ratio, 1 to 21: text needs 4.5 (3 when large: 24 px, or 19 px bold)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_text_color(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (one of them always reaches 4.58:1)."""
    return max(("black", "white"), key=lambda text: contrast_ratio(text, fill))


def over_white(color: str, opacity: float) -> str:
    """The colour a fill of ``color`` at ``opacity`` shows on a white background."""
    return "rgb({}, {}, {})".format(*(round(255 * (opacity * v + 1 - opacity)) for v in _rgb(color)))


def course_template() -> go.layout.Template:
    """plotly template: white background, large fonts, the safe palette."""
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.font = dict(size=FONT_SIZE)
    template.layout.title.font = dict(size=FONT_SIZE + 4)
    template.layout.colorway = PALETTE
    template.layout.hoverlabel = dict(font_size=FONT_SIZE)
    return template


def use_course_style() -> None:
    """Apply the course style to plotly and matplotlib (idempotent).

    plotly's renderer is set to ``plotly_mimetype``: figures are stored as JSON that JupyterLab draws with
    its bundled plotly.js, from a live kernel or from saved outputs, with no internet. Where that JSON is not
    drawn (Google Colab, the classic Notebook 6: ``viz.frontends``), each figure is a framed page that loads
    plotly.js from plotly's site. In a notebook, a matplotlib figure's PNG output then carries the figure's
    text alternative (``viz.alt_text``).
    """
    pio.templates["unet_lessons"] = course_template()
    pio.templates.default = "unet_lessons"
    pio.renderers.default = FRAMED_RENDERER if plotly_needs_a_frame() else "plotly_mimetype"
    mpl.style.use("petroff10")
    mpl.rcParams.update({
        "font.size": FONT_SIZE,
        "axes.titlesize": FONT_SIZE + 2,
        "axes.labelsize": FONT_SIZE,
        "xtick.labelsize": FONT_SIZE - 2,
        "ytick.labelsize": FONT_SIZE - 2,
        "legend.fontsize": FONT_SIZE - 2,
        "figure.dpi": 100,
        "image.cmap": MATPLOTLIB_CMAP,
    })
    show_alt_text_in_notebooks()
