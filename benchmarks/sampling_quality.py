"""Samplers and guidance on the course model: time per 100 samples, class accuracy, Fréchet distance.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/sampling_quality.py``). The shipped course model
(``load_course_model``) draws 100 samples, 10 of each Fashion-MNIST class, for every sampler (ancestral at
1000 and 100 steps, DDIM with eta = 0 at 10, 25, 50 and 100) and guidance scale w (0 = the "no class"
prediction, 1 = plain conditional, 2, 4), all from the same seed (the ancestral sampler at 1000 steps makes
this benchmark about half an hour long on our 2 cores). The shipped classifier scores them:
class accuracy is the share classified as the class asked for; the Fréchet distance compares its 128
penultimate features of the samples with those of 10,000 real training images. Real images set the scale:
the classifier's accuracy on real test images, and the Fréchet distance of real test images (as many as
samples, the first of each class) to the same training images, the floor a perfect generator would reach at
that sample size. With 100 samples both are noisy (accuracy moves in steps of 1%, the distance is biased
upwards by the small sample); the lesson's default setting is also measured on 1,000 samples. Needs the
full dataset (``unet_lessons.data``) for the real images.
"""

import time

import torch

from _common import Section, verdict
from unet_lessons.course_files import load_classifier, load_course_model
from unet_lessons.data import first_per_class, load_fashion_mnist, to_model_images
from unet_lessons.quality import class_accuracy, frechet_distance
from unet_lessons.sampling import ancestral_sample, ddim_sample

GUIDANCE = (0.0, 1.0, 2.0, 4.0)
SAMPLERS = ((("ancestral", 1000), GUIDANCE), (("ancestral", 100), GUIDANCE), (("DDIM", 10), GUIDANCE),
            (("DDIM", 25), GUIDANCE), (("DDIM", 50), GUIDANCE), (("DDIM", 100), GUIDANCE))
DEFAULT = ("DDIM", 25, 2.0)  # the lesson's default setting
SEED = 0
REAL_REFERENCE = 10_000  # training images the features of samples are compared with


def draw(model, schedule, sampler: str, steps: int, guidance: float, per_class: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    labels = torch.arange(model.config.num_classes).repeat_interleave(per_class)
    shape = (len(labels), 1, model.config.image_size, model.config.image_size)
    start = time.perf_counter()
    if sampler == "DDIM":
        images = ddim_sample(model, schedule, shape, num_steps=steps, y=labels, guidance_scale=guidance, seed=SEED)
    else:
        images = ancestral_sample(model, schedule, shape, num_steps=steps, y=labels, guidance_scale=guidance,
                                  seed=SEED)
    return images, labels, time.perf_counter() - start


def main() -> None:
    section = Section("4_sampling_quality", "Sampling: steps, guidance and quality on the course model",
                      __doc__.split("\n\n", 1)[1].strip())
    model, schedule, info = load_course_model()
    classifier = load_classifier()
    train_pixels, _ = load_fashion_mnist("train")
    reference = to_model_images(train_pixels[torch.randperm(len(train_pixels), generator=torch.Generator().manual_seed(0))[:REAL_REFERENCE]])
    test_pixels, test_labels = load_fashion_mnist("test")
    test_images = to_model_images(test_pixels)
    real_accuracy = class_accuracy(classifier, test_images, test_labels)
    floors = {n: frechet_distance(classifier, reference, test_images[first_per_class(test_labels, n // 10)])
              for n in (100, 1000)}

    rows = []
    for (sampler, steps), scales in SAMPLERS:
        for guidance in scales:
            images, labels, seconds = draw(model, schedule, sampler, steps, guidance, per_class=10)
            accuracy = class_accuracy(classifier, images, labels)
            distance = frechet_distance(classifier, reference, images)
            rows.append([f"{sampler} {steps}", f"{guidance:g}", f"{seconds:.1f}", f"{accuracy:.0%}",
                         f"{distance:.1f}", f"{distance / floors[100]:.1f}x"])
            print(rows[-1], flush=True)
    section.add_text(f"Course model: {sum(p.numel() for p in model.parameters()):,} parameters, {info['steps']} "
                     f"training steps. {torch.get_num_threads()} threads. Real test images: classifier accuracy "
                     f"{real_accuracy:.1%}; Fréchet floor {floors[100]:.1f} at 100 images, {floors[1000]:.1f} at 1,000.")
    section.add_table(["sampler, steps", "guidance w", "s / 100 samples", "class accuracy",
                       "Fréchet distance", "x floor (100)"], rows)

    sampler, steps, guidance = DEFAULT
    images, labels, seconds = draw(model, schedule, sampler, steps, guidance, per_class=100)
    accuracy = class_accuracy(classifier, images, labels)
    distance = frechet_distance(classifier, reference, images)
    section.add_text(f"Lesson default ({sampler} {steps} steps, w = {guidance:g}), 1,000 samples: class accuracy "
                     f"{accuracy:.1%} ({accuracy / real_accuracy:.0%} of real images' {real_accuracy:.1%}); "
                     f"Fréchet distance {distance:.1f}, {distance / floors[1000]:.1f} x the floor at 1,000 "
                     f"({floors[1000]:.1f}); {seconds:.0f} s.")
    section.add_goal("default setting: class accuracy / real images'", f"{accuracy / real_accuracy:.0%}", ">= 90%",
                     accuracy / real_accuracy >= 0.9)
    section.add_goal("default setting: Fréchet distance / real-vs-real floor (1,000)",
                     f"{distance / floors[1000]:.1f}x", "(reported)", None)
    print(verdict(accuracy / real_accuracy >= 0.9))
    section.publish()


if __name__ == "__main__":
    main()
