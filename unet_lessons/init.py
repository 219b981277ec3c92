"""Weight initialization, and why the U-Net's last layer starts at exactly zero.

Taught in ``notebooks/06_init.ipynb``.

Besides the chapter's :func:`initialize_weights`, this module holds what the lesson measures with:
a model built under one of four init schemes (PyTorch's default, the same with only the output conv
zeroed, the chapter's, and the chapter's with zeroed residual branches), a batch of noisy photos with its
noise-prediction target, and per-block activation standard deviations and gradient norms.
"""

import functools
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from unet_lessons.analysis import block_kind
from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import UNetConfig
from unet_lessons.data import sample_photo
from unet_lessons.resblock import ResBlock
from unet_lessons.training import NoiseSchedule, q_sample, train
from unet_lessons.unet import UNet

# The schemes the lessons compare, and how the figures label them. "zero_output" is the control that
# separates the chapter's two changes: PyTorch's default body with only the output conv zeroed.
INIT_SCHEMES = {  # labels short enough for one legend row on a 1280x720 slide
    "pytorch_default": "PyTorch default",
    "zero_output": "default + zero output",
    "chapter": "chapter (zero output)",
    "zero_residual": "chapter + zero residuals",
}

SCHEDULE = NoiseSchedule.linear()  # DDPM's: beta from 1e-4 to 0.02 over 1000 steps


def initialize_weights(model: nn.Module, zero_residual_branches: bool = False) -> nn.Module:
    """Initialize a UNet in place, as the chapter does; returns the model.

    - every ``Conv2d``: Kaiming-normal (fan_out, ReLU gain), bias 0;
    - every ``Linear``: Xavier-uniform, bias 0;
    - every ``GroupNorm``: weight 1, bias 0;
    - the output conv (``model.out_conv``): weight and bias exactly 0, so the untrained model predicts
      zero noise instead of a random field.

    Args:
        model: a :class:`unet_lessons.unet.UNet` (anything with an ``out_conv``).
        zero_residual_branches: also zero the last conv of every ResBlock and every attention output
            projection (as improved-diffusion does), so each block starts as the identity.
    """
    if not isinstance(model, nn.Module) or not isinstance(getattr(model, "out_conv", None), nn.Conv2d):
        hint = " (a configuration: build the model first)" if hasattr(model, "validate") else ""
        raise ValueError(f"model: expected a UNet (a module with an out_conv), got {type(model).__name__}{hint}; "
                         "e.g. initialize_weights(UNet(config)). Nothing was changed.")
    if not isinstance(zero_residual_branches, bool):
        raise ValueError(f"zero_residual_branches={zero_residual_branches!r}: True or False.")
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.GroupNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    zeroed = [model.out_conv]
    if zero_residual_branches:
        for module in model.modules():
            if isinstance(module, ResBlock):
                zeroed.append(module.conv2)
            elif isinstance(module, AttentionBlock):
                zeroed.append(module.proj)
    for conv in zeroed:
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
    return model


def initialized_unet(config: UNetConfig, scheme: str, seed: int = 0) -> UNet:
    """Build a UNet with seeded weights under one of :data:`INIT_SCHEMES`.

    ``"pytorch_default"`` keeps PyTorch's own layer initialization; ``"zero_output"`` keeps it and zeroes
    only the output conv (the control: the chapter's zero output without its Kaiming body); ``"chapter"``
    applies :func:`initialize_weights`; ``"zero_residual"`` applies it with ``zero_residual_branches=True``.
    The same seed gives the same default weights, so the schemes differ only by the init. The global
    random state is left as it was.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme={scheme!r} is not an init scheme; use one of {list(INIT_SCHEMES)}.")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = UNet(config)
        if scheme == "zero_output":
            nn.init.zeros_(model.out_conv.weight)
            nn.init.zeros_(model.out_conv.bias)
        elif scheme != "pytorch_default":  # the chapter's init draws random numbers too
            initialize_weights(model, zero_residual_branches=scheme == "zero_residual")
    return model


def noisy_photo_batch(image_size: int, batch_size: int = 4, timestep: int = 500,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A training batch for noise prediction: copies of the course photo, each with its own noise.

    ``x_t = sqrt(alpha_bar_t) * photo + sqrt(1 - alpha_bar_t) * noise`` with DDPM's linear schedule
    (:func:`unet_lessons.training.q_sample`).

    Args:
        image_size: height and width of the photo.
        batch_size: number of noisy copies.
        timestep: the diffusion step t, in [0, 999], the same for the whole batch.
        seed: seed of the noise.

    Returns:
        ``(x_t, t, noise)``: [batch, 3, size, size], [batch] (long), [batch, 3, size, size].
    """
    if not 0 <= timestep < SCHEDULE.num_steps:
        raise ValueError(f"timestep={timestep} is outside the schedule; use 0 <= timestep < {SCHEDULE.num_steps}.")
    photos = sample_photo(image_size).expand(batch_size, -1, -1, -1)  # [1, 3, S, S] -> [B, 3, S, S]
    noise = torch.randn(photos.shape, generator=torch.Generator().manual_seed(seed))
    t = torch.full((batch_size,), timestep, dtype=torch.long)
    return q_sample(photos, t, noise, SCHEDULE), t, noise


class BlockStat(NamedTuple):
    """One number measured on one block: its module name, its kind (ResBlock, ...) and the value."""

    name: str
    kind: str
    value: float


