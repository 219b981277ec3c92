"""Every lesson, opened in JupyterLab in Chromium: Run All, then check what a learner sees.

What each notebook should show is counted from the committed notebook itself (widgets, plotly figures,
images, expected errors), never hard-coded.
"""

import json
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from unet_lessons.analysis import peak_resident_memory

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
# A cell's own outputs (not those inside an Output widget) that hold a rendered widget view.
WIDGET_VIEWS = ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output:has(> .jupyter-widgets)"
KERNEL_MEMORY_LIMIT = 1024**3  # Binder kills at 2 GB, shared with the server: stay under 1 GB
# Seconds for Run All: catches a hang, not a slow machine. Lesson 07 took 178 s on 2 idle Intel Xeon cores
# (2026-12-03) and over 300 s there with a second job running; lesson 09 trains for about three minutes.
RUN_TIMEOUT = 900


def expected_outputs(name: str) -> dict[str, int]:
    """Count, in the committed notebook, the outputs the browser must draw."""
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    counts = {"code_cells": 0, "widgets": 0, "plotly": 0, "images": 0, "errors": 0}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        counts["code_cells"] += 1
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            counts["widgets"] += WIDGET_MIME in data
            counts["plotly"] += PLOTLY_MIME in data
            counts["images"] += "image/png" in data
            counts["errors"] += output.get("output_type") == "error"
    return counts


def wait_until(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def kernel_idle(page) -> bool:
    return "| Idle" in page.inner_text("#jp-main-statusbar")


def open_notebook(page, lab, name: str):
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=60_000)
    # The toolbar may say idle before the kernel is connected; the status bar text is reliable.
    wait_until(lambda: kernel_idle(page), 120, "the kernel to start")


# Each code cell's prompt ("[12]:", "[*]:", "[ ]:"), the first line of its source, and the text of its error output.
CODE_CELLS = """nodes => nodes.map(n => ({
    prompt: n.querySelector('.jp-InputArea-prompt').textContent.trim(),
    source: (n.querySelector('.jp-InputArea-editor .cm-line') || {textContent: ''}).textContent.slice(0, 80),
    error: [...n.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(o => o.textContent.slice(-600)).join(' | ')}))"""


def unfinished_run(page, lab) -> str:
    """What a Run All that did not finish left: the kernel's state, each cell not run (or still running), each
    error, and the server's last lines (a kernel that died and restarted shows there)."""
    cells = page.eval_on_selector_all(".jp-CodeCell", CODE_CELLS)
    left = [f"code cell {index} {cell['prompt']} {cell['source']!r} {cell['error']}" for index, cell in enumerate(cells)
            if not (cell["prompt"].startswith("[") and cell["prompt"][1:-2].isdigit()) or cell["error"]]
    return "\n".join([f"status bar: {page.inner_text('#jp-main-statusbar')!r}", *left[:8],
                      f"({len(left) - 8} more)" * (len(left) > 8), "server log:", lab.log_tail()])


def run_all(page, lab, code_cells: int, meanwhile=None):
    """Run All, then wait for every cell to finish; ``meanwhile(page)`` runs in between (while cells run)."""
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item[data-command='runmenu:run-all']")
    if meanwhile is not None:
        meanwhile(page)

    def finished():
        prompts = page.eval_on_selector_all(
            ".jp-CodeCell .jp-InputArea-prompt", "nodes => nodes.map(n => n.textContent.trim())")
        done = [p for p in prompts if p.startswith("[") and p[1:-2].isdigit()]
        return len(done) == code_cells and "[*]:" not in prompts and kernel_idle(page)

    try:
        wait_until(finished, RUN_TIMEOUT, "Run All to finish")
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}\n{unfinished_run(page, lab)}") from None


def kernel_peak_memory(lab, name: str) -> int:
    """Peak resident memory (VmHWM) of the kernel running ``name``, read from /proc."""
    with urllib.request.urlopen(f"{lab.url}/api/sessions?token={lab.token}") as response:
        sessions = json.load(response)
    kernel_id = next(s["kernel"]["id"] for s in sessions if s["path"].endswith(name))
    for pid in lab.kernel_pids():
        if kernel_id in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            return peak_resident_memory(pid)
    raise AssertionError(f"no kernel process found for {name}")


def shut_down_kernels(lab):
    request = urllib.request.Request(f"{lab.url}/api/sessions?token={lab.token}")
    for session in json.load(urllib.request.urlopen(request)):
        urllib.request.urlopen(urllib.request.Request(
            f"{lab.url}/api/sessions/{session['id']}?token={lab.token}", method="DELETE"))


