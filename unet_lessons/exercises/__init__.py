"""Self-checks for the lesson exercises: each checker runs the learner's code and answers kindly.

One module per lesson (``exercises.resblocks`` for ``01_resblocks.ipynb``, ...). Every checker returns
``True`` when the answer is right and prints what to look at when it is not; it never raises on a wrong
answer, so a notebook keeps running top to bottom.
"""

from collections.abc import Callable

import torch


def report(ok: bool, success: str, hint: str) -> bool:
    """Print a friendly verdict and return ``ok``."""
    print(("✔ " + success) if ok else ("✘ Not yet. " + hint))
    return ok


def run_learner_code(function: Callable, *args, **kwargs) -> tuple[bool, object]:
    """Call the learner's function; an exception becomes a hint instead of a traceback.

    Returns ``(True, result)`` or ``(False, None)`` after printing what went wrong.
    """
    try:
        return True, function(*args, **kwargs)
    except Exception as error:  # the learner's code may fail in any way; show it and carry on
        print(f"✘ Your function raised {type(error).__name__}: {error}")
        if isinstance(error, RuntimeError) and "leaf Variable that requires grad" in str(error):
            print("   Hint: a parameter records its gradient, so PyTorch refuses an in-place change like p.zero_(); "
                  "use nn.init.zeros_(p), p.detach().zero_(), or do it inside `with torch.no_grad():`.")
        if isinstance(error, RuntimeError) and "must match the size of tensor" in str(error):
            print("   Hint: a value per image, shape [B], broadcasts over images [B, C, H, W] only as "
                  "[B, 1, 1, 1]: index it with [:, None, None, None].")
        return False, None


def tensor_problem(result: object, expected_shape: tuple[int, ...], shape_hint: str = "") -> str | None:
    """What is wrong with a learner's tensor before its values are compared; ``None`` if nothing is.

    Catches the first three mistakes: the stub's ``None`` still in place, something that is not a tensor,
    a wrong shape (``shape_hint`` is added to that message, e.g. what each dimension means).
    """
    if result is None:
        return "Your function returned None: fill in its body and return the result."
    if not isinstance(result, torch.Tensor):
        return f"Return a torch.Tensor, not a {type(result).__name__}."
    if tuple(result.shape) != tuple(expected_shape):
        return f"The shape should be {list(expected_shape)}, got {list(result.shape)}. {shape_hint}".rstrip()
    return None
