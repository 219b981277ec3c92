"""Figures and explorers for the lessons.

Two layers: pure builders (config or model -> plotly figure, matplotlib figure or table) in the
modules named after what they draw, and thin ipywidgets factories in ``widgets.py`` that wire controls
to those builders. ``style.use_course_style()`` sets fonts, palettes and the plotly renderer once.
"""
