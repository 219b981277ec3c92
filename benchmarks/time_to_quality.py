"""From scratch to recognisable samples: class-conditional training recipes, quality against training time.

Run one recipe at a time, on a quiet machine (``.venv/bin/python benchmarks/time_to_quality.py NAME``; ``--list``
shows them); ``make bench`` runs every recipe not yet measured and then publishes the section. Each run trains
a class-conditional U-Net on Fashion-MNIST's training split from scratch with ``unet_lessons.recipe.Trainer``
(seed 0: the same initial weights, batches and noise for every recipe of the same model), and every
``eval_every`` steps draws 200 samples (20 per class) from the EMA weights at the lesson's default sampler
(DDIM, 25 steps, guidance w = 2, seed 0); at the end 1,000 (100 per class). The shipped classifier scores them:
**class accuracy as a share of its accuracy on real test images**, and the **Fréchet distance** of its
features to 10,000 real training images, **as a multiple of the real-vs-real floor** (real test images, as
many as samples, against the same training images). Training wall time counts only the training steps (the
clock stops while samples are drawn and scored). 28x28 models' samples are padded to 32x32 for the
classifier. One run per recipe (fixed seeds): differences of a few points at 200 samples are within noise
(a share moves by 0.5 points per image). Results are kept in ``benchmarks/time_to_quality/NAME.json``; the
figure is ``benchmarks/time_to_quality.png``. Needs the full dataset (``unet_lessons.data``).
"""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

import torch

from _common import ROOT, Section, cpu_model, verdict
from unet_lessons.configs import COURSE_CONFIG, UNetConfig
from unet_lessons.course_files import load_classifier, write_checked
from unet_lessons.data import first_per_class, load_fashion_mnist, pad_to, to_model_images
from unet_lessons.quality import class_accuracy, frechet_distance, frechet_reference
from unet_lessons.recipe import LESSON_RECIPE, Recipe, Trainer
from unet_lessons.sampling import ddim_sample
from unet_lessons.training import NoiseSchedule
from unet_lessons.unet import UNet

RESULTS = ROOT / "benchmarks" / "time_to_quality"
FIGURE = ROOT / "benchmarks" / "time_to_quality.png"
MODELS_DIR = ROOT / "build" / "time-to-quality"  # each run's final EMA weights (not committed)
SCHEDULE = NoiseSchedule.linear()
SAMPLER = {"num_steps": 25, "guidance_scale": 2.0, "seed": 0}  # the lessons' default
ON_THE_WAY, AT_THE_END = 20, 100  # samples per class
REAL_REFERENCE = 10_000
GOAL_SHARE, GOAL_SECONDS = 0.90, 300

MODELS = {
    # The course model's architecture (606,065 parameters), on 28x28 images padded to 32x32.
    "course32": COURSE_CONFIG,
    # Unpadded 28x28, two levels (28 -> 14, then the bottleneck at 7x7), the course model's first two widths.
    "small28": UNetConfig(image_size=28, in_channels=1, out_channels=1, base_channels=16, channel_mults=(1, 2),
                          num_res_blocks=1, attention_resolutions=(7,), groups=8, num_classes=10),
}

TODAY = Recipe()  # the course model's recipe: ε, lr 1e-3 after 200 warm-up steps, constant; EMA 0.999 from step 1
FAST = Recipe(lr=2e-3, warmup_steps=100, lr_decay="cosine", ema_warmup=True)
FAST_V = dataclasses.replace(FAST, target="v")
FAST_FLOW = LESSON_RECIPE  # FAST with target="flow", timesteps="logit_normal": the best of the screening
FIVE_MINUTES = "five_minutes"  # the lesson's recipe, run for about five minutes

