"""Does it learn? The DDPM forward process, the noise-prediction loss, a training loop and a sampler.

Taught in ``notebooks/07_does_it_learn.ipynb``. Small on purpose: enough to show that the assembled
U-Net learns to denoise within a couple of minutes on a laptop CPU.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.hooks import RemovableHandle


@dataclass(frozen=True)
class NoiseSchedule:
    """DDPM's linear beta schedule and the quantities derived from it, each of shape [T].

    ``alpha_bars[t]`` is the share of the clean image's variance left at step t.
    """

    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor

    @classmethod
    def linear(cls, num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> "NoiseSchedule":
        if num_steps < 2:
            raise ValueError(f"num_steps={num_steps}: a schedule needs at least 2 steps.")
        if not 0 < beta_start < beta_end < 1:
            raise ValueError(f"beta_start={beta_start}, beta_end={beta_end}: need 0 < beta_start < beta_end < 1.")
        betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
        alphas = 1 - betas
        return cls(betas.float(), alphas.float(), torch.cumprod(alphas, dim=0).float())

    @property
    def num_steps(self) -> int:
        return len(self.betas)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """The forward process in one jump: ``x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise``.

    x0, noise: [B, C, H, W]; t: [B] integer steps in [0, T) -> x_t: [B, C, H, W].
    """
    alpha_bar = schedule.alpha_bars.to(x0.device)[t][:, None, None, None]  # [B] -> [B, 1, 1, 1]
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise


def noise_prediction_loss(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """DDPM's simple loss: noise x0 at a random step and ask the model for the noise; MSE.

    Predicting zero noise scores 1.0 (the noise has unit variance): that is the baseline to beat.
    """
    batch = x0.shape[0]
    t = torch.randint(0, schedule.num_steps, (batch,), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device)
    return F.mse_loss(model(q_sample(x0, t, noise, schedule), t), noise)


@torch.no_grad()
def evaluate_loss(model: nn.Module, images: torch.Tensor, schedule: NoiseSchedule, seed: int = 0,
                  batch_size: int = 64) -> float:
    """Mean noise-prediction loss over ``images`` with fixed noise and steps (so runs compare exactly)."""
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    losses = [noise_prediction_loss(model, images[i:i + batch_size], schedule, generator).item()
              * len(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    model.train(was_training)
    return sum(losses) / len(images)


def train(model: nn.Module, images: torch.Tensor, schedule: NoiseSchedule, steps: int, batch_size: int = 32,
          lr: float = 2e-3, warmup_steps: int = 0, seed: int = 0,
          on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train with Adam on random batches of ``images``; returns the loss of every step.

    The batches, timesteps and noise come from one generator seeded with ``seed``, and the warm-up does
    not depend on ``steps``: the first n steps of a longer run are exactly an n-step run.

    Args:
        model: the U-Net (trained in place).
        images: [N, C, H, W] training images in [-1, 1].
        schedule: the noise schedule.
        steps: optimisation steps.
        batch_size: images per step.
        lr: Adam learning rate.
        warmup_steps: the learning rate rises linearly from lr / warmup_steps to lr over this many steps
            (0: the full rate from the first step).
        seed: seeds batches, steps and noise, so a run repeats exactly.
        on_step: called as ``on_step(step, loss)`` after every step (e.g. to move a progress bar).
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(1, warmup_steps)))
    model.train()
    history = []
    for step in range(steps):
        batch = images[torch.randint(0, len(images), (batch_size,), generator=generator)]
        loss = noise_prediction_loss(model, batch, schedule, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        history.append(loss.item())
        if on_step is not None:
            on_step(step, history[-1])
    return history


@dataclass
class TrainingRun:
    """What one run recorded: the training loss of every step, and the held-out loss at checkpoints.

    ``held_out`` maps steps done to the held-out loss then (0: before the first step).
    """

    history: list[float]
    held_out: dict[int, float]


def train_and_evaluate(model: nn.Module, images: torch.Tensor, held_out_images: torch.Tensor,
                       schedule: NoiseSchedule, steps: int, evaluate_every: int = 25,
                       on_step: Callable[[int, float], None] | None = None, **train_options) -> TrainingRun:
    """:func:`train`, measuring :func:`evaluate_loss` on ``held_out_images`` before the first step and
    every ``evaluate_every`` steps (the held-out images are never trained on).

    ``train_options`` go to :func:`train` (batch_size, lr, warmup_steps, seed).
    """
    if evaluate_every < 1:
        raise ValueError(f"evaluate_every={evaluate_every}: evaluate at least every step (>= 1).")
    held_out = {0: evaluate_loss(model, held_out_images, schedule)}

    def after_step(step: int, loss: float) -> None:
        if (step + 1) % evaluate_every == 0 or step + 1 == steps:
            held_out[step + 1] = evaluate_loss(model, held_out_images, schedule)
        if on_step is not None:
            on_step(step, loss)

    history = train(model, images, schedule, steps, on_step=after_step, **train_options)
    return TrainingRun(history, held_out)


BREAKS = ("time", "skips")


def break_assembly(model: nn.Module, how: str) -> RemovableHandle:
    """Switch off one piece of a UNet's assembly with a forward hook, to measure what that piece is worth.

    - ``"time"``: ``model.time_embed`` outputs zeros, so every ResBlock sees the same time signal and the
      model cannot tell which step it is denoising (its output no longer depends on t);
    - ``"skips"``: every skip the encoder saves is replaced by zeros, so the decoder gets nothing from the
      encoder's high-resolution features and must rebuild the image from the bottleneck alone.

    Args:
        model: a :class:`unet_lessons.unet.UNet` (changed in place, weights untouched).
        how: one of ``BREAKS``.

    Returns:
        The hook's handle: ``handle.remove()`` restores the intact model.
    """
    if how == "time":
        return model.time_embed.register_forward_hook(
            lambda module, inputs, time_emb: torch.zeros_like(time_emb))  # [B, 4*base] of zeros
    if how == "skips":
        return model.encoder.register_forward_hook(
            lambda module, inputs, output: (output[0], [torch.zeros_like(skip) for skip in output[1]]))
    raise ValueError(f"how={how!r}: choose one of {BREAKS}.")


def predict_x0(x_t: torch.Tensor, t: torch.Tensor, predicted_noise: torch.Tensor,
               schedule: NoiseSchedule) -> torch.Tensor:
    """Invert ``q_sample`` with the predicted noise: the model's estimate of the clean image."""
    alpha_bar = schedule.alpha_bars.to(x_t.device)[t][:, None, None, None]
    return (x_t - (1 - alpha_bar).sqrt() * predicted_noise) / alpha_bar.sqrt()


