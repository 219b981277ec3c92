"""Self-checks for the exercises of ``notebooks/09_train_your_own.ipynb``."""

from collections.abc import Callable

import torch

from unet_lessons.exercises import report, run_learner_code, tensor_problem
from unet_lessons.quality import per_class_accuracy
from unet_lessons.recipe import Recipe, loss_weight

_SHAPE_HINT = "It has the images' shape: [batch, channels, height, width]."


def check_flow_pair(function: Callable) -> bool:
    """The learner's ``function(x0, noise, s)`` must return rectified flow's ``(x_s, velocity)``:
    ``x_s = (1 - s) * x0 + s * noise`` (``s``: [B], one time per image) and ``velocity = noise - x0``."""
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand((4, 1, 6, 6), generator=generator) * 2 - 1
    noise = torch.randn(x0.shape, generator=generator)
    s = torch.tensor([0.0, 0.25, 0.7, 1.0])
    ok, result = run_learner_code(function, x0.clone(), noise.clone(), s.clone())
    if not ok:
        return False
    if result is None:
        return report(False, "", tensor_problem(None, x0.shape))
    if not isinstance(result, tuple) or len(result) != 2:
        return report(False, "", "Return two tensors, (x_s, velocity): the noisy image and what the network learns.")
    for name, value in zip(("x_s", "velocity"), result):
        problem = tensor_problem(value, x0.shape, _SHAPE_HINT)
        if problem:
            return report(False, "", f"{name}: {problem}")
    x_s, velocity = result
    b = s[:, None, None, None]
    right_path, right_velocity = torch.allclose(x_s, (1 - b) * x0 + b * noise, atol=1e-5), \
        torch.allclose(velocity, noise - x0, atol=1e-5)
    if right_path and right_velocity:
        return report(True, "Both right: x_s walks a straight line from the image (s = 0) to the noise (s = 1), at "
                            "the constant velocity noise - x0.", "")
    if not right_path:
        if torch.allclose(x_s, b * x0 + (1 - b) * noise, atol=1e-5):
            return report(False, "", "x_s runs backwards: at s = 0 it must be the clean image x0, at s = 1 pure noise.")
        return report(False, "", "x_s: the point a share s of the way from x0 to the noise, (1 - s) * x0 + s * noise, "
                                 "with s[:, None, None, None] so one time applies to each image.")
    if torch.allclose(velocity, x0 - noise, atol=1e-5):
        return report(False, "", "The velocity points the wrong way: as s grows, x_s moves towards the noise, so "
                                 "d x_s / d s = noise - x0.")
    return report(False, "", "The velocity is the derivative of x_s with respect to s: the same for every s on a "
                             "straight line.")


def check_min_snr_weight(function: Callable, gamma: float = 5.0) -> bool:
    """The learner's ``function(snr, gamma)`` must give min-SNR-γ's weight of an ε-prediction loss,
    ``min(SNR, γ) / SNR`` (the package's :func:`unet_lessons.recipe.loss_weight` for target ε)."""
    snr = torch.tensor([1e-3, 0.5, 1.0, 4.0, 5.0, 20.0, 1e4])
    ok, result = run_learner_code(function, snr.clone(), gamma)
    if not ok:
        return False
    problem = tensor_problem(result, snr.shape, "One weight per noise level: the shape of snr.")
    if problem:
        return report(False, "", problem)
    recipe = Recipe(weighting="min_snr", min_snr_gamma=gamma)  # ε-prediction, min-SNR-γ
    if torch.allclose(result, loss_weight(recipe, snr), rtol=1e-4):
        return report(True, "Right: 1 for noisy images (SNR <= γ), and less and less above γ, so nearly clean images "
                            "(SNR 10,000 here) no longer dominate the loss.", "")
    if torch.allclose(result, snr.clamp(max=gamma), rtol=1e-4):
        return report(False, "", "That is min(SNR, γ), the weight of the x0 error. An ε-prediction loss already "
                                 "counts the x0 error SNR times: divide by SNR.")
    if torch.allclose(result, snr.clamp(min=gamma) / snr, rtol=1e-4):
        return report(False, "", "max instead of min: the weight must stay at 1 below γ and fall above it.")
    return report(False, "", "min(SNR, γ) / SNR: torch.minimum(snr, torch.tensor(gamma)) / snr, or "
                             "snr.clamp(max=gamma) / snr.")


def check_per_class_accuracy(function: Callable) -> bool:
    """The learner's ``function(predicted, labels, num_classes)`` must give each class's share of its images
    predicted as it (the package's :func:`unet_lessons.quality.per_class_accuracy`)."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(4).repeat_interleave(torch.tensor([5, 3, 8, 4]))  # unequal class sizes
    predicted = torch.where(torch.rand(len(labels), generator=generator) < 0.6, labels, (labels + 1) % 4)
    predicted[:5] = 0  # class 0 always right, and class 3's mistakes land on 0
    ok, result = run_learner_code(function, predicted.clone(), labels.clone(), 4)
    if not ok:
        return False
    problem = tensor_problem(result, (4,), "One share per class: [num_classes].")
    if problem:
        return report(False, "", problem)
    expected = per_class_accuracy(predicted, labels, 4)
    if torch.allclose(result.float(), expected, atol=1e-6):
        return report(True, "Right, on classes of 5, 3, 8 and 4 images: each class's hits over its own count.", "")
    hits = torch.zeros(4).index_add_(0, labels, (predicted == labels).float())
    if torch.allclose(result.float(), hits / torch.bincount(predicted, minlength=4).float(), atol=1e-6):
        return report(False, "", "You divided by how often each class was *predicted*; divide by how many images "
                                 "of the class there are (its labels).")
    if torch.allclose(result.float(), hits, atol=1e-6):
        return report(False, "", "Those are counts of hits; divide each by the number of images of its class.")
    overall = (predicted == labels).float().mean()
    if torch.allclose(result.float(), overall.expand(4), atol=1e-6):
        return report(False, "", "That is the overall accuracy for every class; count each class on its own images "
                                 "(labels == c).")
    return report(False, "", "For each class c: among the images whose label is c, the share predicted as c.")


def check_weakest_class(answer: object, accuracy: torch.Tensor, class_names: tuple[str, ...]) -> bool:
    """``answer`` must name the class with the lowest share in ``accuracy`` (the learner's own per-class numbers,
    one per name in ``class_names``); any class tied for the lowest counts."""
    if answer is None:
        return report(False, "", "Replace None with the name of your model's weakest class, in quotes, as printed "
                                 "above.")
    if not isinstance(answer, str) or answer not in class_names:
        return report(False, "", f"Name one of the classes exactly as printed: {', '.join(class_names)}.")
    shares = dict(zip(class_names, accuracy.tolist()))
    lowest = min(shares.values())
    if shares[answer] == lowest:
        return report(True, f"Yes: {answer}, recognised in {lowest:.0%} of your samples of it. Now look at its row of "
                            "the grid: what does your model draw instead?", "")
    weakest = [name for name, share in shares.items() if share == lowest]
    return report(False, "", f"{answer} scored {shares[answer]:.0%} in your numbers, but {' and '.join(weakest)} "
                             f"scored {lowest:.0%}.")
