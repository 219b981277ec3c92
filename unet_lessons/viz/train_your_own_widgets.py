"""The live view of lesson 09 (``notebooks/09_train_your_own.ipynb``): watch your own U-Net learn to draw.

The model trains in a background thread, so the notebook stays responsive: Stop ends the run after the step
in progress, Continue goes on from exactly there (:class:`unet_lessons.recipe.Trainer` keeps every random
number's state). A kernel handles one thing at a time, so the buttons answer while the notebook is idle;
while a cell blocks in :meth:`TrainingView.wait` (Run All), the notebook's interrupt button stops the run.
Every ``every`` steps the thread pauses training and draws one row of samples per class from the EMA
weights, **from the same starting noise every time**, so the learner sees the same samples sharpen. When the
run ends (or stops), the model is saved to the learner's folder (:func:`unet_lessons.recipe.save_own_model`).
"""

import ctypes
import signal
import threading
import time
import weakref
from pathlib import Path

import ipywidgets as widgets
import torch

from unet_lessons.recipe import Trainer, save_own_model
from unet_lessons.sampling import ddim_sample
from unet_lessons.training import check_count
from unet_lessons.viz.train_your_own import learning_to_draw_figure
from unet_lessons.viz.widgets import figure_area, redraw

SAMPLER = {"num_steps": 25, "guidance_scale": 2.0}  # lesson 08's default sampler
_TRAINING: "weakref.WeakSet[Trainer]" = weakref.WeakSet()  # trainers a view is running now, in any cell


def release_openmp_threads() -> None:
    """Free the calling thread's OpenMP worker threads (OpenMP 5's ``omp_pause_resource_all(omp_pause_hard)``),
    if PyTorch's OpenMP library is found; they are made again when this thread next computes in parallel.

    Why: once two threads each lead a team of OpenMP workers, more threads than cores wait for work, and GNU
    OpenMP then sleeps between parallel regions instead of spinning. Measured on 2 cores (the lesson's training
    step): 183 ms in the main thread, 226 ms in a second thread after the main thread had computed, 187 ms in
    that thread after this call.
    """
    for library in (Path(torch.__file__).parent / "lib" / "libgomp.so.1", "libgomp.so.1", "libomp.dylib"):
        try:
            ctypes.CDLL(str(library)).omp_pause_resource_all(2)  # 2: omp_pause_hard
            return
        except (OSError, AttributeError):  # not this platform's library, or an OpenMP without the call
            continue