def screenshot_whole_notebook(page, path: Path):
    height = page.evaluate(
        "() => document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(height + 200, 16000)})
    page.evaluate("() => { document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer').scrollTop = 0; }")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 1000})


def move_a_control(page, view) -> bool:
    """Move the first slider (or dropdown) of a widget view; True if what it shows changed."""
    watched = view.locator(".widget-output").first if view.locator(".widget-output").count() else view
    before = watched.inner_html()
    slider = view.locator(".noUi-handle").first
    select = view.locator("select").first
    if slider.count():
        slider.focus()
        for key in ("ArrowRight", "ArrowLeft", "ArrowLeft"):
            page.keyboard.press(key)
            try:
                return wait_until(lambda: watched.inner_html() != before, 15, "the explorer to redraw")
            except AssertionError:
                continue
        return False
    if select.count():
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        other = next(o for o in options if o != current)
        select.select_option(label=other)
        return wait_until(lambda: watched.inner_html() != before, 30, "the explorer to redraw")
    return False


# What a keyboard user can reach in an explorer: its enabled, visible controls (not those of a figure it shows).
# A slider is two: its handle, and its readout, where the value can be typed.
CONTROLS = ("input:not(:disabled), select:not(:disabled), button:not(:disabled), textarea, .noUi-handle, "
            ".widget-readout[contenteditable=true]")
EXPLORER_CONTROLS = f"""v => [...v.querySelectorAll('{CONTROLS}')]
    .filter(c => c.getClientRects().length && !c.closest('.widget-output'))"""
# Each control's visible label: its widget's description, or a button's own text.
CONTROL_LABELS = f"""v => ({EXPLORER_CONTROLS})(v).map(control => {{
    if (control.tagName === 'BUTTON') return control.textContent.trim();
    const widget = control.closest('.widget-inline-hbox, .widget-checkbox, .widget-slider, .widget-dropdown');
    const label = widget && [...widget.querySelectorAll('.widget-label, .widget-label-basic')]
        .find(l => l.getClientRects().length && l.textContent.trim());
    return label ? label.textContent.trim() : '';
}})"""
# Keys that change a focused control. A dropdown takes Home and End: in JupyterLab's command mode the up and
# down arrows move between cells (JupyterLab's shortcuts take them before the dropdown does).
KEYS = {"slider": ("ArrowRight", "ArrowLeft", "ArrowLeft"), "SELECT": ("End", "Home")}


def drive_by_keyboard(page, view) -> str:
    """Tab into an explorer, through every control, then change its first slider or dropdown by keyboard.

    Starts with the focus just before the explorer (on the view itself, as a keyboard user arriving from
    the cell above). Returns the label of the control that was changed; fails if a control has no visible
    label, cannot be reached with Tab in order, or the figure does not redraw.
    """
    labels = view.evaluate(CONTROL_LABELS)
    assert labels and all(labels), f"a control without a visible label: {labels}"
    view.evaluate("v => { v.tabIndex = -1; v.focus(); }")
    reached = []
    for _ in labels:
        page.keyboard.press("Tab")
        reached.append(view.evaluate(f"v => ({EXPLORER_CONTROLS})(v).indexOf(document.activeElement)"))
    assert reached == list(range(len(labels))), f"Tab reached controls {reached} of {labels}"
    watched = view.locator(".widget-output").first
    view.evaluate("v => v.focus()")
    for label in labels:
        page.keyboard.press("Tab")
        kind = page.evaluate("() => document.activeElement.classList.contains('noUi-handle') ? 'slider' "
                             ": document.activeElement.tagName")
        if kind not in KEYS:
            continue
        before = watched.inner_html()
        for key in KEYS[kind]:
            page.keyboard.press(key)
            try:
                wait_until(lambda: watched.inner_html() != before, 30, f"a redraw after {key} on {label!r}")
                return label
            except AssertionError:
                continue  # at the end of its range: the other way
        raise AssertionError(f"the keys {KEYS[kind]} on {label!r} changed nothing")
    raise AssertionError(f"no slider or dropdown among {labels}")


def training_view(page):
    return page.locator(WIDGET_VIEWS).filter(has=page.locator("button:has-text('Continue')")).first


