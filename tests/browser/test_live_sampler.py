"""Lesson 08's live sampler (classroom/static/course-sampler.js) in the course pack and the deck, in Chromium with
no internet: the page computes what PyTorch computes, its controls draw and scrub the reverse process, it works
from a presenter's keyboard, and a missing, damaged or stale model file is said in the page."""

import json

import numpy as np
import pytest
import torch
from conftest import PROJECTOR

from unet_lessons.course_files import load_course_model
from unet_lessons.sampling import ddim_sample

PAGE = "site/08_it_generates.html"
DECK = "slides/08_it_generates.slides.html"
BATCH = 10  # the page draws one row of 10
# Largest |page - ddim_sample| accepted, pixels in [-1, 1]: a seventh of one grey level of 256. Measured on an
# Intel Xeon: 2e-5 to 4e-5 (the ONNX Runtime forward pass differs from PyTorch's by about 2e-6).
SAME_IMAGES = 1e-3
STATUS = ".course-sampler-status"
PROBLEM = ".course-sampler-problem"


def wait_for_model(page):
    page.wait_for_function(f"document.querySelector('{STATUS}').textContent.includes('loaded') "
                           f"|| !document.querySelector('{PROBLEM}').hidden", timeout=60_000)


def sample_in_page(page, label: int, steps: int, guidance: float, noise: torch.Tensor) -> np.ndarray:
    return np.array(page.evaluate("([settings, noise]) => window.courseSampler.sample(settings, noise)",
                                  [{"label": label, "steps": steps, "guidance": guidance},
                                   noise.flatten().tolist()]), dtype=np.float32)


def test_page_draws_what_ddim_sample_draws(offline, classroom_url):
    # The starting noise is PyTorch's for seed 1: ddim_sample draws exactly it first (eta = 0 draws no more).
    offline.goto(f"{classroom_url}/{PAGE}")
    wait_for_model(offline)
    model, schedule, _ = load_course_model()
    seed, shape = 1, (BATCH, 1, 32, 32)
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    differences = {}
    for label in (7, 3):  # sneakers, dresses
        for steps in (5, 25):
            for guidance in (0, 1, 2):
                drawn = sample_in_page(offline, label, steps, guidance, noise)
                expected = ddim_sample(model, schedule, shape, num_steps=steps, y=torch.full((BATCH,), label),
                                       guidance_scale=guidance, seed=seed)
                differences[(label, steps, guidance)] = float(np.abs(drawn - expected.flatten().numpy()).max())
    print("max |page - ddim_sample| by (label, steps, w):", differences)
    assert max(differences.values()) < SAME_IMAGES, differences


def test_draw_shows_a_row_and_the_reverse_process(offline, classroom_url, artifacts):
    offline.goto(f"{classroom_url}/{PAGE}")
    panel = offline.locator(".course-sampler")
    wait_for_model(offline)
    assert panel.locator(PROBLEM).is_hidden()
    panel.locator("select[name=label]").select_option(label="Dress")
    panel.locator("input[name=steps]").fill("10")
    assert panel.locator("output[name=steps-value]").text_content() == "10"
    panel.locator("button[name=draw]").click()
    offline.wait_for_function(f"document.querySelector('{STATUS}').textContent.includes('drawn')", timeout=60_000)
    samples = panel.locator("[data-row=samples] img")
    assert samples.count() == BATCH
    assert samples.first.get_attribute("alt") == "Sample 1 of 10: Dress, 10 DDIM steps, w = 2, seed 0"
    assert panel.locator(".course-sampler-progress").evaluate("bar => [bar.value, bar.max]") == [10, 10]
    # The reverse process: the first step shows x_t at t = 999; End moves to the last step, t = 0.
    frame = panel.locator("input[name=frame]")
    assert frame.get_attribute("max") == "9"
    assert panel.locator("output[name=frame-value]").text_content() == "1 of 10: t = 999"
    first = panel.locator("[data-row=x0] img").first.get_attribute("src")
    frame.focus()
    offline.keyboard.press("End")
    assert panel.locator("output[name=frame-value]").text_content() == "10 of 10: t = 0"
    assert panel.locator("[data-row=x_t] img").first.get_attribute("alt") == "Sample 1, x_t at t = 0"
    assert panel.locator("[data-row=x0] img").first.get_attribute("src") != first
    panel.screenshot(path=str(artifacts / "live_sampler_site.png"))


