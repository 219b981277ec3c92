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