# name: (what it changes, model, recipe, steps, evaluate every)
CANDIDATES = {
    "today": ("today's recipe (the course model's)", "course32", TODAY, 1000, 250),
    "schedule": ("lr 2e-3, 100 warm-up steps, cosine to zero; EMA with warm-up", "course32", FAST, 1000, 250),
    "schedule_v": ("+ v-prediction", "course32", FAST_V, 1000, 250),
    "schedule_x0": ("+ x0-prediction", "course32", dataclasses.replace(FAST, target="x0"), 1000, 250),
    "schedule_minsnr": ("+ min-SNR-5 weighting (ε)", "course32", dataclasses.replace(FAST, weighting="min_snr"),
                        1000, 250),
    "schedule_v_minsnr": ("+ v-prediction, min-SNR-5", "course32",
                          dataclasses.replace(FAST, target="v", weighting="min_snr"), 1000, 250),
    "flow_logit_normal": ("rectified flow, logit-normal times (SD3)", "course32", FAST_FLOW, 1000, 250),
    "flow_uniform": ("rectified flow, uniform times", "course32", dataclasses.replace(FAST, target="flow"),
                     1000, 250),
    "today_ema_warmup": ("today's recipe + EMA warm-up", "course32", dataclasses.replace(TODAY, ema_warmup=True),
                         1000, 250),
    FIVE_MINUTES: ("flow_logit_normal for five minutes", "course32", FAST_FLOW, 1700, 250),
    "flow_small28": ("flow_logit_normal, 28x28 unpadded, two levels (16, 32 channels)", "small28", FAST_FLOW,
                     1000, 250),
    "flow_bfloat16": ("flow_logit_normal in bfloat16 autocast", "course32",
                      dataclasses.replace(FAST_FLOW, precision="bfloat16"), 1000, 250),
    "flow_batch_32": ("flow_logit_normal with 32 images a step", "course32",
                      dataclasses.replace(FAST_FLOW, batch_size=32), 1000, 250),
    "flow_lr_4e-3": ("flow_logit_normal with lr 4e-3", "course32", dataclasses.replace(FAST_FLOW, lr=4e-3), 1000, 250),
    "fifteen_minutes": ("flow_logit_normal for fifteen minutes (does it beat the course model?)", "course32", FAST_FLOW,
                        5000, 1000),
    "today_v": ("today's recipe + v-prediction", "course32", dataclasses.replace(TODAY, target="v"), 1000, 250),
}


def commit() -> str:
    run = lambda *args: subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (run("rev-parse", "--short", "HEAD") or "unknown") + ("+uncommitted" if run("status", "--porcelain",
                                                                                        "--", "unet_lessons") else "")


def machine() -> str:
    return (f"{cpu_model()}, {os.cpu_count()} cores, {torch.get_num_threads()} "
            f"threads, CPU capability {torch.backends.cpu.get_cpu_capability()}")


class Scorer:
    """The shipped classifier, its accuracy on real test images, and the Fréchet floors at 200 and 1,000."""

    def __init__(self):
        self.classifier = load_classifier()
        train_pixels, _ = load_fashion_mnist("train")
        chosen = torch.randperm(len(train_pixels), generator=torch.Generator().manual_seed(0))[:REAL_REFERENCE]
        self.reference = frechet_reference(self.classifier, to_model_images(train_pixels[chosen]))
        test_pixels, test_labels = load_fashion_mnist("test")
        test_images = to_model_images(test_pixels)
        self.real_accuracy = class_accuracy(self.classifier, test_images, test_labels)
        self.floors = {n: frechet_distance(self.classifier, self.reference,
                                           test_images[first_per_class(test_labels, n)])
                       for n in (ON_THE_WAY, AT_THE_END)}

    def score(self, model, per_class: int) -> dict:
        labels = torch.arange(10).repeat_interleave(per_class)
        size = model.config.image_size
        start = time.perf_counter()
        samples = ddim_sample(model, SCHEDULE, (len(labels), 1, size, size), y=labels, **SAMPLER)
        return self.score_samples(samples, labels, per_class) | {"sampling_s": time.perf_counter() - start}

    def score_samples(self, samples: torch.Tensor, labels: torch.Tensor, per_class: int) -> dict:
        samples = pad_to(samples, 32)
        accuracy = class_accuracy(self.classifier, samples, labels)
        distance = frechet_distance(self.classifier, self.reference, samples)
        return {"samples": len(labels), "class_accuracy": accuracy, "share_of_real": accuracy / self.real_accuracy,
                "frechet": distance, "x_floor": distance / self.floors[per_class]}