def test_a_seed_out_of_range_is_said_and_not_drawn(offline, classroom_url):
    offline.goto(f"{classroom_url}/{PAGE}")
    panel = offline.locator(".course-sampler")
    wait_for_model(offline)
    for wrong in ("-3", "1.5", "1000000", ""):
        panel.locator("input[name=seed]").fill(wrong)
        assert panel.locator(PROBLEM).text_content() == "Seed: type a whole number from 0 to 999999.", wrong
        assert panel.locator("button[name=draw]").is_disabled()
    panel.locator("input[name=seed]").fill("12")
    assert panel.locator(PROBLEM).is_hidden()
    assert panel.locator("button[name=draw]").is_enabled()


def damaged(route):
    response = route.fetch()
    body = bytearray(response.body())
    body[len(body) // 2] ^= 0xFF
    route.fulfill(response=response, body=bytes(body))


def stale(route):
    response = route.fetch()
    manifest = response.json() | {"weights_sha256": "0" * 64}
    route.fulfill(response=response, body=json.dumps(manifest))


@pytest.mark.parametrize("file, serve, said", [
    ("course_model.onnx", lambda route: route.fulfill(status=404), "is missing (404"),
    ("course_model.onnx", damaged, "is damaged"),
    ("model.json", lambda route: route.fulfill(status=404), "manifest is missing (404"),
    ("model.json", stale, "is stale"),
], ids=["model missing", "model damaged", "manifest missing", "model stale"])
def test_a_bad_model_file_is_said_in_the_page(new_offline_page, classroom_url, file, serve, said):
    page = new_offline_page(classroom_url + "/", PROJECTOR)
    try:
        page.route(f"**/_static/course-model/{file}", serve)
        page.goto(f"{classroom_url}/{PAGE}")
        wait_for_model(page)
        problem = page.locator(PROBLEM)
        assert problem.is_visible()
        assert said in problem.text_content()
        assert "make site" in problem.text_content()  # how to fix it
        assert page.locator(STATUS).text_content() == "The live sampler is not available."
        assert page.locator(".course-sampler button[name=draw]").is_disabled()
        page.locator(".course-sampler input[name=seed]").fill("7")  # a valid setting does not hide the problem
        assert said in problem.text_content()
    finally:
        page.context.close()


def test_deck_sampler_works_from_a_presenters_keyboard(offline, classroom_url, artifacts):
    offline.goto(f"{classroom_url}/{DECK}")
    offline.wait_for_selector(".reveal.ready")
    # Where the sampler's slide is: its section's index among its siblings, and its parent's among the top ones.
    where = offline.evaluate("""() => {
        const slide = document.querySelector('.course-sampler').closest('section');
        const index = (section) => [...section.parentElement.children].indexOf(section);
        return [index(slide.parentElement.closest('section')), index(slide)]; }""")
    offline.goto(f"{classroom_url}/{DECK}#/{where[0]}/{where[1]}")
    offline.wait_for_selector(".course-sampler:visible")
    wait_for_model(offline)
    panel = offline.locator(".course-sampler")
    panel.locator("select[name=label]").focus()
    offline.keyboard.press("ArrowDown")  # moves the class picker, not the slide
    assert panel.locator("select[name=label]").input_value() == "8"
    for _ in range(4):  # steps, guidance, seed, Draw
        offline.keyboard.press("Tab")
    assert offline.evaluate("document.activeElement.name") == "draw"
    offline.keyboard.press("Enter")
    offline.wait_for_function(f"document.querySelector('{STATUS}').textContent.includes('drawn')", timeout=60_000)
    assert panel.locator("[data-row=samples] img").first.get_attribute("alt").endswith(": Bag, 25 DDIM steps, "
                                                                                         "w = 2, seed 0")
    assert offline.evaluate("location.hash") == f"#/{where[0]}/{where[1]}"  # still on the sampler's slide
    # With its samples and the reverse process shown, the slide still fits the projector.
    size = offline.evaluate("() => { const slide = document.querySelector('.course-sampler').closest('section');"
                            "return [slide.scrollWidth, slide.scrollHeight]; }")
    assert size[0] <= PROJECTOR["width"] and size[1] <= PROJECTOR["height"], size
    offline.screenshot(path=str(artifacts / "live_sampler_slide.png"))


def test_a_page_opened_from_disk_says_to_serve_it(new_offline_page, classroom_folder):
    page = new_offline_page("file://", PROJECTOR)
    try:
        page.goto((classroom_folder / PAGE).as_uri())
        wait_for_model(page)
        assert "Serve the folder with any web server" in page.inner_text(PROBLEM)
        assert page.locator(".course-sampler button[name=draw]").is_disabled()
    finally:
        page.context.close()