def interrupt_the_wait(page) -> None:
    """Lesson 09, while Run All waits in ``view.wait()`` for the training: the view says so, and the
    notebook's interrupt (Kernel > Interrupt Kernel) stops the run there; Run All then goes on."""
    view = training_view(page)
    wait_until(lambda: view.count() and "the notebook waits for it" in view.inner_text(), 300,
               "the training view to train while the next cell waits")
    assert view.locator("button:has-text('Stop')").is_disabled()  # a busy kernel could not answer it
    page.click("div.lm-MenuBar-itemLabel:text-is('Kernel')")
    page.click("li.lm-Menu-item[data-command='kernelmenu:interrupt']")
    wait_until(lambda: "stopped at step" in view.inner_text(), 60, "the interrupt to stop the run")


def stop_and_continue_by_keyboard(page) -> None:
    """Lesson 09 after Run All (the kernel idle): Tab into the view to Continue and press Space, see it train
    on; Tab in again to Stop (a disabled button takes no focus) and press Space, see it stop."""
    view = training_view(page)
    view.scroll_into_view_if_needed()
    for label, state in (("Continue", "training: step"), ("Stop", "stopped at step")):
        view.evaluate("v => { v.tabIndex = -1; v.focus(); }")
        for _ in range(4):  # the progress bar takes no focus
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.textContent.trim()") == label:
                break
        else:
            raise AssertionError(f"Tab never reached the {label} button")
        page.keyboard.press("Space")
        wait_until(lambda: state in view.inner_text(), 60, f"{label} by keyboard to show '{state}'")
        print(f"training view: {label} by keyboard ->", next(line for line in view.inner_text().splitlines()
                                                             if state in line))


LIVE_TRAINING = {"09_train_your_own.ipynb": interrupt_the_wait}  # what to do while Run All runs


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_in_jupyterlab(page, lab, artifacts, name):
    expected = expected_outputs(name)
    open_notebook(page, lab, name)
    try:
        run_all(page, lab, expected["code_cells"], LIVE_TRAINING.get(name))
        # Widgets rendered, none failed.
        views = page.locator(WIDGET_VIEWS)
        wait_until(lambda: views.count() >= expected["widgets"], 60, "every widget view")
        assert views.count() == expected["widgets"]
        assert "Error displaying widget" not in page.inner_text(".jp-NotebookPanel")

        # Errors only where the notebook means to raise.
        tracebacks = page.locator(".jp-OutputArea-output:has-text('Traceback (most recent call last)')")
        assert tracebacks.count() == expected["errors"], page.inner_text(".jp-NotebookPanel")[-3000:]

        # Every plotly figure drew its SVG; every matplotlib image is there.
        drawn = page.locator(".js-plotly-plot:has(.main-svg)")
        wait_until(lambda: drawn.count() >= expected["plotly"], 60, f"{expected['plotly']} plotly figures")
        assert page.locator(".jp-RenderedImage img").count() >= expected["images"]

        if name in LIVE_TRAINING:
            stop_and_continue_by_keyboard(page)

        # The first explorer with a slider or a dropdown, by keyboard only; then touch every explorer.
        explorers = [views.nth(i) for i in range(views.count()) if views.nth(i).locator(".noUi-handle, select").count()]
        explorers[0].scroll_into_view_if_needed()
        moved = drive_by_keyboard(page, explorers[0])
        print(f"{name}: explorer driven by keyboard, moved {moved!r}")
        for i in range(views.count()):
            view = views.nth(i)
            view.scroll_into_view_if_needed()
            if view.locator(".noUi-handle, select").count():
                assert move_a_control(page, view), f"moving a control of widget {i} changed nothing"

        peak = kernel_peak_memory(lab, name)
        with open(artifacts / "kernel_memory.txt", "a") as log:
            log.write(f"{name}\t{peak / 2**20:.0f} MiB\n")
        print(f"{name}: kernel peak memory {peak / 2**20:.0f} MiB")
        assert peak < KERNEL_MEMORY_LIMIT, f"{name}: kernel peaked at {peak / 2**20:.0f} MiB"
    finally:
        screenshot_whole_notebook(page, artifacts / f"{Path(name).stem}.png")
        shut_down_kernels(lab)


STORED_PLOTLY = [n for n in NOTEBOOKS if expected_outputs(n)["plotly"]]


@pytest.mark.parametrize("name", STORED_PLOTLY)
def test_stored_plotly_figures_draw_without_running(page, lab, artifacts, name):
    expected = expected_outputs(name)
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=60_000)
    drawn = page.locator(".js-plotly-plot:has(.main-svg)")
    try:
        wait_until(lambda: drawn.count() >= expected["plotly"], 60, f"{expected['plotly']} stored figures")
    finally:
        page.screenshot(path=str(artifacts / f"{Path(name).stem}_stored.png"))
        shut_down_kernels(lab)

