"""Self-checks for the exercises of ``notebooks/07_does_it_learn.ipynb``."""

from collections.abc import Callable

import torch

from unet_lessons.exercises import report, run_learner_code, tensor_problem
from unet_lessons.training import NoiseSchedule, q_sample, shapes_dataset


def check_q_sample(function: Callable, schedule: NoiseSchedule | None = None) -> bool:
    """The learner's ``function(x0, t, noise, schedule)`` must equal the package's ``q_sample``.

    Tried on four shapes images at ``t = [0, 10, 500, 999]``, one step per image.
    """
    schedule = schedule if schedule is not None else NoiseSchedule.linear()
    x0 = shapes_dataset(4, size=16)
    t = torch.tensor([0, 10, 500, 999])
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    ok, result = run_learner_code(function, x0.clone(), t.clone(), noise.clone(), schedule)
    if not ok:
        return False
    problem = tensor_problem(result, x0.shape, "x_t has the shape of x0: [batch, channels, height, width].")
    if problem:
        return report(False, "", problem)
    expected = q_sample(x0, t, noise, schedule)
    if torch.allclose(result, expected, atol=1e-5):
        return report(True, "Your q_sample matches the package's at t = 0, 10, 500 and 999.", "")
    alpha_bar = schedule.alpha_bars[t][:, None, None, None]
    if torch.allclose(result, alpha_bar * x0 + (1 - alpha_bar) * noise, atol=1e-5):
        return report(False, "", "Close: the weights are square roots, sqrt(abar_t) and sqrt(1 - abar_t), "
                                 "so the variance of x_t stays about 1.")
    alpha = schedule.alphas[t][:, None, None, None]
    if torch.allclose(result, alpha.sqrt() * x0 + (1 - alpha).sqrt() * noise, atol=1e-5):
        return report(False, "", "That is one step of noise (alphas); jumping straight to step t uses the "
                                 "cumulative product, schedule.alpha_bars.")
    return report(False, "", "The values differ. Look up abar_t = schedule.alpha_bars[t], reshape it to "
                             "[batch, 1, 1, 1] so it broadcasts, then sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise.")


def check_zero_noise_loss(answer: object) -> bool:
    """The MSE of always predicting zero noise: the mean of noise**2, i.e. the noise variance, 1."""
    if answer is None:
        return report(False, "", "Replace None with a number.")
    if not isinstance(answer, (int, float)):
        return report(False, "", f"Give a number, not a {type(answer).__name__}.")
    if abs(answer) < 1e-9:
        return report(False, "", "The prediction is zero, but the target (the noise) is not: the loss is the "
                                 "mean of (0 - noise)**2.")
    return report(abs(answer - 1.0) < 0.01, "Yes: mean((0 - noise)**2) = Var(noise) = 1 for standard normal noise.",
                  "The target is standard normal noise; what is the mean of its square?")


def _copy_model_loss(alpha_bar: float, x0_mean_square: float) -> float:
    """The expected MSE of returning x_t as the noise prediction (exercise 3's answer)."""
    return alpha_bar * x0_mean_square + (1 - (1 - alpha_bar) ** 0.5) ** 2


def check_copy_model_loss(function: Callable, schedule: NoiseSchedule | None = None) -> bool:
    """The learner's ``function(alpha_bar, x0_mean_square)``: the expected loss of a "model" that ignores t and
    returns its input ``x_t`` as the noise prediction.

    Compared with ``abar * E[x0²] + (1 - sqrt(1 - abar))²`` on a few settings, then measured: 128 shapes images
    noised at t = 0, 250, 500, 750 and 999, the copy's MSE beside the learner's prediction.
    """
    schedule = schedule if schedule is not None else NoiseSchedule.linear()
    settings = [(alpha_bar, mean_square) for alpha_bar in (0.9999, 0.5, 0.0064) for mean_square in (0.3, 1.0)]
    answers = []
    for alpha_bar, mean_square in settings:
        ok, answer = run_learner_code(function, alpha_bar, mean_square)
        if not ok:
            return False
        if isinstance(answer, torch.Tensor) and answer.numel() == 1:
            answer = answer.item()
        if answer is None:
            return report(False, "", "Your function returned None: fill in its body and return the expected loss.")
        if not isinstance(answer, (int, float)):
            return report(False, "", f"Return a number (a float), not a {type(answer).__name__}.")
        answers.append(float(answer))

    def matches(formula: Callable[[float, float], float]) -> bool:
        return all(abs(answer - formula(a, m)) < 1e-4 * max(1.0, abs(formula(a, m)))
                   for answer, (a, m) in zip(answers, settings))

    if not matches(_copy_model_loss):
        if matches(lambda a, m: 1.0):
            hint = "1 is the loss of predicting zero. The copy predicts x_t: what is left of x_t - noise?"
        elif matches(lambda a, m: (1 - (1 - a) ** 0.5) ** 2):
            hint = ("The noise part is right, but x_t also holds the image, sqrt(abar) * x0, and the copy returns "
                    "it too: its square averages abar * x0_mean_square.")
        elif matches(lambda a, m: a * m):
            hint = ("The image part is right, but x_t holds only sqrt(1 - abar) of the noise: the copy misses the "
                    "rest, (1 - sqrt(1 - abar)) * noise, and its square counts too.")
        elif matches(lambda a, m: a * m + a ** 2):
            hint = "Close: the weights in x_t are square roots, sqrt(abar) and sqrt(1 - abar)."
        else:
            hint = ("Write x_t - noise = sqrt(abar) * x0 + (sqrt(1 - abar) - 1) * noise and average its square: "
                    "image and noise are independent and the noise has mean 0, so the cross term vanishes.")
        return report(False, "", hint)
    images = shapes_dataset(128, 32, seed=1)
    mean_square = images.pow(2).mean().item()
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    lines = []
    for step in (0, 250, 500, 750, 999):
        x_t = q_sample(images, torch.full((len(images),), step), noise, schedule)
        measured = (x_t - noise).pow(2).mean().item()
        predicted = float(function(schedule.alpha_bars[step].item(), mean_square))  # it ran cleanly above
        lines.append(f"   t = {step:3d}: you predict {predicted:.3f}, measured {measured:.3f}")
    every_step = [_copy_model_loss(alpha_bar.item(), mean_square) for alpha_bar in schedule.alpha_bars]
    return report(True, "Your formula is right. The copy, measured on 128 shapes (mean of x0² "
                        f"{mean_square:.2f}):\n" + "\n".join(lines) + "\n   Nearly perfect at large t, worse than "
                        "predicting zero at t = 0: a model that ignores t cannot be right at both ends. Averaged "
                        f"over t = 0 ... 999, as training draws t, the copy scores {sum(every_step) / len(every_step):.2f}: "
                        "the first baseline worth beating is well under 1.", "")
