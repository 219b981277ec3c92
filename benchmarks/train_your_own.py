"""Lesson 09 on our machines: the whole lesson's time and memory, and what its live training view costs.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/train_your_own.py``), on a quiet machine.

* **The lesson**: ``notebooks/09_train_your_own.ipynb`` executed top to bottom in a fresh kernel, as
  ``benchmarks/notebooks.py`` does (wall time from the kernel's start to the last cell's end; the kernel's peak
  resident memory). Goals: at most 6 minutes and 1 GB.
* **The live view** (:class:`unet_lessons.viz.train_your_own_widgets.TrainingView`) trains the lesson's model in
  a background thread and pauses every 100 steps to draw 50 samples. For ``STEPS`` steps of the lesson's
  recipe, measured quiet and with one busy process beside it (a Python loop on one core, like a browser tab
  or a second notebook): the time per training step without the view (``Trainer.run`` alone) and inside it,
  the seconds per redraw, the share of the run the redraws take, how long Stop takes to end the run, and the
  longest the kernel's main thread (where button clicks are handled) waited for its turn while the view
  trained (it sleeps 50 ms at a time and records how late it woke).
* **The targets compared** (the lesson's section 5, over seeds): the same model trained 100 and 150 steps asking
  for the noise ε and for the flow's velocity, with the lesson's two recipes, then 100 samples each (10 per
  class, DDIM 25 steps, w = 2) read by lesson 08's classifier; for each seed, the share recognised as the
  class asked for. The lesson checks one seed (0) for a gap of at least 30 points at 100 steps.
"""

import threading
import time

import torch

from _common import ROOT, Section, busy_core, verdict
from notebooks import run_notebook
from unet_lessons.configs import COURSE_CONFIG
from unet_lessons.course_files import load_classifier, load_training_subset
from unet_lessons.data import FASHION_MNIST_CLASSES, to_model_images
from unet_lessons.quality import class_accuracy
from unet_lessons.recipe import LESSON_RECIPE, Recipe, Trainer
from unet_lessons.sampling import ddim_sample
from unet_lessons.training import NoiseSchedule
from unet_lessons.unet import UNet
from unet_lessons.viz.train_your_own_widgets import TrainingView

LESSON = ROOT / "notebooks" / "09_train_your_own.ipynb"
STEPS, EVERY = 200, 100
LESSON_GOAL_S, MEMORY_GOAL = 360, 2**30


def trainer() -> Trainer:
    pixels, labels = load_training_subset()
    torch.manual_seed(0)
    return Trainer(UNet(COURSE_CONFIG), to_model_images(pixels), labels, NoiseSchedule.linear(), LESSON_RECIPE,
                   total_steps=1000)


def measure_view(steps: int = STEPS) -> dict:
    """Training alone, then inside the view, ``steps`` steps each; the main thread's lateness meanwhile."""
    plain = trainer()
    plain.run(5)  # the first steps allocate
    start = time.perf_counter()
    plain.run(steps)
    alone_ms = 1000 * (time.perf_counter() - start) / steps
    view_trainer = trainer()
    view_trainer.run(5)
    view = TrainingView(view_trainer, FASHION_MNIST_CLASSES, every=EVERY, save_to=None, start=False)
    # End the run at the redraw nearest ``steps`` steps on (its learning-rate schedule's length is kept), so it
    # holds one redraw per EVERY steps, as the lesson's does.
    view_trainer.total_steps = max(EVERY, round((5 + steps) / EVERY) * EVERY)
    steps = view_trainer.total_steps - 5
    lateness, done = [], threading.Event()

    def watch():  # the main thread's part: wake every 50 ms, as it would to handle a click
        while not done.is_set():
            asked = time.perf_counter()
            time.sleep(0.05)
            lateness.append(time.perf_counter() - asked - 0.05)

    watcher = threading.Thread(target=watch)
    drawn_before = len(view.redraw_seconds)  # the view's first drawing (before the run) is not the run's
    start = time.perf_counter()
    view.start()
    watcher.start()
    view.wait()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    redraws = view.redraw_seconds[drawn_before:]
    view_trainer.total_steps = 1000  # a few steps more, then Stop: how long until the run has ended
    view.start()
    time.sleep(3)
    asked = time.perf_counter()
    view.stop()
    view.wait()
    stop_s = time.perf_counter() - asked
    return {"alone_ms": alone_ms, "in_view_ms": 1000 * (seconds - sum(redraws)) / steps,
            "redraw_s": sum(redraws) / len(redraws), "redraw_share": sum(redraws) / seconds,
            "stop_s": stop_s, "main_thread_late_ms": 1000 * max(lateness)}


