"""Build the files lessons 08 and 09 ship (``make course-model``): a sample of real test images, a subset of
the training images (lesson 09 trains on it where the full set is not installed), the classifier that scores
samples, and the class-conditional course model, trained on Fashion-MNIST.

Seeded and resumable: the course model trains in chunks, and after each one its weights, EMA, optimiser
and random-generator state go to ``build/course-model/checkpoint.safetensors``. Run the command again
after an interruption and it goes on from the last chunk; the result is the same as one uninterrupted run.
Files already built with the same recipe are kept; ``--retrain`` trains the classifier and the course model
again from scratch (to reproduce them; resume an interrupted retrain without it). Needs the full dataset (see ``unet_lessons.data``).

    python -m tools.train_course_model [--steps 6000] [--retrain]
"""

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from unet_lessons.configs import COURSE_CONFIG, UNetConfig
from unet_lessons.course_files import (ASSETS, CLASSIFIER, COURSE_MODEL, REAL_SAMPLE, TRAINING_SUBSET, read_checked,
                                       write_checked)
from unet_lessons.data import first_per_class, load_fashion_mnist, to_model_images
from unet_lessons.quality import Classifier, class_accuracy, train_classifier
from unet_lessons.training import NoiseSchedule, ema_model, train
from unet_lessons.unet import UNet

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "course-model"
CHECKPOINT = "checkpoint.safetensors"

SAMPLE_PER_CLASS = 100  # real test images per class shipped for the lesson
SUBSET_PER_CLASS = 600  # training images per class shipped for lesson 09 (benchmarks/training_subset.py)
CLASSIFIER_RECIPE = {"config": {"in_channels": 1, "image_size": 32, "num_classes": 10, "width": 16,
                                "num_features": 128},
                     "steps": 2000, "batch_size": 128, "lr": 1e-3, "seed": 0}
SCHEDULE = {"num_steps": 1000, "beta_start": 1e-4, "beta_end": 0.02}
RECIPE = {"batch_size": 64, "lr": 1e-3, "warmup_steps": 200, "label_dropout": 0.1, "ema_decay": 0.999, "seed": 0}
CHUNK = 250  # steps between checkpoints (the warm-up fits in the first)
DATA = ("Fashion-MNIST training split (60,000 images, Xiao, Rasul & Vollgraf 2017, MIT licence), 28x28 "
        "padded to 32x32 with background, scaled to [-1, 1]")


def commit() -> str:
    run = lambda *args: subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = run("rev-parse", "HEAD") or "unknown"
    # The code that trains, not the files it writes: a retrain rewrites the classifier in assets/ first.
    changed = run("status", "--porcelain", "--", "unet_lessons", "tools", ":(exclude)unet_lessons/assets")
    return head + ("+uncommitted" if changed else "")


def recorded(name: str, key: str, folder: Path = ASSETS) -> str | None:
    """The metadata ``key`` of a shipped file, or None if it is missing or fails its check."""
    try:
        return read_checked(name, folder)[1].get(key)
    except ValueError:
        return None


def build_real_sample() -> None:
    pixels, labels = load_fashion_mnist("test")
    chosen = first_per_class(labels, SAMPLE_PER_CLASS)
    recipe = f"the first {SAMPLE_PER_CLASS} test images of each class, in class order"
    if recorded(REAL_SAMPLE, "recipe") != recipe:
        write_checked({"pixels": pixels[chosen], "labels": labels[chosen]}, REAL_SAMPLE,
                      {"recipe": recipe, "data": "Fashion-MNIST test split (MIT licence)"})
    print(f"{REAL_SAMPLE}: {len(chosen)} images", flush=True)


def build_training_subset() -> None:
    pixels, labels = load_fashion_mnist("train")
    chosen = first_per_class(labels, SUBSET_PER_CLASS)
    recipe = f"the first {SUBSET_PER_CLASS} training images of each class, in class order"
    if recorded(TRAINING_SUBSET, "recipe") != recipe:
        write_checked({"pixels": pixels[chosen], "labels": labels[chosen].to(torch.uint8)}, TRAINING_SUBSET,
                      {"recipe": recipe, "data": "Fashion-MNIST training split (MIT licence)"})
    print(f"{TRAINING_SUBSET}: {len(chosen)} images", flush=True)


def build_classifier(train_images: torch.Tensor, train_labels: torch.Tensor, retrain: bool = False) -> None:
    recipe = json.dumps(CLASSIFIER_RECIPE, sort_keys=True)
    if not retrain and recorded(CLASSIFIER, "recipe") == recipe:
        print(f"{CLASSIFIER}: up to date", flush=True)
        return
    start, code = time.perf_counter(), commit()
    torch.manual_seed(CLASSIFIER_RECIPE["seed"])  # the initial weights
    classifier = Classifier(**CLASSIFIER_RECIPE["config"])
    options = {key: CLASSIFIER_RECIPE[key] for key in ("steps", "batch_size", "lr", "seed")}
    train_classifier(classifier, train_images, train_labels, **options)
    test_pixels, test_labels = load_fashion_mnist("test")
    accuracy = class_accuracy(classifier, to_model_images(test_pixels), test_labels)
    write_checked(classifier.state_dict(), CLASSIFIER, {
        "config": json.dumps(CLASSIFIER_RECIPE["config"]), "recipe": recipe, "data": DATA,
        "test_accuracy": f"{accuracy:.4f}", "wall_time_s": f"{time.perf_counter() - start:.0f}",
        "commit": code, "torch": torch.__version__})
    print(f"{CLASSIFIER}: test accuracy {accuracy:.4f}, {time.perf_counter() - start:.0f} s", flush=True)


