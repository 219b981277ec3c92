"""Self-checks for the exercises of ``notebooks/02_time_embedding.ipynb``."""

from collections.abc import Callable

import torch

from unet_lessons.analysis import count_parameters
from unet_lessons.configs import UNetConfig
from unet_lessons.exercises import report, run_learner_code, tensor_problem
from unet_lessons.time_embedding import TimeEmbedding, sinusoidal_embedding

_TIMESTEPS = torch.tensor([0, 1, 10, 500, 999])


def check_sinusoidal_embedding(function: Callable[[torch.Tensor, int], torch.Tensor]) -> bool:
    """The learner's ``function(t, dim)`` must equal the package's ``sinusoidal_embedding(t, dim)``.

    Tried on ``t = [0, 1, 10, 500, 999]`` with ``dim`` 16 and 128.
    """
    for dim in (16, 128):
        ok, result = run_learner_code(function, _TIMESTEPS.clone(), dim)
        if not ok:
            return False
        expected = sinusoidal_embedding(_TIMESTEPS, dim)
        problem = tensor_problem(result, expected.shape,
                                 f"One row per timestep ({len(_TIMESTEPS)} here), dim={dim} columns.")
        if problem:
            return report(False, "", problem)
        result = result.float()
        if torch.allclose(result, expected, atol=1e-4):
            continue
        half = dim // 2
        if torch.allclose(result, expected.roll(half, dims=1), atol=1e-4):
            return report(False, "", "Right numbers, wrong order: put the sines first, then the cosines.")
        if torch.allclose(result, sinusoidal_embedding(_TIMESTEPS, dim, freq_shift=1), atol=1e-4):
            return report(False, "", "That is the DDPM paper's version (exponent i / (half - 1)); the chapter "
                                     "divides by half: f_i = exp(-ln(10000) * i / half).")
        return report(False, "", f"The values differ (dim={dim}). Check the frequencies: "
                                 "f_i = exp(-ln(10000) * i / half) for i = 0 .. half-1, then "
                                 "[sin(t * f), cos(t * f)] with t as a float column [batch, 1].")
    return report(True, "Your embedding matches the package's for dim 16 and 128.", "")


def check_time_emb_dim(answer: object, base_channels: int = 64) -> bool:
    """``time_emb_dim`` of a UNet with ``base_channels`` (the size every ResBlock's time_proj reads)."""
    expected = UNetConfig(base_channels=base_channels).time_emb_dim
    if answer is None:
        return report(False, "", "Replace None with a number.")
    if answer == base_channels:
        return report(False, "", f"{base_channels} is the sinusoidal embedding's size; the MLP then widens it.")
    return report(answer == expected, f"Yes: 4 x {base_channels} = {expected}.",
                  "Look at TimeEmbedding.linear2: how many features does it output for base_channels?")


def check_time_embedding_parameters(answer: object, base_channels: int = 64) -> bool:
    """Parameters of ``TimeEmbedding(base_channels)``: two Linear layers with weights and biases."""
    expected = count_parameters(TimeEmbedding(base_channels))
    width = 4 * base_channels
    if answer is None:
        return report(False, "", "Replace None with a number.")
    if answer == base_channels * width + width * width:
        return report(False, "", "Close: you counted the weights; add each Linear layer's bias (one per output).")
    return report(answer == expected, f"Yes: {expected:,} parameters.",
                  f"Count Linear({base_channels}, {width}) and Linear({width}, {width}): "
                  "in x out weights plus out biases each.")
