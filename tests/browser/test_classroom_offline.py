"""The offline course pack and the slide decks (classroom/build.py), opened in Chromium with no internet.

Both are built from the committed notebooks into a temporary folder and served by a local HTTP server;
every request that leaves it is blocked and fails the test. What each page must draw is counted from the
notebook: its plotly outputs, and the plotly figures stored inside its widgets' Output areas.
"""

from pathlib import Path

import nbformat
import pytest
from test_notebooks_in_lab import PLOTLY_MIME, WIDGET_MIME, wait_until

from classroom.build import lesson_paths

ROOT = Path(__file__).resolve().parents[2]
LESSONS = [path.stem for path in lesson_paths(ROOT / "notebooks")]
MODEL_REFERENCE = "IPY_MODEL_"
SLIDE = {"width": 1280, "height": 720}  # a deck's slide size (classroom/build.py), the projector's


def widget_plotly_figures(state: dict, model_id: str) -> int:
    """Plotly figures stored in the Output widgets reachable from the widget ``model_id`` (its view tree)."""
    model = state[model_id]
    count = sum(PLOTLY_MIME in output.get("data", {}) for output in model["state"].get("outputs", []))
    children = [value for value in model["state"].values() if isinstance(value, (list, str))]
    for child in children:
        for reference in child if isinstance(child, list) else [child]:
            if isinstance(reference, str) and reference.startswith(MODEL_REFERENCE):
                count += widget_plotly_figures(state, reference.removeprefix(MODEL_REFERENCE))
    return count


def expected_drawings(name: str, slides: bool) -> dict[str, int]:
    """Plotly figures and widget views a page (or a deck: cells of type skip are left out) must show."""
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    counts = {"plotly": 0, "widgets": 0, "math": 0}
    for cell in notebook.cells:
        if slides and cell.metadata.get("slideshow", {}).get("slide_type") == "skip":
            continue
        counts["math"] += cell.cell_type == "markdown" and "$" in cell.source
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            counts["plotly"] += PLOTLY_MIME in data
            if WIDGET_MIME in data:
                counts["widgets"] += 1
                counts["plotly"] += widget_plotly_figures(state["state"], data[WIDGET_MIME]["model_id"])
    return counts


def assert_drawn(page, expected: dict[str, int]):
    drawn = page.locator(".js-plotly-plot:has(.main-svg)")
    wait_until(lambda: drawn.count() >= expected["plotly"], 60, f"{expected['plotly']} plotly figures")
    assert drawn.count() == expected["plotly"]
    views = page.locator(".widget-subarea")
    wait_until(lambda: views.count() >= expected["widgets"], 60, f"{expected['widgets']} widget views")
    assert views.count() == expected["widgets"]
    assert "Error displaying widget" not in page.inner_text("body")
    # Each stored explorer says that it needs a kernel: its controls move here, its figures do not.
    assert page.locator(".jupyter-widgets > .course-kernel-note").count() == expected["widgets"]
    if expected["math"]:
        wait_until(lambda: page.locator(".MathJax_CHTML").count() > 0, 60, "MathJax to typeset")
        assert page.locator(".MathJax_Error, .MathJax_CHTML merror").count() == 0


def test_index_lists_every_lesson(offline, classroom_url):
    offline.goto(f"{classroom_url}/site/index.html")
    links = offline.locator("ol.lessons a")
    assert links.count() == len(LESSONS)
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [f"{n}.html" for n in LESSONS]
    offline.screenshot(path=str(ROOT / "artifacts" / "browser" / "site_index.png"))


@pytest.mark.parametrize("name", LESSONS)
def test_site_page_draws_offline(offline, classroom_url, artifacts, name):
    offline.goto(f"{classroom_url}/site/{name}.html", wait_until="load")
    assert_drawn(offline, expected_drawings(name, slides=False))
    if name == LESSONS[1]:
        offline.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        offline.screenshot(path=str(artifacts / f"site_{name}.png"))


@pytest.mark.parametrize("name", LESSONS)
def test_slide_deck_opens_offline(offline, classroom_url, artifacts, name):
    offline.goto(f"{classroom_url}/slides/{name}.slides.html", wait_until="load")
    wait_until(lambda: offline.locator(".reveal.ready").count() == 1, 60, "reveal.js to initialise")
    assert offline.locator(".reveal .slides > section").count() > 1
    assert_drawn(offline, expected_drawings(name, slides=True))
    if name == LESSONS[1]:
        offline.screenshot(path=str(artifacts / f"slide_{name}_title.png"))
        # The first slide with a figure, as a projector shows it.
        figure_slide = offline.locator(".reveal .slides > section > section:has(.js-plotly-plot)").first
        offline.evaluate("""s => { const slide = s.parentElement;
            location.hash = `#/${[...slide.parentElement.children].indexOf(slide)}/${[...slide.children].indexOf(s)}`; }""",
                         figure_slide.element_handle())
        wait_until(lambda: figure_slide.evaluate("s => s.classList.contains('present')"), 10, "the figure slide")
        offline.wait_for_timeout(1500)  # reveal's slide transition
        offline.screenshot(path=str(artifacts / f"slide_{name}_figure.png"))


