"""nbval compares plotly figures by what a reader sees, not by their bits (loaded by the root ``conftest.py``).

Strict nbval compares a stored output with a fresh one for equality. For text that is right: a lesson prints
shapes, counts and claims, and those must match exactly. A plotly figure, though, is JSON full of float32
arrays, and their last bits differ between CPUs, thread counts and math libraries (MKL's ``sin``, oneDNN's
convolutions, the order of a reduction). So for ``application/vnd.plotly.v1+json`` outputs this plugin compares

- the structure exactly: the same keys, the same list lengths, array shapes and kinds (integer or float), so
  trace count, trace types, names, modes, titles, axis titles and annotations are all checked;
- integers exactly (counts, indices, integer arrays such as bar positions), and booleans and ``None``;
- floats within a tolerance (:data:`DEFAULT_TOLERANCE`, or a looser one a cell asks for by tag);
- strings exactly, except the decimal numbers inside them (a legend "intact: 0.060 at step 150"), which are
  compared as floats; a number printed with ``d`` decimals may also differ by one unit in its last digit,
  because rounding turns any noise at a boundary into a whole unit. Integers inside strings stay exact.

An array is compared by its values whether it is stored as plotly 6 and later write it (base64) or as plotly 5
does (a list): the stored figures come from plotly 7, and ``make test-colab`` runs the lessons on Colab's plotly
5, which also adds a display setting to every figure that no reader sees (:data:`PLOTLY5_CONFIG`) and whose
template has defaults for trace types that plotly 7 has not, and the other way round: when exactly one of the two
figures comes from plotly 5, these are left out (:func:`_across_plotly_versions`).

Every other output (text, HTML, errors) is left to nbval's own comparison, untouched.

A cell asks for a looser tolerance with a tag ``figure-tolerance-NAME`` naming one of :data:`TOLERANCES`.
"""

import base64
import copy
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from unet_lessons.viz.frontends import framed_figure_html

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
TAG_PREFIX = "figure-tolerance-"


@dataclass(frozen=True)
class Tolerance:
    """Two floats ``a`` (stored) and ``b`` (fresh) agree when ``|a - b| <= rtol * max(|a|, |b|)`` (relative to the
    value, so a log axis is checked too) or ``|a - b| <= scale_tol * scale``, where ``scale`` is the largest
    magnitude in the stored array the numbers belong to (a lone number is its own scale): a difference that
    small is under a pixel on a linear axis. Differences below ``atol`` always pass: values that are zero up to
    float32 rounding."""

    rtol: float
    scale_tol: float
    reason: str
    atol: float = 1e-6  # float32 rounding of values that are zero (a normalized group's mean): invisible on any axis

    def agree(self, a: float, b: float, scale: float) -> bool:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        difference = abs(a - b)
        return (difference <= self.atol or difference <= self.rtol * max(abs(a), abs(b))
                or difference <= self.scale_tol * abs(scale))


DEFAULT_TOLERANCE = Tolerance(
    rtol=1e-3,
    scale_tol=2e-3,
    reason="float32 noise between machines is about 1e-7 of a value for elementwise math (MKL's sin) and "
           "grows through long reductions; figure builders that round their data (3 or 4 decimals, 4 "
           "significant digits) turn that noise into one unit of the last kept digit: 0.001 on a heatmap "
           "whose values reach 1. A difference of 1/1000 of a value, or 1/500 of the trace's largest value "
           "(a pixel or two on a figure a thousand pixels across), is not one a reader can see; a value "
           "moved further than that fails.",
)

TOLERANCES = {
    "training": Tolerance(
        rtol=0.25,
        scale_tol=0.02,
        reason="a model trained for hundreds of seeded steps follows a different float path on every CPU and "
               "thread count; its losses drift apart slowly (a step-300 held-out loss measured 0.033 to 0.037 "
               "across machines, about 11%). What the lesson shows is the shape of the curve: where it starts, "
               "that it falls, by how much. 25% of a value (or 2% of the curve's top) keeps that and fails a "
               "curve that stops falling or starts elsewhere.",
    ),
}

# A number inside a string: an optional sign, digits (thousands separators allowed), optional decimals and exponent.
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.(\d+))?(?:[eE]([-+]?\d+))?")


def tolerance_for(tags: list[str]) -> Tolerance:
    """The tolerance a cell asks for with a ``figure-tolerance-NAME`` tag, else :data:`DEFAULT_TOLERANCE`."""
    names = [tag[len(TAG_PREFIX):] for tag in tags if tag.startswith(TAG_PREFIX)]
    if not names:
        return DEFAULT_TOLERANCE
    unknown = [name for name in names if name not in TOLERANCES]
    if unknown or len(names) > 1:
        raise ValueError(f"cell tags {names!r}: use one tag {TAG_PREFIX}NAME with NAME one of {sorted(TOLERANCES)}")
    return TOLERANCES[names[0]]


