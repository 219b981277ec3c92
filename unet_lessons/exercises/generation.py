"""Self-checks for the exercises of ``notebooks/08_it_generates.ipynb``."""

from collections.abc import Callable

import torch

from unet_lessons.exercises import report, run_learner_code, tensor_problem
from unet_lessons.sampling import ddim_step
from unet_lessons.training import NoiseSchedule, predict_x0, q_sample

_SHAPE_HINT = "It has the images' shape: [batch, channels, height, width]."


def _trajectory_point(schedule: NoiseSchedule, t: list[int]) -> tuple[torch.Tensor, ...]:
    """Clean images inside (-0.9, 0.9), their true noise and x_t at steps ``t``: exact inputs to check with."""
    generator = torch.Generator().manual_seed(0)
    x0 = torch.rand((len(t), 1, 8, 8), generator=generator) * 1.8 - 0.9
    noise = torch.randn(x0.shape, generator=generator)
    steps = torch.tensor(t)
    return x0, noise, steps, q_sample(x0, steps, noise, schedule)


def check_predict_x0(function: Callable, schedule: NoiseSchedule | None = None) -> bool:
    """The learner's ``function(x_t, t, noise_prediction, schedule)`` must invert ``q_sample``."""
    schedule = schedule if schedule is not None else NoiseSchedule.linear()
    x0, noise, t, x_t = _trajectory_point(schedule, [10, 300, 700, 990])
    ok, result = run_learner_code(function, x_t.clone(), t.clone(), noise.clone(), schedule)
    if not ok:
        return False
    problem = tensor_problem(result, x0.shape, _SHAPE_HINT)
    if problem:
        return report(False, "", problem)
    if torch.allclose(result, predict_x0(x_t, t, noise, schedule), atol=1e-4):
        return report(True, "Your x_0 recovers the clean images exactly from the true noise, at t = 10 to 990.", "")
    alpha_bar = schedule.alpha_bars[t][:, None, None, None]
    if torch.allclose(result, (x_t - (1 - alpha_bar) * noise) / alpha_bar, atol=1e-4):
        return report(False, "", "Close: q_sample weights by square roots, so undo it with sqrt(1 - abar_t) and "
                                 "sqrt(abar_t).")
    return report(False, "", "Solve x_t = sqrt(abar_t) * x_0 + sqrt(1 - abar_t) * noise for x_0, with "
                             "abar_t = schedule.alpha_bars[t][:, None, None, None] (one per image, broadcast).")


def check_guidance(function: Callable) -> bool:
    """The learner's ``function(eps_uncond, eps_cond, w)`` must give classifier-free guidance's mix."""
    generator = torch.Generator().manual_seed(1)
    eps_uncond, eps_cond = torch.randn((2, 3, 1, 4, 4), generator=generator)
    for w in (0.0, 1.0, 3.0):
        ok, result = run_learner_code(function, eps_uncond.clone(), eps_cond.clone(), w)
        if not ok:
            return False
        problem = tensor_problem(result, eps_cond.shape, _SHAPE_HINT)
        if problem:
            return report(False, "", problem)
        if not torch.allclose(result, eps_uncond + w * (eps_cond - eps_uncond), atol=1e-6):
            swapped = eps_cond + w * (eps_uncond - eps_cond)
            if torch.allclose(result, swapped, atol=1e-6):
                return report(False, "", f"At w = {w:g} yours moves away from the class: start from the "
                                         "unconditional prediction and step towards the conditional one.")
            expected = "the unconditional prediction" if w == 0 else "the conditional prediction" if w == 1 else \
                "eps_uncond + w * (eps_cond - eps_uncond)"
            return report(False, "", f"At w = {w:g} the mix should be {expected}.")
    return report(True, "Your mix gives the unconditional prediction at w = 0, the conditional one at w = 1, "
                        "and goes past it at w = 3.", "")


def check_ddim_step(function: Callable, schedule: NoiseSchedule | None = None) -> bool:
    """The learner's ``function(x_t, t, t_prev, noise_prediction, schedule)`` must make one DDIM step
    (eta = 0) from step t to step t_prev."""
    schedule = schedule if schedule is not None else NoiseSchedule.linear()
    x0, noise, t, x_t = _trajectory_point(schedule, [600, 600])
    t_prev = 400
    ok, result = run_learner_code(function, x_t.clone(), 600, t_prev, noise.clone(), schedule)
    if not ok:
        return False
    problem = tensor_problem(result, x0.shape, _SHAPE_HINT)
    if problem:
        return report(False, "", problem)
    expected, _ = ddim_step(x_t, 600, t_prev, noise, schedule)
    if torch.allclose(result, expected, atol=1e-4):
        return report(True, "Your step lands where the package's does: on the same noise path, at step 400.", "")
    if torch.allclose(result, q_sample(x0, torch.tensor([t_prev] * 2), torch.zeros_like(noise), schedule),
                      atol=1e-4):
        return report(False, "", "You kept the x_0 part but dropped the noise: DDIM keeps the same noise "
                                 "direction, weighted by sqrt(1 - abar_prev).")
    return report(False, "", "Estimate x_0 from x_t and the predicted noise, then rebuild x at t_prev: "
                             "sqrt(abar_prev) * x_0 + sqrt(1 - abar_prev) * noise_prediction.")