# What of a figure its legend must not cover: annotations (the hourglass's notes) and titles.
OVERLAPS = """plot => {
    const legend = plot.querySelector('.legend');
    if (!legend) return [];
    const L = legend.getBoundingClientRect();
    return [...plot.querySelectorAll('.annotation, .gtitle, .g-xtitle, .g-ytitle, .g-x2title, .g-y2title')]
        .map(item => [item.textContent.slice(0, 50), item.getBoundingClientRect()])
        .filter(([text, A]) => A.width > 0 && text.trim() && !(A.right <= L.left || A.left >= L.right
                                                               || A.bottom <= L.top || A.top >= L.bottom))
        .map(([text]) => text);
}"""


@pytest.mark.parametrize("name", LESSONS)
def test_no_legend_covers_a_note_or_a_title_on_a_slide(offline, classroom_url, artifacts, name):
    # A figure taller than a slide's room is drawn smaller; the legend must still sit clear of the figure's
    # notes and titles (the hourglass's legend once covered its bottom row and its time-embedding note).
    offline.goto(f"{classroom_url}/slides/{name}.slides.html", wait_until="load")
    wait_until(lambda: offline.locator(".reveal.ready").count() == 1, 60, "reveal.js to initialise")
    slides = offline.locator(".reveal .slides > section > section:has(.js-plotly-plot)")
    covered = {}
    for index in range(slides.count()):
        slide = slides.nth(index)
        offline.evaluate("""s => { const slide = s.parentElement;
            location.hash = `#/${[...slide.parentElement.children].indexOf(slide)}/${[...slide.children].indexOf(s)}`; }""",
                         slide.element_handle())
        wait_until(lambda: slide.evaluate("s => s.classList.contains('present')"), 10, "the figure slide")
        offline.wait_for_timeout(1200)  # reveal's transition, then the figure's drawing at the slide's width
        for figure, texts in enumerate(slide.locator(".js-plotly-plot").evaluate_all(f"plots => plots.map({OVERLAPS})")):
            if texts:
                covered[f"figure slide {index}, figure {figure}"] = texts
                offline.screenshot(path=str(artifacts / f"slide_{name}_covered_{index}.png"))
    assert not covered, f"{name}: a legend covers {covered}"


# The slide on screen (the present section that has no sub-slides), as the projector shows it: the size of its
# content, which must fit the 1280x720 slide, and the first words of every code or text block cut at its right edge.
PRESENT_SLIDE = """() => {
    const slides = [...document.querySelectorAll('.reveal .slides section')].filter(s => !s.querySelector('section'));
    const slide = slides.find(s => s.classList.contains('present'));
    const clipped = [...slide.querySelectorAll('pre')].filter(pre => pre.scrollWidth > pre.clientWidth)
        .map(pre => pre.textContent.trim().slice(0, 40));
    return {index: slides.indexOf(slide), count: slides.length, width: slide.scrollWidth, height: slide.scrollHeight,
            title: slide.textContent.trim().slice(0, 40), clipped,
            last: slide === slides.at(-1) && !slide.querySelector('.fragment:not(.visible)')};
}"""
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.mark.parametrize("name", LESSONS)
def test_arrow_right_walks_every_slide_and_each_fits_the_projector(offline, classroom_url, artifacts, name):
    # A lecturer's clicker sends ArrowRight: from the first slide it must reach every slide, sub-slides included,
    # and each must fit 1280x720 with every code line in full.
    offline.goto(f"{classroom_url}/slides/{name}.slides.html", wait_until="load")
    wait_until(lambda: offline.locator(".reveal.ready").count() == 1, 60, "reveal.js to initialise")
    assert_drawn(offline, expected_drawings(name, slides=True))
    presses = offline.locator(".reveal .slides section").count() + offline.locator(".reveal .fragment").count()
    slide = offline.evaluate(PRESENT_SLIDE)
    visited, too_big, clipped = set(), {}, {}
    for _ in range(presses):
        visited.add(slide["index"])
        if slide["width"] > SLIDE["width"] or slide["height"] > SLIDE["height"]:
            if not too_big:
                offline.screenshot(path=str(artifacts / f"slide_{name}_too_big.png"))
            too_big[slide["index"]] = f"{slide['width']}x{slide['height']} {slide['title']!r}"
        if slide["clipped"]:
            clipped[slide["index"]] = slide["clipped"]
        if slide["last"]:
            break
        offline.keyboard.press("ArrowRight")
        offline.evaluate(NEXT_FRAME)
        slide = offline.evaluate(PRESENT_SLIDE)
    missed = sorted(set(range(slide["count"])) - visited)
    problems = [f"ArrowRight never shows slides {missed} of {slide['count']}"] * bool(missed) \
        + [f"slides larger than 1280x720: {too_big}"] * bool(too_big) \
        + [f"code cut at the right edge: {clipped}"] * bool(clipped)
    assert not problems, f"{name}: " + "\n".join(problems)


# What the course pack and the decks may weigh each (README, "Hosting the pack"): a USB stick or a school's web
# space. Measured 2026-12-07: 43.6 MiB, of which ONNX Runtime's WebAssembly is 15 MiB.
PACK_LIMIT_MIB = 50


@pytest.mark.parametrize("folder", ["site", "slides"])
def test_each_folder_stays_under_its_stated_size(classroom_folder, folder):
    size = sum(path.stat().st_size for path in (classroom_folder / folder).rglob("*") if path.is_file()) / 2**20
    print(f"{folder}: {size:.1f} MiB")
    assert size < PACK_LIMIT_MIB

