"""Did it copy? Each sample's nearest training image, against real images the models never saw.

Run with ``make bench`` after ``time_to_quality.py`` (or ``.venv/bin/python benchmarks/copying.py``). For the
shipped course model and for the fastest recipe that met the five-minute goal (its weights as
``time_to_quality.py`` left them in ``build/time-to-quality/``; that recipe is run first if they are missing),
1,000 samples (100 per class) at the lesson's default sampler (DDIM 25, w = 2, seed 0) are compared with all
60,000 training images by L2 distance on pixels in [-1, 1] (28x28, the padding cropped), and so are 1,000 held-out
real test images (the first 100 of each class). A model that memorised its data would draw samples much nearer
to a training image than held-out images are; a model that draws blur would sit far from every image. The
figure ``benchmarks/copying.png`` shows the distributions and, for each model, the 8 samples nearest to a
training image beside that image (the closest calls). Needs the full dataset (``unet_lessons.data``).
"""

import json
import subprocess
import sys

import torch

from _common import ROOT, Section
from time_to_quality import FIVE_MINUTES, MODELS_DIR
from unet_lessons.configs import UNetConfig
from unet_lessons.course_files import load_course_model, read_checked
from unet_lessons.data import crop_to, first_per_class, load_fashion_mnist, to_model_images
from unet_lessons.quality import nearest_training_images
from unet_lessons.recipe import NoisePredictor
from unet_lessons.sampling import ddim_sample
from unet_lessons.training import NoiseSchedule
from unet_lessons.unet import UNet

FIGURE = ROOT / "benchmarks" / "copying.png"
PER_CLASS = 100


def five_minute_model() -> tuple[UNet, NoiseSchedule]:
    if not (MODELS_DIR / f"{FIVE_MINUTES}.safetensors").is_file():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "time_to_quality.py"), FIVE_MINUTES, "--again"],
                       check=True)
    tensors, metadata = read_checked(f"{FIVE_MINUTES}.safetensors", MODELS_DIR)
    model = UNet(UNetConfig(**json.loads(metadata["config"])))
    model.load_state_dict(tensors)
    model.prediction_target = metadata["target"]
    schedule = NoiseSchedule.linear()
    return NoisePredictor(model, schedule).eval(), schedule


def figure(rows: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]], held_out: torch.Tensor,
           training: torch.Tensor) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.style.context("tableau-colorblind10"):
        fig = plt.figure(figsize=(13, 4.5 + 3.4 * len(rows)))
        grid = fig.add_gridspec(1 + 2 * len(rows), 8, height_ratios=[4] + [1.6] * 2 * len(rows))
        ax = fig.add_subplot(grid[0, :])
        bins = torch.linspace(0, float(max(held_out.max(), *(d.max() for _, _, d, _ in rows))), 40)
        ax.hist(held_out.numpy(), bins=bins.numpy(), histtype="step", linewidth=3, label="held-out real images")
        for name, _, distances, _ in rows:
            ax.hist(distances.numpy(), bins=bins.numpy(), histtype="step", linewidth=3, linestyle="--",
                    label=f"samples: {name}")
        ax.set_xlabel("L2 distance to the nearest of 60,000 training images (pixels in [-1, 1], 28x28)", fontsize=14)
        ax.set_ylabel("images (of 1,000)", fontsize=14)
        ax.tick_params(labelsize=13)
        ax.legend(fontsize=13)
        for r, (name, samples, distances, nearest) in enumerate(rows):
            closest = distances.argsort()[:8]
            for c, i in enumerate(closest.tolist()):
                for k, (image, caption) in enumerate(((samples[i], f"{distances[i]:.1f}"),
                                                      (training[nearest[i]], ""))):
                    axis = fig.add_subplot(grid[1 + 2 * r + k, c])
                    axis.imshow(image[0].numpy(), cmap="gray", vmin=-1, vmax=1)
                    axis.set_xticks([]), axis.set_yticks([])
                    axis.set_xlabel(caption, fontsize=13, labelpad=2)
                    if c == 0:
                        axis.set_ylabel(f"{name}:\nsample" if k == 0 else "its nearest\ntraining image", fontsize=11)
        fig.suptitle("Did it copy? Each image's distance to its nearest training image;\nbelow, the 8 samples of each "
                     "model nearest to a training image (distance under the sample)", fontsize=15)
        fig.tight_layout()
        fig.savefig(FIGURE, dpi=80)
        plt.close(fig)


def main() -> None:
    section = Section("6_copying", "Did it copy? Samples against their nearest training images",
                      __doc__.split("\n\n", 1)[1].strip())
    train_pixels, _ = load_fashion_mnist("train")
    training = to_model_images(train_pixels, size=28)
    test_pixels, test_labels = load_fashion_mnist("test")
    held_out = to_model_images(test_pixels[first_per_class(test_labels, PER_CLASS)], size=28)
    held_out_distances, _ = nearest_training_images(held_out, training)
    labels = torch.arange(10).repeat_interleave(PER_CLASS)
    course, course_schedule, _ = load_course_model()
    rows = []
    for name, (model, schedule) in (("course model", (course, course_schedule)),
                                    ("five-minute model", five_minute_model())):
        size = model.config.image_size
        samples = crop_to(ddim_sample(model, schedule, (len(labels), 1, size, size), num_steps=25, y=labels,
                                      guidance_scale=2.0, seed=0), 28)
        distances, nearest = nearest_training_images(samples, training)
        rows.append((name, samples, distances, nearest))
    table = []
    for name, distances in [("held-out real images", held_out_distances)] + [(r[0], r[2]) for r in rows]:
        quantiles = torch.quantile(distances, torch.tensor([0.01, 0.5]))
        nearer = (distances < torch.quantile(held_out_distances, 0.01)).float().mean().item()
        table.append([name, f"{distances.min():.2f}", f"{quantiles[0]:.2f}", f"{quantiles[1]:.2f}",
                      f"{nearer:.1%}"])
        print(table[-1], flush=True)
    section.add_table(["images (1,000)", "nearest distance: min", "1st percentile", "median",
                       "share nearer than 99% of held-out images"], table)
    figure(rows, held_out_distances, training)
    section.add_text("Figure: `benchmarks/copying.png`.")
    section.publish()


if __name__ == "__main__":
    main()
