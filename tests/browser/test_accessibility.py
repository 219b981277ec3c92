"""WCAG 2.1 AA on what we publish: axe-core audits every course-pack page and every slide deck, offline.

axe-core is pinned in ``classroom.vendor`` (``AXE_CORE``), fetched and checked like the pages' own scripts,
and injected into each page by the test (it is never part of a page). Rules: the WCAG 2.0 and 2.1 A and AA
tags. A deck is audited in reveal.js's scroll view (``?view=scroll``), where every slide is laid out at once;
the paged view shows one slide and would hide the rest from the audit.

Lesson 00 opened in JupyterLab is audited too, reported and not failed: JupyterLab's own interface is not ours
(README, "Accessibility").
"""

import io
import json
import tarfile
from pathlib import Path

import nbformat
import pytest
from test_classroom_offline import LESSONS, expected_drawings
from test_notebooks_in_lab import PLOTLY_MIME, kernel_idle, wait_until

from classroom.build import NPM_CACHE
from classroom.vendor import AXE_CORE, fetch_tarball

ROOT = Path(__file__).resolve().parents[2]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AUDIT = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js of the pinned axe-core (from the npm cache, or fetched once and checked)."""
    with tarfile.open(fileobj=io.BytesIO(fetch_tarball(AXE_CORE, NPM_CACHE)), mode="r:gz") as archive:
        return archive.extractfile("package/axe.min.js").read().decode()


def audit(page, axe_source: str) -> list[dict]:
    """The axe-core violations of the page as it is now."""
    page.add_script_tag(content=axe_source)
    return page.evaluate(AUDIT, WCAG_AA)["violations"]


def report(violations: list[dict]) -> str:
    """One line per violated rule, with its first elements and why they fail."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} elements): {violation['help']}")
        for node in violation["nodes"][:3]:
            lines.append(f"    {node['target']}: {' '.join(node['failureSummary'].split())[:240]}")
    return "\n".join(lines)


def wait_for_drawings(page, expected: dict[str, int]):
    drawn = page.locator(".js-plotly-plot:has(.main-svg)")
    wait_until(lambda: drawn.count() >= expected["plotly"], 60, f"{expected['plotly']} plotly figures")
    views = page.locator(".widget-subarea")
    wait_until(lambda: views.count() >= expected["widgets"], 60, f"{expected['widgets']} widget views")


@pytest.mark.parametrize("folder", ["site", "slides"])
def test_index_pages_have_no_violations(offline, classroom_url, axe_source, folder):
    offline.goto(f"{classroom_url}/{folder}/index.html", wait_until="load")
    violations = audit(offline, axe_source)
    assert not violations, report(violations)


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page_has_no_violations(offline, classroom_url, axe_source, name):
    offline.goto(f"{classroom_url}/site/{name}.html", wait_until="load")
    wait_for_drawings(offline, expected_drawings(name, slides=False))
    violations = audit(offline, axe_source)
    assert not violations, report(violations)


@pytest.mark.parametrize("name", LESSONS)
def test_slide_deck_has_no_violations(offline, classroom_url, axe_source, name):
    offline.goto(f"{classroom_url}/slides/{name}.slides.html?view=scroll", wait_until="load")
    wait_until(lambda: offline.locator(".reveal.ready").count() == 1, 60, "reveal.js to initialise")
    # Every slide is laid out (none hidden from the audit).
    hidden = offline.evaluate("() => [...document.querySelectorAll('.reveal .slides section > section')]"
                              ".filter(s => !s.getClientRects().length).length")
    assert hidden == 0, f"{hidden} slides not laid out in the scroll view"
    wait_for_drawings(offline, expected_drawings(name, slides=True))
    violations = audit(offline, axe_source)
    assert not violations, report(violations)


def stored_alternatives(name: str) -> list[str]:
    """The alt texts of the figures a lesson page shows: its plotly and PNG outputs, in order."""
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIME in data:
                texts.append(("plotly", data[PLOTLY_MIME]["layout"]["meta"]["alt"]))
            elif "image/png" in data:
                texts.append(("png", output["metadata"]["image/png"]["alt"]))
    return texts


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page_names_every_figure_by_its_description(offline, classroom_url, name):
    offline.goto(f"{classroom_url}/site/{name}.html", wait_until="load")
    wait_for_drawings(offline, expected_drawings(name, slides=False))
    # A cell's own figures, not those stored inside its widgets (checked below).
    own = "nodes => nodes.filter(n => !n.closest('.widget-output'))"
    captions = offline.locator("figure.course-figure:has(.js-plotly-plot) > figcaption").evaluate_all(
        f"nodes => ({own})(nodes).map(n => n.textContent)")
    images = offline.locator(".jp-RenderedImage img").evaluate_all(f"nodes => ({own})(nodes).map(n => n.alt)")
    stored = stored_alternatives(name)
    assert captions == [alt for kind, alt in stored if kind == "plotly"]
    assert images == [alt for kind, alt in stored if kind == "png"]
    # Widget outputs name theirs too: every image has an alt, every plotly figure a caption.
    assert offline.locator(".widget-output img:not([alt]), .widget-output img[alt='']").count() == 0
    assert offline.locator(".widget-output .js-plotly-plot").count() == \
        offline.locator(".widget-output figure.course-figure > figcaption").count()


def test_jupyterlab_audit_of_lesson_00_is_reported(page, lab, axe_source, artifacts):
    """JupyterLab's interface is not ours: its violations are written to artifacts/, not failed."""
    page.goto(lab.notebook_url("00_overview.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=60_000)
    wait_until(lambda: kernel_idle(page), 120, "the kernel to start")
    wait_until(lambda: page.locator(".js-plotly-plot:has(.main-svg)").count() > 0, 60, "the stored figures")
    # The audit sees the whole notebook: every cell is in the page (the lab fixture turns windowing off).
    cells = len(nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4).cells)
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells
    violations = audit(page, axe_source)
    (artifacts / "axe_jupyterlab_00.json").write_text(json.dumps(violations, indent=1))
    print(f"JupyterLab, lesson 00: {len(violations)} rules violated\n{report(violations)}")
