import matplotlib as mpl
import plotly.io as pio

from unet_lessons.viz.style import FONT_SIZE, KIND_COLORS, PALETTE, use_course_style


def test_course_style_sets_renderer_fonts_and_palette():
    use_course_style()
    assert pio.renderers.default == "plotly_mimetype"
    template = pio.templates[pio.templates.default]
    assert template.layout.font.size >= 14
    assert list(template.layout.colorway) == list(PALETTE)
    assert mpl.rcParams["font.size"] >= 14 and FONT_SIZE >= 14


def test_every_traced_kind_has_a_colour():
    from unet_lessons.analysis import trace_shapes
    from unet_lessons.configs import UNetConfig

    kinds = {row.kind for row in trace_shapes(UNetConfig())}
    assert kinds <= set(KIND_COLORS)