def run(name: str) -> dict:
    about, model_name, recipe, steps, every = CANDIDATES[name]
    config = MODELS[model_name]
    pixels, labels = load_fashion_mnist("train")
    images = to_model_images(pixels, size=config.image_size)
    scorer = Scorer()
    torch.manual_seed(0)  # the initial weights
    model = UNet(config)
    trainer = Trainer(model, images, labels, SCHEDULE, recipe, total_steps=steps)
    print(f"{name}: {about}; {sum(p.numel() for p in model.parameters()):,} parameters, {steps} steps", flush=True)
    points, train_seconds = [], 0.0
    while trainer.done < steps:
        start = time.perf_counter()
        trainer.run(every)
        train_seconds += time.perf_counter() - start
        per_class = AT_THE_END if trainer.done == steps else ON_THE_WAY
        point = {"step": trainer.done, "train_s": train_seconds,
                 "loss": sum(trainer.losses[-every:]) / len(trainer.losses[-every:]),
                 **scorer.score(trainer.sampler_model(), per_class)}
        points.append(point)
        print(f"  step {point['step']}: {point['train_s']:.0f} s, loss {point['loss']:.4f}, class accuracy "
              f"{point['class_accuracy']:.1%} ({point['share_of_real']:.0%} of real), Fréchet {point['frechet']:.1f} "
              f"({point['x_floor']:.1f}x floor), {point['samples']} samples", flush=True)
    last_weights = scorer.score(trainer.sampler_model(averaged=False), ON_THE_WAY)
    result = {"name": name, "about": about, "model": model_name, "config": dataclasses.asdict(config),
              "parameters": sum(p.numel() for p in model.parameters()), "recipe": dataclasses.asdict(recipe),
              "steps": steps, "points": points, "last_weights_at_end": last_weights,
              "ms_per_step": 1000 * train_seconds / steps, "real_accuracy": scorer.real_accuracy,
              "floors": {str(k * 10): v for k, v in scorer.floors.items()},
              "machine": machine(),
              "load_average_at_start": os.getloadavg()[0], "torch": torch.__version__, "commit": commit(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
    write_checked(trainer.ema.module.state_dict(), f"{name}.safetensors", {  # for benchmarks/copying.py
        "config": json.dumps(result["config"]), "target": recipe.target, "recipe": json.dumps(result["recipe"]),
        "steps": str(steps), "commit": result["commit"]}, folder=MODELS_DIR)
    return result


SPEED_WAYS = {  # the five-minute recipe's training step, computed four ways
    "float32, contiguous": dataclasses.replace(FAST_FLOW, channels_last=False),
    "float32, channels_last (the recipe)": FAST_FLOW,
    "bfloat16 autocast, channels_last": dataclasses.replace(FAST_FLOW, precision="bfloat16"),
    "torch.compile (inductor), float32, channels_last": FAST_FLOW,
}


def speed(rounds: int = 4, steps: int = 10) -> dict:
    """Milliseconds per training step of each of ``SPEED_WAYS``, measured side by side: every way's trainer
    is built and warmed up first, then they take turns, ``steps`` steps each, ``rounds`` times. The same seed
    gives every way the same weights, batches and noise, so their mean losses show whether the faster ways
    compute the same thing. The first step's time includes torch.compile's compilation."""
    config = MODELS[CANDIDATES[FIVE_MINUTES][1]]
    pixels, labels = load_fashion_mnist("train")
    images, labels = to_model_images(pixels[:10_000], size=config.image_size), labels[:10_000]
    trainers, first_step_s = {}, {}
    for way, recipe in SPEED_WAYS.items():
        torch.manual_seed(0)
        model = UNet(config)
        if way.startswith("torch.compile"):
            model.compile()  # in place; only the training step is timed (its EMA copy is never called here)
        trainers[way] = Trainer(model, images, labels, SCHEDULE, recipe, total_steps=1000)
        start = time.perf_counter()
        trainers[way].run(1)
        first_step_s[way] = time.perf_counter() - start
        trainers[way].run(4)
        print(f"  {way}: first step {first_step_s[way]:.1f} s", flush=True)
    seconds = {way: [] for way in SPEED_WAYS}
    for _ in range(rounds):
        for way, trainer in trainers.items():
            start = time.perf_counter()
            trainer.run(steps)
            seconds[way].append((time.perf_counter() - start) / steps)
    result = {"machine": machine(), "load_average_at_start": os.getloadavg()[0], "torch": torch.__version__,
              "commit": commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "steps": rounds * steps, "ways": {way: {
                  "ms_per_step": 1000 * sorted(seconds[way])[len(seconds[way]) // 2],
                  "ms_per_step_rounds": [1000 * s for s in seconds[way]], "first_step_s": first_step_s[way],
                  "mean_loss": sum(trainers[way].losses) / trainers[way].done} for way in SPEED_WAYS}}
    (RESULTS / "speed.json").write_text(json.dumps(result, indent=1))
    return result


def figure(results: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.style.context("tableau-colorblind10"):
        fig, (share, frechet) = plt.subplots(1, 2, figsize=(16, 7))
        markers = "osD^v<>phX*P"
        for i, result in enumerate(results):
            minutes = [p["train_s"] / 60 for p in result["points"]]
            style = {"marker": markers[i % len(markers)], "linewidth": 2.5, "markersize": 8, "label": result["name"],
                     "linestyle": "-" if i < 10 else "--"}
            share.plot(minutes, [100 * p["share_of_real"] for p in result["points"]], **style)
            frechet.plot(minutes, [p["frechet"] for p in result["points"]], **style)
        share.axhline(100 * GOAL_SHARE, color="black", linestyle="--", linewidth=1.5)
        share.text(0.02, 100 * GOAL_SHARE - 6, "goal: 90% of real images'", fontsize=14,
                   transform=share.get_yaxis_transform())
        for axis in (share, frechet):
            axis.axvline(GOAL_SECONDS / 60, color="black", linestyle=":", linewidth=1.5)
            axis.set_xlabel("training wall time on 2 CPU cores (minutes)", fontsize=15)
            axis.set_xlim(0, None)
            axis.tick_params(labelsize=14)
            axis.grid(alpha=0.3)
        share.set_ylabel("class accuracy, % of real images'", fontsize=15)
        share.set_ylim(0, 115)
        share.set_title("Recognised as the class asked for", fontsize=16)
        floors = results[0]["floors"]
        for key, style in (("200", "--"), ("1000", ":")):
            frechet.axhline(floors[key], color="black", linestyle=style, linewidth=1.5)
            frechet.text(0.02, floors[key] * 1.12, f"real-vs-real floor, {int(key):,} images", fontsize=13,
                         transform=frechet.get_yaxis_transform())
        frechet.set_yscale("log")
        frechet.set_ylabel("Fréchet distance (log scale; lower is better)", fontsize=15)
        frechet.set_title("Fréchet distance (200 samples; the last point 1,000)", fontsize=16)
        handles, labels = share.get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=12, loc="lower center", ncol=min(8, len(labels)))
        fig.suptitle("From scratch: sample quality against training time (DDIM 25 steps, w = 2)", fontsize=17)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        fig.savefig(FIGURE, dpi=80)
        plt.close(fig)


def publish() -> None:
    results = [json.loads((RESULTS / f"{name}.json").read_text()) for name in CANDIDATES
               if (RESULTS / f"{name}.json").is_file()]
    if not results:
        sys.exit("no recipe measured yet: run benchmarks/time_to_quality.py NAME first")
    figure(results)
    section = Section("5_time_to_quality", "From scratch to recognisable samples: recipes against training time",
                      __doc__.split("\n\n", 1)[1].strip())
    first = results[0]
    section.add_text(f"Real test images: classifier accuracy {first['real_accuracy']:.1%}; Fréchet floor "
                     f"{first['floors']['200']:.1f} at 200 images, {first['floors']['1000']:.1f} at 1,000. "
                     f"Machine of the runs: {first['machine']}. Figure: `benchmarks/time_to_quality.png`.")
    rows = []
    for result in results:
        end = result["points"][-1]
        rows.append([f"`{result['name']}`", result["about"], result["model"], f"{result['parameters']:,}",
                     result["recipe"]["batch_size"], result["steps"], f"{result['ms_per_step']:.0f}",
                     " / ".join(f"{100 * p['share_of_real']:.0f}" for p in result["points"]),
                     next((f"{p['train_s'] / 60:.1f}" for p in result["points"] if p["share_of_real"] >= GOAL_SHARE),
                          "not reached"),
                     f"{end['train_s'] / 60:.1f}", f"{end['class_accuracy']:.1%}", f"{end['share_of_real']:.0%}",
                     f"{end['frechet']:.1f} ({end['x_floor']:.1f}x)",
                     f"{result['last_weights_at_end']['share_of_real']:.0%}", result["commit"]])
    section.add_table(["recipe", "what it changes", "model", "parameters", "batch", "steps", "ms / step",
                       "% of real on the way (200 samples; the last 1,000)", "first >= 90% (train min)", "train min",
                       "class accuracy (1,000)", "% of real", "Fréchet (x floor)", "last weights, % of real (200)", "commit"], rows)
    if (RESULTS / "speed.json").is_file():
        measured = json.loads((RESULTS / "speed.json").read_text())
        base = measured["ways"]["float32, contiguous"]["ms_per_step"]
        section.add_text(f"Speed per step (`time_to_quality.py --speed`, {measured['date']}, {measured['machine']}, "
                         f"load {measured['load_average_at_start']:.2f} at the start): the five-minute recipe's step "
                         f"computed four ways, side by side, {measured['steps']} steps each in turns; the same seed, "
                         "so the mean losses show whether a faster way computes the same thing.")
        section.add_table(["computed as", "ms / step (median of rounds)", "rounds", "vs float32 contiguous",
                           "first step (s)", f"mean loss, {measured['steps'] + 5} steps"],
                          [[way, f"{w['ms_per_step']:.0f}", " / ".join(f"{r:.0f}" for r in w["ms_per_step_rounds"]),
                            f"{base / w['ms_per_step']:.2f}x", f"{w['first_step_s']:.1f}", f"{w['mean_loss']:.4f}"]
                           for way, w in measured["ways"].items()])
    lesson = next((r for r in results if r["name"] == FIVE_MINUTES), None)
    if lesson is not None:
        end = lesson["points"][-1]
        met = end["share_of_real"] >= GOAL_SHARE and end["train_s"] <= GOAL_SECONDS
        section.add_goal(f"from scratch, the lesson's recipe (`{FIVE_MINUTES}`): % of real images' class accuracy "
                         f"(1,000 samples) after {end['train_s'] / 60:.1f} min of training",
                         f"{end['share_of_real']:.0%}", ">= 90% in <= 5 min", met)
        print(verdict(met))
    section.publish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recipes to run (default: every one not yet measured)")
    parser.add_argument("--again", action="store_true", help="run the named recipes even if measured")
    parser.add_argument("--list", action="store_true", help="list the recipes and whether each is measured")
    parser.add_argument("--speed", action="store_true", help="measure the training step's speed, four ways")
    arguments = parser.parse_args()
    if arguments.speed:
        speed()
        publish()
        return
    if arguments.list:
        for name, (about, model, _, steps, _) in CANDIDATES.items():
            done = "measured" if (RESULTS / f"{name}.json").is_file() else "-"
            print(f"{name:24} {model:9} {steps:5} steps  {done:9} {about}")
        return
    unknown = [name for name in arguments.names if name not in CANDIDATES]
    if unknown:
        sys.exit(f"unknown recipe {unknown}; --list shows them")
    for name in arguments.names or list(CANDIDATES):
        if arguments.again or not (RESULTS / f"{name}.json").is_file():
            run(name)
    publish()


if __name__ == "__main__":
    main()