def decode_typed_array(value: dict) -> np.ndarray:
    """Plotly's base64 encoding of a numpy array (``{"dtype": "f4", "bdata": "...", "shape": "64, 100"}``)."""
    array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
    if "shape" in value:
        array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
    return array


def _is_typed_array(value: Any) -> bool:
    return isinstance(value, dict) and set(value) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"})


def compare_strings(stored: str, fresh: str, tolerance: Tolerance) -> str | None:
    """``None`` when the strings read the same: equal text between numbers, integers equal, decimals within
    ``tolerance`` or one unit of their last printed digit. Otherwise a description of the first difference."""
    if stored == fresh:
        return None
    stored_text, fresh_text = _NUMBER.split(stored), _NUMBER.split(fresh)
    # split() with two groups gives [text, decimals, exponent, text, ...]: compare the text parts.
    if stored_text[::3] != fresh_text[::3]:
        return f"text {stored!r} != {fresh!r}"
    for a, b in zip(_NUMBER.finditer(stored), _NUMBER.finditer(fresh)):
        if (a.group(1) is None and a.group(2) is None) or (b.group(1) is None and b.group(2) is None):
            if a.group() != b.group():  # an integer (a count, an index, a step): exact
                return f"integer {a.group()} != {b.group()} in {stored!r} / {fresh!r}"
            continue
        x, y = (float(m.group().replace(",", "")) for m in (a, b))
        decimals = len(a.group(1) or "")
        exponent = int(a.group(2) or 0)
        last_digit = 10.0 ** (exponent - decimals)
        if abs(x - y) > last_digit * (1 + 1e-9) and not tolerance.agree(x, y, x):
            return f"number {a.group()} != {b.group()} in {stored!r} / {fresh!r}"
    return None


def compare_figures(stored: Any, fresh: Any, tolerance: Tolerance = DEFAULT_TOLERANCE, path: str = "figure") -> list[str]:
    """Every difference a reader could see between two plotly figure JSONs, as ``path: what`` lines (empty: equal)."""
    if _is_typed_array(stored) or _is_typed_array(fresh):
        stored, fresh = _as_array(stored), _as_array(fresh)
        if stored is None or fresh is None:
            return [f"{path}: an array in one figure, not an array of numbers in the other"]
        return _compare_arrays(stored, fresh, tolerance, path)
    if path == "figure" and isinstance(stored, dict) and isinstance(fresh, dict):
        stored, fresh = _across_plotly_versions(stored, fresh)
    if isinstance(stored, dict) and isinstance(fresh, dict):
        if stored.keys() != fresh.keys():
            return [f"{path}: keys {sorted(stored.keys() ^ fresh.keys())} in only one figure"]
        return [line for key in stored for line in compare_figures(stored[key], fresh[key], tolerance, f"{path}.{key}")]
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{path}: {len(stored)} items stored, {len(fresh)} now"]
        if all(_is_number(v) for v in stored + fresh) and stored:
            return _compare_arrays(np.array(stored), np.array(fresh), tolerance, path)
        return [line for i, (a, b) in enumerate(zip(stored, fresh))
                for line in compare_figures(a, b, tolerance, f"{path}[{i}]")]
    if _is_number(stored) and _is_number(fresh):
        return _compare_arrays(np.array([stored]), np.array([fresh]), tolerance, path)
    if isinstance(stored, str) and isinstance(fresh, str):
        difference = compare_strings(stored, fresh, tolerance)
        return [] if difference is None else [f"{path}: {difference}"]
    if stored != fresh or type(stored) is not type(fresh):
        return [f"{path}: {stored!r} != {fresh!r}"]
    return []


def _as_array(value: Any) -> np.ndarray | None:
    """A figure's array, as plotly 6 and later store it (base64) or as plotly 5 does (a list of numbers)."""
    if _is_typed_array(value):
        return decode_typed_array(value)
    if isinstance(value, list) and all(_is_number(v) or isinstance(v, list) for v in value):
        return np.array(value)
    return None


# plotly 5 (Colab's) adds this display setting to every figure; plotly 6 and later leave it out. It changes
# nothing a reader sees (the address plotly's "edit in Chart Studio" link would use), so a test environment on
# plotly 5 (make test-colab) compares its figures with the stored plotly 7 ones without it.
PLOTLY5_CONFIG = {"plotlyServerURL": "https://plot.ly"}


# The template's defaults for trace types and subplots that one plotly version has and the other does not
# (plotly 6 dropped heatmapgl and added the MapLibre maps); no lesson draws any of them.
VERSION_ONLY_TEMPLATE_KEYS = {"data": {"heatmapgl", "scattermap", "scattermapbox"}, "layout": {"mapbox"}}


