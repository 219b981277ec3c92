"""Self-checks for the exercises of ``notebooks/03_attention.ipynb``."""

from collections.abc import Callable

import torch

from unet_lessons.exercises import report, run_learner_code, tensor_problem


def check_attention_weights(function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """The learner's ``function(q, k)`` must return ``softmax(q @ k^T / sqrt(d))`` over the keys.

    ``q`` and ``k`` are [heads, pixels, d]; the answer is [heads, pixels (queries), pixels (keys)].
    """
    generator = torch.Generator().manual_seed(0)
    q = 2 * torch.randn(2, 6, 8, generator=generator)  # [heads, pixels, d]; large enough that the scale matters
    k = 2 * torch.randn(2, 6, 8, generator=generator)
    scores = q @ k.transpose(-2, -1)  # [heads, queries, keys]
    expected = (scores / q.shape[-1] ** 0.5).softmax(dim=-1)
    ok, result = run_learner_code(function, q.clone(), k.clone())
    if not ok:
        return False
    problem = tensor_problem(result, expected.shape,
                             "That is [heads, queries, keys]: did you transpose k's last two dimensions?")
    if problem:
        return report(False, "", problem)
    if torch.allclose(result, expected, atol=1e-5):
        return report(True, "Right: every row is a softmax over the keys, scaled by 1/sqrt(d).", "")
    if torch.allclose(result, scores.softmax(dim=-1), atol=1e-5):
        return report(False, "", "Almost: divide the scores by sqrt(d) (d = q.shape[-1]) before the softmax.")
    if torch.allclose(result, (scores / q.shape[-1] ** 0.5).softmax(dim=-2), atol=1e-5):
        return report(False, "", "The softmax runs over the wrong axis: each query's row (the keys, dim=-1) "
                                 "must sum to 1.")
    return report(False, "", "Compute scores = q @ k.transpose(-2, -1) / sqrt(d), then softmax(dim=-1).")


def check_attention_matrix_bytes(answer: object, resolution: int = 64, bytes_per_element: int = 4) -> bool:
    """Bytes of one float32 attention matrix (one image, one head) at ``resolution x resolution``."""
    tokens = resolution * resolution
    expected = tokens * tokens * bytes_per_element
    if answer is None:
        return report(False, "", "Replace None with a number of bytes.")
    if answer == tokens * tokens:
        return report(False, "", f"That is the number of entries; each float32 takes {bytes_per_element} bytes.")
    if answer == tokens * bytes_per_element:
        return report(False, "", f"The matrix is (H*W) x (H*W): every one of the {tokens} pixels "
                                 f"has a weight for every one of the {tokens} pixels.")
    return report(answer == expected, f"Yes: {expected:,} bytes = {expected / 2**20:g} MiB, for one image and "
                                      "one head.",
                  f"A {resolution}x{resolution} map has H*W = {tokens} pixels; the matrix has one float32 "
                  "per (query, key) pair.")
