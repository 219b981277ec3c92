"""Lesson 08's live sampler in headless Chromium: 10 samples x 25 DDIM steps at w = 2, against PyTorch.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/browser_sampler.py``). The course pack is built into a
temporary folder and lesson 08's page is opened twice: served by ``classroom.serve`` (cross-origin isolated, so
ONNX Runtime Web may use several threads) and by Python's plain ``http.server`` (as any static web server: one
thread). Each page draws once to warm up (its time is reported: the first draw also compiles the WebAssembly),
then ``REPEATS`` times from the same starting noise; a draw is timed in the page, from the call to the last
image shown, so it includes the JavaScript DDIM steps, the guidance mix and drawing the images. w = 2 runs the
model on 20 images per step (the conditional and the "no class" halves). PyTorch's time is ``ddim_sample`` for
the same batch, settings and steps, in this process, with 2 threads and with 1.
"""

import functools
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
from playwright.sync_api import sync_playwright

from _common import ROOT, Section, Spread, cpu_model, verdict
from unet_lessons.course_files import load_course_model
from unet_lessons.sampling import ddim_sample

sys.path.insert(0, str(ROOT))  # the classroom package at the root, not benchmarks/classroom.py
from classroom.build import build_site  # noqa: E402
from classroom.serve import CoursePackHandler, course_server  # noqa: E402

REPEATS = 5
BATCH, STEPS, GUIDANCE, LABEL = 10, 25, 2.0, 7
GOAL_S = 2.0
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

TIMED_DRAW = """async ([settings, noise]) => {
  const start = performance.now();
  await window.courseSampler.sample(settings, noise);
  return (performance.now() - start) / 1000;
}"""


class Quiet:
    def log_message(self, *args):
        pass


class QuietCoursePack(Quiet, CoursePackHandler):
    pass


class QuietStatic(Quiet, http.server.SimpleHTTPRequestHandler):
    pass


def browser_draws(browser, site: Path, handler, noise: list[float]) -> dict:
    """Serve ``site`` with ``handler``; the first draw's time, REPEATS timed draws, threads and the wasm file."""
    if handler is QuietStatic:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    else:
        server = course_server(site, handler=handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    wasm = []
    page.on("response", lambda response: response.url.endswith(".wasm") and wasm.append(response.url))
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/08_it_generates.html")
        page.wait_for_function("window.courseSampler", timeout=60_000)
        assert page.evaluate("window.courseSampler.ready"), page.inner_text(".course-sampler-problem")
        settings = {"label": LABEL, "steps": STEPS, "guidance": GUIDANCE}
        first = page.evaluate(TIMED_DRAW, [settings, noise])
        draws = [page.evaluate(TIMED_DRAW, [settings, noise]) for _ in range(REPEATS)]
        status = page.inner_text(".course-sampler-status")
        threads = int(status.rsplit("(", 1)[1].split()[0])
        return {"first": first, "draws": draws, "threads": threads, "isolated": page.evaluate("crossOriginIsolated"),
                "wasm": Path(wasm[0]).name if wasm else "none fetched"}
    finally:
        page.close()
        server.shutdown()


def torch_draws(threads: int) -> list[float]:
    model, schedule, _ = load_course_model()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        labels = torch.full((BATCH,), LABEL)
        ddim_sample(model, schedule, (BATCH, 1, 32, 32), STEPS, y=labels, guidance_scale=GUIDANCE)  # warm-up
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            ddim_sample(model, schedule, (BATCH, 1, 32, 32), STEPS, y=labels, guidance_scale=GUIDANCE)
            times.append(time.perf_counter() - start)
        return times
    finally:
        torch.set_num_threads(before)


def main() -> None:
    section = Section("8_browser_sampler", "Lesson 08's live sampler in the browser (ONNX Runtime Web)",
                      __doc__.split("\n\n", 1)[1].strip() + f"\n\nMachine: {cpu_model()}. Times in seconds, median "
                      f"(p5-p95) of {REPEATS}; per step = median / {STEPS}. Goal: {BATCH} samples x {STEPS} steps at "
                      f"w = {GUIDANCE:g} in at most {GOAL_S:g} s, served by `classroom.serve`.")
    noise = torch.randn((BATCH, 1, 32, 32), generator=torch.Generator().manual_seed(0)).flatten().tolist()
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        build_site(ROOT / "notebooks", site)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                runs = {"Chromium, served by classroom.serve": browser_draws(browser, site, QuietCoursePack, noise),
                        "Chromium, served by http.server": browser_draws(browser, site, QuietStatic, noise)}
            finally:
                browser.close()
    rows = []
    for name, run in runs.items():
        spread = Spread.of(run["draws"])
        rows.append([name, f"{run['threads']} ({'isolated' if run['isolated'] else 'not isolated'}), "
                     f"{run['wasm']}", f"{run['first']:.2f}", spread.format(2), f"{1000 * spread.median / STEPS:.0f} ms"])
    for threads in (2, 1):
        spread = Spread.of(torch_draws(threads))
        rows.append([f"PyTorch ddim_sample, {threads} thread{'s' * (threads > 1)}", f"{threads}", "-",
                     spread.format(2), f"{1000 * spread.median / STEPS:.0f} ms"])
    section.add_table(["where", "threads, WebAssembly", "first draw", "draw", "per step"], rows)
    served = statistics.median(runs["Chromium, served by classroom.serve"]["draws"])
    section.add_goal(f"live sampler, {BATCH} x {STEPS} steps at w = {GUIDANCE:g} (classroom.serve)",
                     f"{served:.2f} s", f"<= {GOAL_S:g} s", served <= GOAL_S)
    section.add_text(f"Goal: {verdict(served <= GOAL_S)}.")
    section.publish()


if __name__ == "__main__":
    main()
