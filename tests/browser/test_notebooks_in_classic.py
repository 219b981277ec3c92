"""Every lesson in the classic Notebook 6.5.7 with ipywidgets 7.7.1 and plotly 5.24.1, Google Colab's versions:
Run All (no error but the intended ones, nothing on stderr), then what a learner sees, and one explorer per lesson
moved.

Colab's own frontend cannot run here; the classic Notebook with widgetsnbextension 3.6.10 is the nearest that does
(the same ipywidgets generation, the same Python-side packages). Its kernel runs in ``make test-colab``'s
environment, named by ``UNET_LESSONS_CLASSIC_PYTHON``; without it the tests are skipped (``make test`` has none).
Figures there are framed pages that load plotly.js from plotly's site (``unet_lessons.viz.frontends``): this
machine is offline, so the page gets that file from the plotly package itself, the same version plotly names;
every other request that leaves the local server fails the test.
"""

import json
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from unet_lessons.viz.widgets import FIGURE_AREA_CLASS
from test_notebooks_in_lab import NOTEBOOKS, RUN_TIMEOUT, expected_outputs, wait_until

WIDGET_VIEWS = ".output_subarea.jupyter-widgets-view"
ALL_RAN = """() => Jupyter.notebook.get_cells().every(cell => cell.cell_type !== 'code'
    || (cell.input_prompt_number !== '*' && cell.input_prompt_number != null)) && !Jupyter.notebook.kernel_busy"""
# Each code cell's prompt number (null: not run, '*': running), the first line of its source, and its errors.
CODE_CELLS = """() => Jupyter.notebook.get_cells().filter(cell => cell.cell_type === 'code').map(cell => ({
    prompt: cell.input_prompt_number, source: cell.get_text().split('\\n')[0].slice(0, 80),
    error: cell.output_area.outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)
        .join(' | ')}))"""


def unfinished_run(page, classic) -> str:
    """What a Run All that did not finish left: the kernel's state, each cell not run (or still running), each
    error, and the server's last lines (a kernel that died and restarted shows there)."""
    left = [f"code cell {index} [{cell['prompt']}] {cell['source']!r} {cell['error']}"
            for index, cell in enumerate(page.evaluate(CODE_CELLS)) if cell["prompt"] in (None, "*") or cell["error"]]
    return "\n".join([f"kernel busy: {page.evaluate('() => Jupyter.notebook.kernel_busy')}", *left[:8],
                      f"({len(left) - 8} more)" * (len(left) > 8), "server log:", classic.log_tail()])


@pytest.fixture
def page(browser, classic):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.outside_requests, page.widget_errors = [], []

    def guard(route):
        address = route.request.url
        if address == classic.plotly_cdn:
            route.fulfill(path=str(classic.plotly_js), content_type="text/javascript")
        elif address.startswith((classic.url + "/", "data:", "about:")):
            route.continue_()
        else:
            page.outside_requests.append(address)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda message: page.widget_errors.append(message.text)
            if "Could not create" in message.text or "Error rendering" in message.text else None)
    yield page
    context.close()
    assert not page.outside_requests, f"requests left the local server: {page.outside_requests}"


def drawn_figures(page) -> int:
    """Framed plotly figures whose page drew its SVG."""
    return sum(frame.locator(".js-plotly-plot .main-svg").count() > 0 for frame in page.frames[1:])


def explorer_drawn(view) -> bool:
    """Every figure the explorer shows is there: each framed page drew its SVG, each image loaded."""
    frames = [element.content_frame() for element in view.locator("iframe").element_handles()]
    images = view.locator(".widget-html img").evaluate_all("images => images.map(i => i.complete && i.naturalWidth)")
    return bool(frames or images) and all(frame and frame.locator(".main-svg").count() for frame in frames) \
        and all(images)