def measure_targets(seeds: tuple[int, ...] = (0, 1, 2), steps: tuple[int, ...] = (100, 150)) -> list[list]:
    """Rows (steps, seed, ε recognised, velocity recognised, gap in points), as the lesson's section 5 trains."""
    pixels, labels = load_training_subset()
    images, schedule, classifier = to_model_images(pixels), NoiseSchedule.linear(), load_classifier()
    asked = torch.arange(10).repeat_interleave(10)
    recipes = (Recipe(lr=2e-3, warmup_steps=100, lr_decay="cosine", ema_warmup=True), LESSON_RECIPE)  # ε, velocity
    rows = []
    for count in steps:
        for seed in seeds:
            scores = []
            for recipe in recipes:
                torch.manual_seed(seed)
                trainer = Trainer(UNet(COURSE_CONFIG), images, labels, schedule, recipe, total_steps=count, seed=seed)
                trainer.run(count)
                samples = ddim_sample(trainer.sampler_model(), schedule, (100, 1, 32, 32), num_steps=25, y=asked,
                                      guidance_scale=2.0, seed=seed)
                scores.append(class_accuracy(classifier, samples, asked))
            print(f"targets: {count} steps, seed {seed}: ε {scores[0]:.0%}, velocity {scores[1]:.0%}", flush=True)
            rows.append([count, seed, f"{scores[0]:.0%}", f"{scores[1]:.0%}", f"{100 * (scores[1] - scores[0]):+.0f}"])
    return rows


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS,
                        help="steps of each live-view measurement (the view's run is rounded to end on a redraw)")
    parser.add_argument("--skip-lesson", action="store_true", help="measure only the live view")
    parser.add_argument("--quiet-only", action="store_true", help="skip the measurement beside a busy process")
    parser.add_argument("--targets-only", action="store_true", help="measure only the targets compared")
    arguments = parser.parse_args()
    section = Section("8_train_your_own", "Lesson 09: the lesson's time and memory, and its live view's cost",
                      __doc__.split("\n\n", 1)[1].strip())
    targets = Section("8_train_your_own_targets", "Lesson 09: predicting ε or the velocity, over seeds",
                      "The lesson's section 5 (see the list above), for three seeds: the share of 100 samples "
                      "recognised as the class asked for.")
    targets.add_table(["steps", "seed", "ε recognised", "velocity recognised", "velocity - ε (points)"],
                      measure_targets())
    targets.publish()
    if arguments.targets_only:
        return
    if not arguments.skip_lesson:
        print("running lesson 09 in a fresh kernel", flush=True)
        wall, peak = run_notebook(LESSON)
        section.add_goal("lesson 09: time to run in a fresh kernel", f"{wall / 60:.1f} min", "<= 6 min",
                         wall <= LESSON_GOAL_S)
        section.add_goal("lesson 09: kernel peak memory", f"{peak / 2**20:.0f} MiB", "< 1024 MiB",
                         peak < MEMORY_GOAL)
        print(f"lesson 09: {wall:.0f} s, {peak / 2**20:.0f} MiB; {verdict(wall <= LESSON_GOAL_S)}", flush=True)
    rows = []
    for busy in (False,) if arguments.quiet_only else (False, True):
        with busy_core(busy):
            measured = measure_view(arguments.steps)
        print(busy, measured, flush=True)
        rows.append(["one busy process beside it" if busy else "quiet", f"{measured['alone_ms']:.0f}",
                     f"{measured['in_view_ms']:.0f}", f"{measured['redraw_s']:.1f}", f"{measured['redraw_share']:.0%}",
                     f"{measured['stop_s']:.2f}", f"{measured['main_thread_late_ms']:.0f}"])
    section.add_table(["machine", "ms / step, Trainer alone", "ms / step, in the view", "s / redraw (50 samples)",
                       f"share of the run spent redrawing (every {EVERY} steps)", "Stop -> run ended (s)",
                       "main thread: longest wait (ms)"], rows)
    section.publish()


if __name__ == "__main__":
    main()