@torch.no_grad()
def sample(model: nn.Module, schedule: NoiseSchedule, shape: tuple[int, ...], num_steps: int | None = None,
           seed: int = 0) -> torch.Tensor:
    """Ancestral sampling from pure noise, optionally on an evenly spaced subset of the steps.

    Each step estimates x0 from the predicted noise, clips it to [-1, 1], and draws x_{t-1} from the
    Gaussian posterior q(x_{t-1} | x_t, x0), with the schedule respaced to the chosen steps.

    Args:
        model: the trained U-Net.
        schedule: the training schedule.
        shape: [B, C, H, W] of the samples.
        num_steps: how many denoising steps (default: all T).
        seed: seeds the starting noise and every step's noise.

    Returns:
        [B, C, H, W] samples in [-1, 1].
    """
    total = schedule.num_steps
    num_steps = total if num_steps is None else num_steps
    if not 1 <= num_steps <= total:
        raise ValueError(f"num_steps={num_steps}: choose between 1 and the schedule's {total} steps.")
    generator = torch.Generator().manual_seed(seed)
    steps = torch.linspace(total - 1, 0, num_steps).round().long()  # e.g. 999, 888, ..., 0
    model.eval()
    x = torch.randn(shape, generator=generator)
    for i, t in enumerate(steps):
        alpha_bar = schedule.alpha_bars[t]
        alpha_bar_prev = schedule.alpha_bars[steps[i + 1]] if i + 1 < len(steps) else torch.tensor(1.0)
        beta = 1 - alpha_bar / alpha_bar_prev  # the respaced step's beta
        t_batch = torch.full((shape[0],), int(t))
        x0 = predict_x0(x, t_batch, model(x, t_batch), schedule).clamp(-1, 1)
        # Posterior mean of q(x_{t-1} | x_t, x0), DDPM eq. 7.
        mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)) * x0 \
            + ((1 - beta).sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)) * x
        if i + 1 < len(steps):
            variance = beta * (1 - alpha_bar_prev) / (1 - alpha_bar)
            x = mean + variance.sqrt() * torch.randn(shape, generator=generator)
        else:
            x = mean
    return x.clamp(-1, 1)


def shapes_dataset(num_images: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Procedurally drawn images: one coloured circle, square or triangle on a plain background.

    No download, deterministic for a seed. Returns [num_images, 3, size, size] in [-1, 1].
    """
    if num_images <= 0 or size < 8:
        raise ValueError(f"num_images={num_images}, size={size}: need num_images > 0 and size >= 8.")
    generator = torch.Generator().manual_seed(seed)
    coords = (torch.arange(size) + 0.5) / size  # pixel centres in (0, 1)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    images = torch.empty(num_images, 3, size, size)
    for i in range(num_images):
        background, colour = torch.rand(2, 3, generator=generator) * torch.tensor([[0.4], [1.0]])
        colour = 0.5 + 0.5 * colour  # shapes brighter than backgrounds
        cx, cy = 0.3 + 0.4 * torch.rand(2, generator=generator)
        radius = 0.12 + 0.12 * torch.rand(1, generator=generator).item()
        kind = int(torch.randint(0, 3, (1,), generator=generator))
        dx, dy = x - cx, y - cy
        if kind == 0:
            mask = dx**2 + dy**2 < radius**2
        elif kind == 1:
            mask = (dx.abs() < radius * 0.85) & (dy.abs() < radius * 0.85)
        else:  # an upright triangle: apex at the top
            mask = (dy < radius * 0.8) & (dx.abs() < (dy + radius) / math.sqrt(3) * 1.2)
            mask &= dy > -radius
        images[i] = torch.where(mask, colour[:, None, None], background[:, None, None])
    return images * 2 - 1
