"""The course's look, in one place: projector-sized fonts and colour-blind-safe palettes.

Every notebook calls :func:`use_course_style` in its first code cell.
"""

import matplotlib as mpl
import matplotlib.style
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio

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
FADED_TEXT_COLOR = "rgb(190, 190, 190)"  # labels of blocks outside a highlight
ERROR_COLOR = PALETTE[8]  # an explorer's message about an invalid configuration (always with ❌ and words)

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
    its bundled plotly.js, from a live kernel or from saved outputs, with no internet.
    """
    pio.templates["unet_lessons"] = course_template()
    pio.templates.default = "unet_lessons"
    pio.renderers.default = "plotly_mimetype"
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
