"""How many training images must lesson 09 ship? Its recipe on balanced subsets, against quality and copying.

Lesson 09 must train where the full dataset is not installed, so the course ships a subset (the first N images
of each class of Fashion-MNIST's training split) and the repository may grow by at most 10 MB for it. Each run
here trains the lesson's model and recipe (``unet_lessons.recipe.LESSON_RECIPE``, ``LESSON_STEPS`` steps, seed
0) on one subset, then scores 1,000 samples (100 per class, DDIM 25 steps, w = 2, seed 0) as
``time_to_quality.py`` does (class accuracy as a share of real images', Fréchet distance as a multiple of the
real-vs-real floor) and checks copying against **the images that run trained on**: each sample's L2 distance
to its nearest training image (28x28 pixels in [-1, 1]), beside the same distance for 1,000 held-out test images
(100 per class). A smaller subset is seen more often per image (1,000 steps of 64 images = 64,000 views), so a
model that starts to memorise shows it here first. Run one size at a time on a quiet machine
(``.venv/bin/python benchmarks/training_subset.py NAME``); ``make bench`` runs the missing ones. Results in
``benchmarks/training_subset/NAME.json``. Needs the full dataset (``unet_lessons.data``).
"""

import argparse
import json
import os
import sys
import time

import torch

from _common import ROOT, Section
from time_to_quality import AT_THE_END, SAMPLER, SCHEDULE, Scorer, commit, machine
from unet_lessons.configs import COURSE_CONFIG
from unet_lessons.data import crop_to, first_per_class, load_fashion_mnist, to_model_images
from unet_lessons.quality import nearest_training_images
from unet_lessons.recipe import LESSON_RECIPE, LESSON_STEPS, Trainer
from unet_lessons.sampling import ddim_sample
from unet_lessons.unet import UNet

RESULTS = ROOT / "benchmarks" / "training_subset"
SIZES = {"300_per_class": 300, "600_per_class": 600, "full": None}  # images per class
HELD_OUT_PER_CLASS = 100


def run(name: str) -> dict:
    per_class = SIZES[name]
    pixels, labels = load_fashion_mnist("train")
    if per_class is not None:
        chosen = first_per_class(labels, per_class)
        pixels, labels = pixels[chosen], labels[chosen]
    scorer = Scorer()
    torch.manual_seed(0)  # the lesson's initial weights
    trainer = Trainer(UNet(COURSE_CONFIG), to_model_images(pixels), labels, SCHEDULE, LESSON_RECIPE,
                      total_steps=LESSON_STEPS)
    start = time.perf_counter()
    trainer.run(LESSON_STEPS)
    train_seconds = time.perf_counter() - start
    sample_labels = torch.arange(10).repeat_interleave(AT_THE_END)
    samples = ddim_sample(trainer.sampler_model(), SCHEDULE, (len(sample_labels), 1, 32, 32), y=sample_labels,
                          **SAMPLER)
    quality = scorer.score_samples(samples, sample_labels, AT_THE_END)
    training = to_model_images(pixels, size=28)
    test_pixels, test_labels = load_fashion_mnist("test")
    held_out = to_model_images(test_pixels[first_per_class(test_labels, HELD_OUT_PER_CLASS)], size=28)
    sample_distances, _ = nearest_training_images(crop_to(samples, 28), training)
    held_out_distances, _ = nearest_training_images(held_out, training)
    near = torch.quantile(held_out_distances, 0.01)
    copying = {"held_out": {"min": held_out_distances.min().item(), "p01": near.item(),
                            "median": held_out_distances.median().item()},
               "samples": {"min": sample_distances.min().item(),
                           "p01": torch.quantile(sample_distances, 0.01).item(),
                           "median": sample_distances.median().item(),
                           "share_nearer_than_held_out_p01": (sample_distances < near).float().mean().item()}}
    result = {"name": name, "images": len(pixels), "megabytes_uint8": pixels.numel() / 1e6, "steps": LESSON_STEPS,
              "train_s": train_seconds, "quality": quality, "copying": copying, "machine": machine(),
              "load_average_at_start": os.getloadavg()[0], "torch": torch.__version__, "commit": commit(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(json.dumps(result, indent=1), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result


def publish() -> None:
    results = [json.loads((RESULTS / f"{name}.json").read_text()) for name in SIZES
               if (RESULTS / f"{name}.json").is_file()]
    if not results:
        sys.exit("no subset measured yet: run benchmarks/training_subset.py NAME first")
    section = Section("7_training_subset", "Lesson 09's training data: subset size against quality and copying",
                      __doc__.split("\n\n", 1)[1].strip())
    section.add_text(f"Machine: {results[0]['machine']}. Training time does not depend on the subset (the same "
                     "steps of the same batch size); `train_your_own.py` measures the lesson's.")
    rows = []
    for r in results:
        q, c = r["quality"], r["copying"]
        rows.append([f"`{r['name']}`", f"{r['images']:,}", f"{r['megabytes_uint8']:.1f}",
                     f"{q['class_accuracy']:.1%} ({q['share_of_real']:.0%})",
                     f"{q['frechet']:.1f} ({q['x_floor']:.1f}x)",
                     f"{c['samples']['median']:.2f} / {c['held_out']['median']:.2f}",
                     f"{c['samples']['min']:.2f} / {c['held_out']['min']:.2f}",
                     f"{c['samples']['share_nearer_than_held_out_p01']:.1%}", r["commit"]])
    section.add_table(["subset", "images", "MB (uint8)", "class accuracy (% of real)",
                       "Fréchet (x floor)", "nearest distance, median: samples / held-out",
                       "min: samples / held-out", "samples nearer than 99% of held-out", "commit"], rows)
    section.publish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"subsets to run, of {list(SIZES)} (default: every one not measured)")
    parser.add_argument("--again", action="store_true", help="run the named subsets even if measured")
    arguments = parser.parse_args()
    unknown = [name for name in arguments.names if name not in SIZES]
    if unknown:
        sys.exit(f"unknown subset {unknown}; choose from {list(SIZES)}")
    for name in arguments.names or list(SIZES):
        if arguments.again or not (RESULTS / f"{name}.json").is_file():
            run(name)
    publish()


if __name__ == "__main__":
    main()
