"""Self-checks for the exercises of ``notebooks/06_init.ipynb``."""

import math
from collections.abc import Callable

import torch
from torch import nn

from unet_lessons.exercises import report, run_learner_code


def check_zero_module(function: Callable[[nn.Module], nn.Module]) -> bool:
    """The learner's ``function(module)`` must set every parameter of ``module`` to exactly zero, in place,
    and return the module. Tried on a Conv2d, a Linear and a GroupNorm."""
    torch.manual_seed(0)
    for module in (nn.Conv2d(4, 3, kernel_size=3), nn.Linear(5, 2), nn.GroupNorm(2, 4)):
        name = type(module).__name__
        ok, returned = run_learner_code(function, module)
        if not ok:
            return False
        if returned is None:
            return report(False, "", "Your function returned None: return the module, so that "
                                     "`layer = zero_module(nn.Conv2d(...))` works in one line.")
        if returned is not module:
            return report(False, "", f"Zero the {name} you were given in place and return that same object, "
                                     "not a new one.")
        nonzero = [param_name for param_name, param in module.named_parameters() if param.count_nonzero() > 0]
        if nonzero:
            return report(False, "", f"In the {name}, {', '.join(nonzero)} is not all zero. Loop over "
                                     "module.parameters() and zero each one (nn.init.zeros_ or "
                                     "p.detach().zero_()), so no parameter is forgotten.")
    return report(True, "Every parameter of a Conv2d, a Linear and a GroupNorm is exactly zero.", "")


def check_expected_initial_loss(function: Callable[[float], float]) -> bool:
    """The learner's ``function(prediction_mean_square)`` must return the expected MSE loss against
    standard normal noise, for a prediction independent of that noise: ``1 + prediction_mean_square``."""
    for mean_square in (0.0, 0.25, 1.0, 4.0):
        ok, answer = run_learner_code(function, mean_square)
        if not ok:
            return False
        if answer is None:
            return report(False, "", "Your function returned None: return a number.")
        expected = 1.0 + mean_square  # E[(p - e)^2] = E[p^2] - 2 E[p] E[e] + E[e^2], with E[e] = 0, E[e^2] = 1
        if not math.isclose(float(answer), expected, abs_tol=1e-6):
            hint = f"With E[prediction²] = {mean_square} the expected loss is not {answer}. "
            if mean_square == 0.0:
                hint += "A prediction of exactly 0 leaves loss = mean(noise²): what is that for noise ~ N(0, 1)?"
            else:
                hint += ("Expand E[(prediction - noise)²]; the cross term vanishes because the noise has "
                         "mean 0 and is independent of the prediction.")
            return report(False, "", hint)
    return report(True, "Loss = 1 + E[prediction²]: any prediction that ignores the noise only adds to "
                        "the loss, so predicting exactly 0 is the best blind start.", "")