def flat_optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], str]:
    state = optimizer.state_dict()
    tensors = {f"optimizer.{index}.{key}": value for index, entries in state["state"].items()
               for key, value in entries.items()}
    return tensors, json.dumps(state["param_groups"])


def load_optimizer_state(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: str) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(groups)})


def build_course_model(images: torch.Tensor, labels: torch.Tensor, steps: int, config: UNetConfig = COURSE_CONFIG,
                       folder: Path = ASSETS, work: Path = WORK, chunk_steps: int = CHUNK,
                       retrain: bool = False) -> None:
    """Train the course model in chunks of ``chunk_steps``, checkpointing to ``work`` after each, and write
    its EMA weights to ``folder``; a checkpoint of the same recipe is resumed. A model already in ``folder``
    with the same recipe is kept unless ``retrain``."""
    recipe = json.dumps({"config": dataclasses.asdict(config), "schedule": SCHEDULE, **RECIPE,
                         "steps": steps}, sort_keys=True)
    if not retrain and recorded(COURSE_MODEL, "recipe", folder) == recipe:
        print(f"{COURSE_MODEL}: up to date", flush=True)
        return
    work.mkdir(parents=True, exist_ok=True)
    if retrain:
        (work / CHECKPOINT).unlink(missing_ok=True)  # from scratch; resume an interrupted retrain without it
    torch.manual_seed(RECIPE["seed"])  # the initial weights
    model = UNet(config).to(memory_format=torch.channels_last)  # ~7% faster convolutions on CPU
    ema = ema_model(model, RECIPE["ema_decay"])
    optimizer = torch.optim.Adam(model.parameters(), lr=RECIPE["lr"])
    generator = torch.Generator().manual_seed(RECIPE["seed"])
    done, wall_time, losses, commits = 0, 0.0, [], []
    if (work / CHECKPOINT).is_file():
        tensors, metadata = read_checked(CHECKPOINT, work)
        if metadata["recipe"] != recipe:
            sys.exit(f"{work / CHECKPOINT} was made with another recipe; delete it to start again.")
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
        load_optimizer_state(optimizer, tensors, metadata["param_groups"])
        generator.set_state(tensors["generator"])
        done, wall_time, losses = int(metadata["done"]), float(metadata["wall_time_s"]), json.loads(metadata["losses"])
        commits = json.loads(metadata["commits"])
        print(f"resuming at step {done} of {steps}", flush=True)
    commits.append({"commit": commit(), "from_step": done})  # the code that trains from here on
    images = images.contiguous(memory_format=torch.channels_last)
    schedule = NoiseSchedule.linear(**SCHEDULE)
    while done < steps:
        start = time.perf_counter()
        chunk = min(chunk_steps, steps - done)
        history = train(model, images, schedule, chunk, batch_size=RECIPE["batch_size"],
                        warmup_steps=RECIPE["warmup_steps"] if done == 0 else 0, labels=labels,
                        label_dropout=RECIPE["label_dropout"], ema=ema, optimizer=optimizer, generator=generator)
        done, wall_time = done + chunk, wall_time + time.perf_counter() - start
        losses.append(round(sum(history) / len(history), 5))
        optimizer_tensors, groups = flat_optimizer_state(optimizer)
        write_checked({**{f"model.{k}": v for k, v in model.state_dict().items()},
                       **{f"ema.{k}": v for k, v in ema.state_dict().items()},
                       **optimizer_tensors, "generator": generator.get_state()}, CHECKPOINT,
                      {"recipe": recipe, "done": str(done), "wall_time_s": f"{wall_time:.1f}",
                       "losses": json.dumps(losses), "commits": json.dumps(commits), "param_groups": groups},
                      folder=work)
        bar = "#" * (30 * done // steps)
        eta = wall_time / done * (steps - done)
        print(f"[{bar:<30}] step {done}/{steps}  loss {losses[-1]:.4f}  {wall_time / 60:.1f} min, "
              f"{eta / 60:.1f} min to go", flush=True)
    write_checked(ema.module.state_dict(), COURSE_MODEL, {
        "config": json.dumps(dataclasses.asdict(config)), "schedule": json.dumps(SCHEDULE),
        "recipe": recipe, "data": DATA, "steps": str(steps), "seed": str(RECIPE["seed"]),
        "weights": f"EMA (decay {RECIPE['ema_decay']}) of the training weights",
        "loss_per_chunk": json.dumps({min(chunk_steps * (i + 1), steps): loss for i, loss in enumerate(losses)}),
        "wall_time_s": f"{wall_time:.0f}", "commits": json.dumps(commits), "torch": torch.__version__}, folder)
    print(f"{COURSE_MODEL}: {steps} steps in {wall_time / 60:.1f} min", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6000, help="training steps of the course model")
    parser.add_argument("--retrain", action="store_true", help="train both models again even if up to date")
    arguments = parser.parse_args()
    build_real_sample()
    build_training_subset()
    pixels, labels = load_fashion_mnist("train")
    images = to_model_images(pixels)
    build_classifier(images, labels, arguments.retrain)
    build_course_model(images, labels, arguments.steps, retrain=arguments.retrain)


if __name__ == "__main__":
    main()
