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


# Classifier-free guidance mixes learners write instead of eps_uncond + w * (eps_cond - eps_uncond), with what each
# does, so a hint names the learner's formula rather than guessing from one scale. Both of the first two give the
# conditional prediction at w = 0.
_GUIDANCE_MISTAKES = (
    (lambda uncond, cond, w: (1 - w) * cond + w * uncond,
     "Yours is the mix with eps_cond and eps_uncond swapped, eps_cond + w * (eps_uncond - eps_cond) (the same as "
     "(1 - w) * eps_cond + w * eps_uncond): it gives the conditional prediction at w = 0, the unconditional one at "
     "w = 1, and moves away from the class beyond. Start from eps_uncond and step towards eps_cond."),
    (lambda uncond, cond, w: cond + w * (cond - uncond),
     "Yours is eps_cond + w * (eps_cond - eps_uncond), the convention where w counts only the extra push: it gives "
     "the conditional prediction at w = 0, and its w = 1 is this course's w = 2. Here w = 0 must ignore the label: "
     "start from eps_uncond, eps_uncond + w * (eps_cond - eps_uncond)."),
    (lambda uncond, cond, w: uncond + w * cond,
     "Yours adds w * eps_cond to eps_uncond: at w = 1 that is both predictions summed, not the conditional one. "
     "Guidance steps along the difference the label makes: eps_uncond + w * (eps_cond - eps_uncond)."),
    (lambda uncond, cond, w: (uncond + w * cond) / (1 + w),
     "Yours is a weighted average, (eps_uncond + w * eps_cond) / (1 + w): it never reaches the conditional "
     "prediction and can never go past it. Guidance extrapolates: eps_uncond + w * (eps_cond - eps_uncond)."),
)


def _what_it_gave(result: torch.Tensor, eps_uncond: torch.Tensor, eps_cond: torch.Tensor) -> str:
    """Name the learner's tensor when it is one of the two predictions."""
    if torch.allclose(result, eps_uncond, atol=1e-6):
        return "the unconditional prediction (eps_uncond)"
    if torch.allclose(result, eps_cond, atol=1e-6):
        return "the conditional prediction (eps_cond)"
    return "neither prediction"


def check_guidance(function: Callable) -> bool:
    """The learner's ``function(eps_uncond, eps_cond, w)`` must give classifier-free guidance's mix.

    It runs at w = 0, 1 and 3; a wrong answer is matched against the usual wrong formulas (swapped predictions,
    the other convention for w, a sum, an average), and the hint names what the learner's code computed.
    """
    generator = torch.Generator().manual_seed(1)
    eps_uncond, eps_cond = torch.randn((2, 3, 1, 4, 4), generator=generator)
    scales = (0.0, 1.0, 3.0)
    results = []
    for w in scales:
        ok, result = run_learner_code(function, eps_uncond.clone(), eps_cond.clone(), w)
        if not ok:
            return False
        problem = tensor_problem(result, eps_cond.shape, _SHAPE_HINT)
        if problem:
            return report(False, "", problem)
        results.append(result.detach())
    wrong = [(w, result) for w, result in zip(scales, results)
             if not torch.allclose(result, eps_uncond + w * (eps_cond - eps_uncond), atol=1e-6)]
    if not wrong:
        return report(True, "Your mix gives the unconditional prediction at w = 0, the conditional one at w = 1, "
                            "and goes past it at w = 3.", "")
    for mistake, hint in _GUIDANCE_MISTAKES:
        if all(torch.allclose(result, mistake(eps_uncond, eps_cond, w), atol=1e-6)
               for w, result in zip(scales, results)):
            return report(False, "", hint)
    w, result = wrong[0]
    expected = ("the unconditional prediction (eps_uncond)" if w == 0 else "the conditional prediction (eps_cond)"
                if w == 1 else f"eps_uncond + {w:g} * (eps_cond - eps_uncond), past the conditional prediction")
    return report(False, "", f"At w = {w:g} yours gives {_what_it_gave(result, eps_uncond, eps_cond)}; it should give "
                             f"{expected}. The mix: eps_uncond + w * (eps_cond - eps_uncond).")


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