def _across_plotly_versions(stored: dict, fresh: dict) -> tuple[dict, dict]:
    """Both figures without what differs only because one of them was written by plotly 5: its display setting,
    and the template entries of :data:`VERSION_ONLY_TEMPLATE_KEYS`. Figures of the same plotly stay as they are."""
    if (stored.get("config") == PLOTLY5_CONFIG) == (fresh.get("config") == PLOTLY5_CONFIG):
        return stored, fresh
    return _without_version_only_keys(stored), _without_version_only_keys(fresh)


def _without_version_only_keys(figure: dict) -> dict:
    figure = copy.deepcopy(figure)
    if figure.get("config") == PLOTLY5_CONFIG:
        del figure["config"]
    template = figure.get("layout", {}).get("template", {})
    for part, keys in VERSION_ONLY_TEMPLATE_KEYS.items():
        for key in keys & set(template.get(part, {})):
            del template[part][key]
    return figure


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare_arrays(stored: np.ndarray, fresh: np.ndarray, tolerance: Tolerance, path: str) -> list[str]:
    if stored.shape != fresh.shape:
        return [f"{path}: shape {stored.shape} stored, {fresh.shape} now"]
    if stored.dtype.kind in "iub" and fresh.dtype.kind in "iub":
        wrong = np.flatnonzero(stored.astype(np.int64).ravel() != fresh.astype(np.int64).ravel())
        if wrong.size:
            i = wrong[0]
            return [f"{path}[{i}]: integer {stored.ravel()[i]} stored, {fresh.ravel()[i]} now ({wrong.size} differ)"]
        return []
    if stored.dtype.kind not in "iubf" or fresh.dtype.kind not in "iubf":
        return [f"{path}: arrays of {stored.dtype} and {fresh.dtype}"]
    a, b = stored.astype(np.float64).ravel(), fresh.astype(np.float64).ravel()
    finite = a[np.isfinite(a)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    wrong = [i for i in range(a.size) if not tolerance.agree(float(a[i]), float(b[i]), scale)]
    if wrong:
        i = wrong[0]
        return [f"{path}[{i}]: {a[i]!r} stored, {b[i]!r} now ({len(wrong)} of {a.size} beyond rtol {tolerance.rtol})"]
    return []


def split_figures(outputs: list) -> tuple[list, list]:
    """(the plotly figure JSONs of ``outputs`` in order, copies of the outputs without them).

    An output that also holds the figure as a framed page (``unet_lessons.viz.frontends``: where plotly's JSON is
    not drawn, under ``make test-colab``) loses that page too, when it is exactly the page of that figure."""
    figures, rest = [], []
    for output in outputs:
        data = output.get("data", {})
        if PLOTLY_MIMETYPE in data:
            figures.append(data[PLOTLY_MIMETYPE])
            output = copy.deepcopy(output)
            if output["data"].get("text/html") == framed_figure_html(data[PLOTLY_MIMETYPE]):
                del output["data"]["text/html"]
            del output["data"][PLOTLY_MIMETYPE]
        rest.append(output)
    return figures, rest


def _compare_outputs_by_sight(item, nbval_compare):
    """An nbval cell's ``compare_outputs`` that compares figures with :func:`compare_figures` and the rest as nbval does."""

    def compare_outputs(test, ref, skip_compare=None):
        test_figures, test_rest = split_figures(test)
        ref_figures, ref_rest = split_figures(ref)
        if not nbval_compare(test_rest, ref_rest, skip_compare):
            return False
        tolerance = tolerance_for(item.cell.metadata.get("tags", []))
        if len(test_figures) != len(ref_figures):
            differences = [f"{len(ref_figures)} plotly figures stored, {len(test_figures)} now"]
        else:
            differences = [line for stored, fresh in zip(ref_figures, test_figures)
                           for line in compare_figures(stored, fresh, tolerance)]
        if differences:
            shown = differences[:10] + ([f"... and {len(differences) - 10} more"] if len(differences) > 10 else [])
            item.comparison_traceback.append(f"plotly figure differs (rtol {tolerance.rtol}, scale_tol {tolerance.scale_tol}):")
            item.comparison_traceback.extend("  " + line for line in shown)
            return False
        return True

    return compare_outputs


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to compare
        return
    for item in items:
        if isinstance(item, IPyNbCell):
            try:
                tolerance_for(item.cell.metadata.get("tags", []))
            except ValueError as error:
                raise pytest.UsageError(f"{item.nodeid}: {error}") from None
            item.compare_outputs = _compare_outputs_by_sight(item, item.compare_outputs)