def release_free_memory() -> None:
    """Give the memory that freed tensors leave in the C library's heaps back to the system (glibc's
    ``malloc_trim``; nothing elsewhere).

    Why: the training thread's steps leave a heap of its own, about 200 MB here, that the process keeps after
    the thread ends; the lesson's later cells then grow the main thread's heap on top of it, and a run that
    goes on (Continue) grows the thread's again. Measured on lesson 09's steps: the process's peak went from
    1,069 MB to 824 MB with this call when a run ends; in the browser test (an interrupted run, the rest of
    the lesson, then Continue) the kernel peaked at 1,087 MiB before it was also called when a run starts.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _minutes(seconds: float) -> str:
    """125.3 -> '2:05'."""
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


class TrainingView(widgets.VBox):
    """Progress (steps, elapsed, remaining), Stop and Continue, and the loss and samples redrawn as it trains.

    Args:
        trainer: the :class:`Trainer` to run (class-conditional; trained in place, to its ``total_steps``).
        class_names: one name per class of its model, by label.
        every: redraw the samples every this many steps.
        per_class: samples per class (per row).
        seed: the seed of the samples' starting noise (the same at every redraw).
        save_to: the folder the model is saved to when the run ends or stops (None: not saved).
        start: start training at once (as Run All does); otherwise press Continue.
    """

    def __init__(self, trainer: Trainer, class_names: tuple[str, ...], every: int = 100, per_class: int = 5,
                 seed: int = 0, save_to: str | None = "my_model", start: bool = True):
        if not isinstance(trainer, Trainer):
            raise ValueError(f"trainer: a unet_lessons.recipe.Trainer; got {type(trainer).__name__}.")
        if trainer in _TRAINING:
            raise ValueError("trainer: another view is training it now (two would step the same weights at once); "
                             "press that view's Stop first, or make a new Trainer.")
        classes = trainer.model.config.num_classes
        if classes is None:
            raise ValueError("trainer: its model is unconditional (num_classes=None); the view draws one row per "
                             "class, so train a class-conditional UNet.")
        if isinstance(class_names, str) or not isinstance(class_names, (tuple, list)) or len(class_names) != classes:
            raise ValueError(f"class_names: one name per class of the model, {classes} names (e.g. "
                             "FASHION_MNIST_CLASSES).")
        check_count(every, "every", 1)
        check_count(per_class, "per_class", 1)
        check_count(seed, "seed", 0)
        self.trainer, self.class_names, self.every, self.save_to = trainer, tuple(class_names), every, save_to
        self.sample_labels = torch.arange(classes).repeat_interleave(per_class)
        self.seed = seed
        self.samples_at = -1  # the step the samples shown were drawn at
        self.seconds = 0.0  # time spent training and redrawing, over every run
        self.redraw_seconds: list[float] = []  # what each redraw cost (benchmarks/train_your_own.py)
        self.snapshots: dict[int, torch.Tensor] = {}  # the samples drawn at each redraw, by step
        self.message = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.running = False  # True from start() until the thread has finished (and saved)
        self.waiting = False  # True while a cell blocks in wait(): the buttons cannot answer then
        self.progress = widgets.IntProgress(value=trainer.done, min=0, max=trainer.total_steps, description="trained",
                                            layout=widgets.Layout(width="420px"))
        self.status = widgets.Label()
        self.stop_button = widgets.Button(description="Stop", tooltip="stop after the step in progress")
        self.continue_button = widgets.Button(description="Continue",  # no icon: its font is not in the course pack
                                              tooltip="go on from where it stopped")
        self.stop_button.on_click(lambda _: self.stop())
        self.continue_button.on_click(lambda _: self.start())
        self.output = figure_area()
        super().__init__([widgets.HBox([self.progress, self.stop_button, self.continue_button]), self.status,
                          self.output])
        self._draw()
        self._show_status()
        if start:
            self.start()

    def start(self) -> None:
        """Train (on) in the background until the run's last step or Stop."""
        if self.running or self.trainer.done >= self.trainer.total_steps or self.trainer in _TRAINING:
            return
        self._stop.clear()
        self.message = ""
        self.running = True
        _TRAINING.add(self.trainer)
        release_openmp_threads()  # the training thread's workers then spin as the main thread's would
        release_free_memory()  # what the cells before left free, before the thread's own heap grows
        self._thread = threading.Thread(target=self._train, daemon=True)
        self._thread.start()
        self._show_status()

    def stop(self) -> None:
        """Ask the run to stop after the step in progress (or the redraw in progress)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run stops or ends (what Run All does before the next cells use the model). The
        notebook's interrupt button (■) stops the run here, and the lesson goes on with the model as it is."""
        self.waiting = True
        self._show_status()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.2 if timeout is None else min(0.2, timeout))
                if timeout is not None:
                    timeout -= 0.2
                    if timeout <= 0:
                        break
        except KeyboardInterrupt:
            self.stop()
            while self.running:  # not join(): a join that a KeyboardInterrupt cut short may return early
                time.sleep(0.05)
        finally:
            self.waiting = False
            self._show_status()
        if self.message.startswith("⚠️"):
            raise RuntimeError(self.message)

    def _train(self) -> None:
        if hasattr(signal, "pthread_sigmask"):  # POSIX: the notebook's interrupt (SIGINT) goes to the main thread
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # only, never cuts this thread's system calls
        self._show_status()  # this thread's first widget message opens its channel to the kernel now, at the start
        trainer = self.trainer
        started, last_shown = time.perf_counter(), 0.0
        before = self.seconds

        def on_step(step: int, loss: float) -> None:
            nonlocal last_shown
            self.seconds = before + time.perf_counter() - started
            if time.perf_counter() - last_shown > 0.5:  # a widget message per step would flood a slow browser
                last_shown = time.perf_counter()
                self._show_status()

        try:
            while trainer.done < trainer.total_steps and not self._stop.is_set():
                chunk = self.every - trainer.done % self.every
                trainer.run(chunk, on_step=on_step, should_stop=self._stop.is_set)
                if trainer.done % self.every == 0 or trainer.done == trainer.total_steps:
                    self._draw()
                self.seconds = before + time.perf_counter() - started
            if trainer.done < trainer.total_steps and self.samples_at != trainer.done:
                self._draw()  # stopped between redraws: show what the model draws now
            self.seconds = before + time.perf_counter() - started
            if self.save_to is not None:
                path = save_own_model(trainer, self.save_to)
                self.message = f"saved to {path}"
        except Exception as error:  # shown in the widget; wait() raises it in the notebook
            self.message = f"⚠️ {type(error).__name__}: {error}"
        _TRAINING.discard(trainer)
        release_free_memory()
        self.running = False
        self._show_status()

    def _draw(self) -> None:
        """Sample one row per class from the EMA weights, from the same noise, and redraw the figure."""
        start = time.perf_counter()
        trainer = self.trainer
        model = trainer.sampler_model()
        size = model.config.image_size
        samples = ddim_sample(model, trainer.schedule, (len(self.sample_labels), model.config.in_channels, size, size),
                              y=self.sample_labels, seed=self.seed, **SAMPLER)
        losses = list(trainer.losses)
        title = (f"Your U-Net after {trainer.done:,} of {trainer.total_steps:,} steps (DDIM {SAMPLER['num_steps']} "
                 f"steps, w = {SAMPLER['guidance_scale']:g}, the same noise every time)")
        redraw(self.output, lambda: learning_to_draw_figure(losses, trainer.total_steps, samples, self.class_names,
                                                            title))
        self.samples_at = trainer.done
        self.snapshots[trainer.done] = samples
        if trainer.done:
            self.redraw_seconds.append(time.perf_counter() - start)

    def _show_status(self) -> None:
        trainer = self.trainer
        done, total = trainer.done, trainer.total_steps
        self.progress.value = done
        if self.running and done:
            left = self.seconds / done * (total - done)
            state = (f"training: step {done:,} of {total:,}, {_minutes(self.seconds)} elapsed, "
                     f"about {_minutes(left)} left")
        elif self.running:
            state = f"training: starting, {total:,} steps to go"
        elif done >= total:
            state = f"done: {total:,} steps in {_minutes(self.seconds)}"
        else:
            state = f"stopped at step {done:,} of {total:,} ({_minutes(self.seconds)}): press Continue to go on"
        if self.running and self.waiting:
            state += " (the notebook waits for it in view.wait(): to stop, press the notebook's interrupt button ■)"
        self.status.value = state + (f"; {self.message}" if self.message else "")
        self.stop_button.disabled = not self.running or self.waiting
        self.continue_button.disabled = self.running or done >= total