def activation_stds(model: UNet, x: torch.Tensor, t: torch.Tensor) -> list[BlockStat]:
    """The standard deviation of every block's output along the image path, in forward order.

    Blocks are those of :func:`unet_lessons.analysis.trace_shapes` (init_conv, ResBlocks, attention,
    Downsample, Upsample, out_norm, out_conv) except the time embedding, which is not on the image path.

    Args:
        model: a UNet.
        x: [batch, in_channels, size, size].
        t: [batch] timesteps.
    """
    with torch.no_grad():
        _, blocks = _forward_recording_blocks(model, x, t)
    return [BlockStat(name, kind, output.std().item()) for name, kind, _, output in blocks
            if kind != "TimeEmbedding"]


def gradient_norms(model: UNet, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> list[BlockStat]:
    """The L2 norm of the loss gradient over each block's parameters, for one batch, in forward order.

    The loss is DDPM's: the mean squared error between ``model(x, t)`` and ``noise``. The blocks (time embedding included) partition the
    parameters, so the squared norms add up to the squared norm of the whole gradient. The model's
    ``.grad`` fields are left untouched.

    Args:
        model: a UNet.
        x: the noisy images, [batch, in_channels, size, size].
        t: [batch] timesteps.
        noise: the noise that was added, the prediction target, same shape as ``x``.
    """
    output, blocks = _forward_recording_blocks(model, x, t)
    parameters = list(model.parameters())
    gradients = torch.autograd.grad(F.mse_loss(output, noise), parameters, allow_unused=True)
    gradient_of = {id(p): g for p, g in zip(parameters, gradients)}
    stats = []
    for name, kind, module, _ in blocks:
        squares = sum(gradient_of[id(p)].pow(2).sum().item() for p in module.parameters()
                      if gradient_of[id(p)] is not None)
        stats.append(BlockStat(name, kind, squares ** 0.5))
    return stats


def _forward_recording_blocks(model: UNet, x: torch.Tensor, t: torch.Tensor):
    """Run the model once; return its output and (name, kind, module, output) for every block, in the
    order the blocks finish."""
    blocks = []

    def record(name, kind):
        def hook(module, args, output):
            blocks.append((name, kind, module, output))
        return hook

    handles = [module.register_forward_hook(record(name, kind))
               for name, module in model.named_modules()
               if (kind := block_kind(name, module)) is not None]
    try:
        output = model(x, t)
    finally:
        for handle in handles:
            handle.remove()
    return output, blocks


class InitMeasurement(NamedTuple):
    """What :func:`compare_init_schemes` measures for one scheme (tuples: results are cached and shared)."""

    loss: float
    activation_stds: tuple[BlockStat, ...]
    gradient_norms: tuple[BlockStat, ...]


def compare_init_schemes(config: UNetConfig, schemes: tuple[str, ...] = tuple(INIT_SCHEMES),
                         timestep: int = 500, optimizer_steps: int = 0, learning_rate: float = 2e-4,
                         batch_size: int = 4, seed: int = 0) -> dict[str, InitMeasurement]:
    """Measure each init scheme on the same noisy batch: loss, activation stds and gradient norms.

    Every scheme starts from the same seeded weights (see :func:`initialized_unet`) and sees the same
    batch (:func:`noisy_photo_batch`). With ``optimizer_steps > 0`` the model first takes that many Adam
    steps on this batch, so one can watch what happens just after initialization.

    Args:
        config: the model to build (keep it small: it is materialised on the CPU).
        schemes: keys of :data:`INIT_SCHEMES`.
        timestep: the diffusion step of the batch.
        optimizer_steps: Adam steps taken before measuring.
        learning_rate: Adam's learning rate (2e-4, as in DDPM).
        batch_size: number of noisy photos.
        seed: seeds the weights and the noise.

    Returns:
        scheme -> :class:`InitMeasurement`, in the order of ``schemes``.

    Everything is seeded, so the measurements are cached per arguments: an explorer that shows the
    lesson's default setting, or comes back to a setting, measures nothing twice.
    """
    if optimizer_steps < 0:
        raise ValueError(f"optimizer_steps={optimizer_steps}: must be 0 or more.")
    return dict(_measure_schemes(config, tuple(schemes), timestep, optimizer_steps, learning_rate, batch_size, seed))


@functools.lru_cache(maxsize=32)
def _measure_schemes(config: UNetConfig, schemes: tuple[str, ...], timestep: int, optimizer_steps: int,
                     learning_rate: float, batch_size: int, seed: int) -> tuple[tuple[str, InitMeasurement], ...]:
    x, t, noise = noisy_photo_batch(config.image_size, batch_size, timestep, seed)
    results = []
    for scheme in schemes:
        model = initialized_unet(config, scheme, seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        for _ in range(optimizer_steps):
            optimizer.zero_grad()
            F.mse_loss(model(x, t), noise).backward()
            optimizer.step()
        with torch.no_grad():
            loss = F.mse_loss(model(x, t), noise).item()
        results.append((scheme, InitMeasurement(loss, tuple(activation_stds(model, x, t)),
                                                tuple(gradient_norms(model, x, t, noise)))))
    return tuple(results)


def early_training_losses(config: UNetConfig, schemes: tuple[str, ...] = tuple(INIT_SCHEMES), steps: int = 8,
                          learning_rate: float = 2e-4, batch_size: int = 4, seed: int = 0) -> dict[str, list[float]]:
    """The training loss of the first ``steps`` Adam steps under each init scheme.

    Trains on the course photo with :func:`unet_lessons.training.train`: every step a fresh batch of
    noisy copies (own noise, random timesteps), the same batches for every scheme. Far too short to say
    where training ends: it shows how each scheme *starts*.

    Returns:
        scheme -> the loss of each step, measured before that step's update.
    """
    photo = sample_photo(config.image_size)  # [1, 3, S, S]: train() draws batch_size copies of it
    return {scheme: train(initialized_unet(config, scheme, seed), photo, SCHEDULE, steps, batch_size=batch_size,
                          lr=learning_rate, seed=seed)
            for scheme in schemes}