def move_a_control(page, view) -> str:
    """Move the first slider (by keyboard) or dropdown of an explorer; the name of the control, once the explorer's
    figures changed."""
    watched = view.locator(f".{FIGURE_AREA_CLASS}").first
    before = watched.inner_html()
    if view.locator(".ui-slider-handle").count():
        handle = view.locator(".ui-slider-handle").first
        name = view.locator(".widget-slider .widget-label").first.inner_text()
        for key in ("ArrowRight", "ArrowLeft", "ArrowLeft"):
            handle.focus()
            page.keyboard.press(key)
            try:
                wait_until(lambda: watched.inner_html() != before, 60, f"a redraw after {key}")
                return name
            except AssertionError:
                continue
        raise AssertionError(f"the slider {name!r} changed nothing")
    select = view.locator("select").first
    select.select_option(index=select.evaluate("s => (s.selectedIndex + 1) % s.options.length"))  # the next one
    wait_until(lambda: watched.inner_html() != before, 60, "a redraw after choosing in a dropdown")
    return select.evaluate("s => s.closest('.widget-dropdown').querySelector('.widget-label').textContent")


def interrupt_the_wait(page) -> None:
    """Lesson 09, while Run All waits in ``view.wait()`` for its training: the notebook's interrupt (Kernel >
    Interrupt) stops the run there and Run All goes on, as in JupyterLab (test_notebooks_in_lab.py)."""
    view = page.locator(WIDGET_VIEWS).filter(has=page.locator("button:has-text('Continue')")).first
    wait_until(lambda: view.count() and "the notebook waits for it" in view.inner_text(), 300,
               "the training view to train while the next cell waits")
    page.evaluate("() => Jupyter.notebook.kernel.interrupt()")
    wait_until(lambda: "stopped at step" in view.inner_text(), 60, "the interrupt to stop the run")


LIVE_TRAINING = {"09_train_your_own.ipynb": interrupt_the_wait}  # what to do while Run All runs


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_in_the_classic_notebook_with_colabs_widgets(page, classic, artifacts, name):
    expected = expected_outputs(name)
    page.goto(f"{classic.url}/notebooks/{name}?token={classic.token}")
    page.wait_for_function("() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel "
                           "&& Jupyter.notebook.kernel.is_connected()", timeout=120_000)
    try:
        page.evaluate("() => Jupyter.notebook.execute_all_cells()")
        if name in LIVE_TRAINING:
            LIVE_TRAINING[name](page)
        try:
            page.wait_for_function(ALL_RAN, timeout=RUN_TIMEOUT * 1000, polling=1000)
        except PlaywrightTimeout:
            raise AssertionError(f"Run All did not finish in {RUN_TIMEOUT} s\n{unfinished_run(page, classic)}") from None

        views = page.locator(WIDGET_VIEWS)
        wait_until(lambda: views.count() >= expected["widgets"], 60, "every widget view")
        assert views.count() == expected["widgets"]
        assert "Error displaying widget" not in page.inner_text("#notebook") and not page.widget_errors
        assert page.locator(".output_error").count() == expected["errors"], page.inner_text("#notebook")[-3000:]
        assert not page.locator(".output_stderr").count(), page.locator(".output_stderr").all_inner_texts()  # no warning

        # Every stored plotly figure drew again, framed, and every matplotlib image is there.
        wait_until(lambda: drawn_figures(page) >= expected["plotly"], 60, f"{expected['plotly']} plotly figures")
        assert page.locator(".output_png img").count() >= expected["images"]

        # One explorer with a slider or a dropdown, moved: its figure redraws.
        explorer = next(views.nth(i) for i in range(views.count())
                        if views.nth(i).locator(".ui-slider-handle, select").count())
        explorer.scroll_into_view_if_needed()
        wait_until(lambda: explorer_drawn(explorer), 60, "the explorer's figures")
        moved = move_a_control(page, explorer)
        wait_until(lambda: explorer_drawn(explorer), 60, f"the explorer's figures after moving {moved!r}")
        print(f"{name}: {drawn_figures(page)} framed figures drawn; moved {moved!r}, the explorer drew again")
        explorer.screenshot(path=str(artifacts / f"classic_{Path(name).stem}_explorer.png"))
    finally:
        sessions = json.load(urllib.request.urlopen(f"{classic.url}/api/sessions?token={classic.token}"))
        for session in sessions:
            urllib.request.urlopen(urllib.request.Request(
                f"{classic.url}/api/sessions/{session['id']}?token={classic.token}", method="DELETE"))
