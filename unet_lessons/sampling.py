"""From noise to an image: the ancestral sampler, DDIM, and classifier-free guidance.

Taught in ``notebooks/08_it_generates.ipynb``. Both samplers walk an evenly spaced subset of the training
schedule's steps, from pure noise at the last step down to step 0. At every step the model predicts the
noise, which gives an estimate of the clean image x0; the samplers differ in how they step from x_t to the
next x:

- **ancestral** (Ho et al. 2020): draw x_{t-1} from the Gaussian posterior q(x_{t-1} | x_t, x0), fresh noise
  every step;
- **DDIM** (Song et al. 2020): move to the point of the same noise path one step earlier; with ``eta = 0``
  no fresh noise at all, so a few dozen steps suffice and a seed always gives the same image.

**Classifier-free guidance** (Ho & Salimans 2022) asks a class-conditional model twice, with the label and
with "no class", and extrapolates: ``eps = eps_uncond + w * (eps_cond - eps_uncond)``. ``w = 1`` is the
plain conditional model, larger w trades variety for images that look more like their class.
"""

from collections.abc import Callable

import torch
from torch import nn

from unet_lessons.training import NoiseSchedule, check_images, predict_x0

# on_step(step_index, t, x_t, predicted_x0): called at every step with the current x_t and the x0 estimate.
StepCallback = Callable[[int, int, torch.Tensor, torch.Tensor], None]


def guided_noise(model: nn.Module, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None,
                 guidance_scale: float = 1.0) -> torch.Tensor:
    """The model's noise prediction with classifier-free guidance of scale ``guidance_scale`` (w).

    ``y=None`` (or an unconditional model) is the plain prediction. w = 1 is the conditional prediction and
    w = 0 the unconditional one, each from a single forward pass; any other w runs the conditional and the
    "no class" halves as one batch of 2B images.

    x: [B, C, H, W], t: [B], y: [B] labels -> [B, C, H, W].
    """
    if y is None or guidance_scale == 1:
        return model(x, t, y) if y is not None else model(x, t)
    if guidance_scale == 0:
        return model(x, t, torch.full_like(y, model.null_class))
    no_class = torch.full_like(y, model.null_class)
    eps_cond, eps_uncond = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, no_class])).chunk(2)
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)


def sampling_steps(schedule: NoiseSchedule, num_steps: int) -> list[int]:
    """``num_steps`` training steps, evenly spaced from the last (T - 1) down to 0, e.g. [999, 888, ..., 0]."""
    total = schedule.num_steps
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or not 1 <= num_steps <= total:
        raise ValueError(f"num_steps={num_steps!r}: choose an int between 1 and the schedule's {total} steps.")
    return torch.linspace(total - 1, 0, num_steps).round().long().tolist()


def ddim_step(x_t: torch.Tensor, t: int, t_prev: int | None, noise_prediction: torch.Tensor,
              schedule: NoiseSchedule, eta: float = 0.0, fresh_noise: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """One DDIM update (Song et al. 2020, eq. 12) from step ``t`` to ``t_prev`` (None: to the clean image).

    The x0 estimate is clipped to [-1, 1] and the noise recomputed from it, so the step stays on the line
    between the two. With ``eta = 0`` the step is deterministic; ``eta = 1`` adds the ancestral sampler's
    amount of fresh noise (``fresh_noise``, [B, C, H, W], required then).

    Returns:
        (x at ``t_prev``, the x0 estimate), both [B, C, H, W].
    """
    check_images(x_t, "x_t")
    if isinstance(t, bool) or not isinstance(t, int):
        raise ValueError(f"t={t!r}: the step for the whole batch, one int (e.g. 999).")
    t_batch = schedule.check_steps(t, x_t.shape[0])
    if t_prev is not None and (isinstance(t_prev, bool) or not isinstance(t_prev, int) or not 0 <= t_prev < t):
        raise ValueError(f"t_prev={t_prev!r}: an earlier step, an int in 0..{t - 1} (or None for the clean image).")
    if not isinstance(noise_prediction, torch.Tensor) or noise_prediction.shape != x_t.shape:
        raise ValueError(f"noise_prediction must have x_t's shape {list(x_t.shape)}.")
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or eta < 0:
        raise ValueError(f"eta={eta!r}: a number >= 0 (0: deterministic DDIM, 1: as much noise as ancestral).")
    alpha_bar = schedule.alpha_bars[t]
    alpha_bar_prev = schedule.alpha_bars[t_prev] if t_prev is not None else torch.tensor(1.0)
    x0 = predict_x0(x_t, t_batch, noise_prediction, schedule).clamp(-1, 1)
    eps = (x_t - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()  # the noise that leads to the clipped x0
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar) * (1 - alpha_bar / alpha_bar_prev)).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * eps
    if eta > 0 and t_prev is not None:
        if fresh_noise is None:
            raise ValueError(f"eta={eta}: a stochastic DDIM step needs fresh_noise of x's shape.")
        x_prev = x_prev + sigma * fresh_noise
    return x_prev, x0


@torch.no_grad()
def ddim_sample(model: nn.Module, schedule: NoiseSchedule, shape: tuple[int, ...], num_steps: int = 50,
                eta: float = 0.0, y: torch.Tensor | None = None, guidance_scale: float = 1.0, seed: int = 0,
                on_step: StepCallback | None = None) -> torch.Tensor:
    """DDIM sampling from pure noise in ``num_steps`` steps.

    Args:
        model: the trained U-Net (class-conditional if ``y`` is given).
        schedule: the training schedule.
        shape: [B, C, H, W] of the samples.
        num_steps: denoising steps, 1 to T.
        eta: 0 for deterministic DDIM, up to 1 for as much fresh noise as the ancestral sampler.
        y: [B] class labels (``model.null_class`` for "no class"), or None.
        guidance_scale: classifier-free guidance scale w (1: none; needs ``y``).
        seed: seeds the starting noise and any fresh noise.
        on_step: called as ``on_step(i, t, x_t, predicted_x0)`` at every step.

    Returns:
        [B, C, H, W] samples in [-1, 1].
    """
    steps = _check_sampling(model, schedule, shape, num_steps, y, guidance_scale)
    if not 0 <= eta <= 1:
        raise ValueError(f"eta={eta}: choose between 0 (deterministic DDIM) and 1 (ancestral amount of noise).")
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    x = torch.randn(shape, generator=generator)
    for i, t in enumerate(steps):
        t_prev = steps[i + 1] if i + 1 < len(steps) else None
        eps = guided_noise(model, x, torch.full((shape[0],), t), y, guidance_scale)
        fresh = torch.randn(shape, generator=generator) if eta > 0 and t_prev is not None else None
        x_next, x0 = ddim_step(x, t, t_prev, eps, schedule, eta, fresh)
        if on_step is not None:
            on_step(i, t, x, x0)
        x = x_next
    return x.clamp(-1, 1)


@torch.no_grad()
def ancestral_sample(model: nn.Module, schedule: NoiseSchedule, shape: tuple[int, ...],
                     num_steps: int | None = None, y: torch.Tensor | None = None, guidance_scale: float = 1.0,
                     seed: int = 0, on_step: StepCallback | None = None) -> torch.Tensor:
    """Ancestral sampling from pure noise, optionally on an evenly spaced subset of the steps.

    Each step estimates x0 from the predicted noise, clips it to [-1, 1], and draws x_{t-1} from the
    Gaussian posterior q(x_{t-1} | x_t, x0), with the schedule respaced to the chosen steps.

    Args:
        model: the trained U-Net.
        schedule: the training schedule.
        shape: [B, C, H, W] of the samples.
        num_steps: how many denoising steps (default: all T).
        y, guidance_scale, on_step: as in :func:`ddim_sample`.
        seed: seeds the starting noise and every step's noise.

    Returns:
        [B, C, H, W] samples in [-1, 1].
    """
    steps = _check_sampling(model, schedule, shape, schedule.num_steps if num_steps is None else num_steps,
                            y, guidance_scale)
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    x = torch.randn(shape, generator=generator)
    for i, t in enumerate(steps):
        alpha_bar = schedule.alpha_bars[t]
        alpha_bar_prev = schedule.alpha_bars[steps[i + 1]] if i + 1 < len(steps) else torch.tensor(1.0)
        beta = 1 - alpha_bar / alpha_bar_prev  # the respaced step's beta
        t_batch = torch.full((shape[0],), t)
        x0 = predict_x0(x, t_batch, guided_noise(model, x, t_batch, y, guidance_scale), schedule).clamp(-1, 1)
        if on_step is not None:
            on_step(i, t, x, x0)
        # Posterior mean of q(x_{t-1} | x_t, x0), DDPM eq. 7.
        mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)) * x0 \
            + ((1 - beta).sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)) * x
        if i + 1 < len(steps):
            variance = beta * (1 - alpha_bar_prev) / (1 - alpha_bar)
            x = mean + variance.sqrt() * torch.randn(shape, generator=generator)
        else:
            x = mean
    return x.clamp(-1, 1)


def _check_sampling(model: nn.Module, schedule: NoiseSchedule, shape: tuple[int, ...], num_steps: int,
                    y: torch.Tensor | None, guidance_scale: float) -> list[int]:
    """Raise a ValueError naming the argument before any step runs; return the steps to walk."""
    steps = sampling_steps(schedule, num_steps)
    target = getattr(model, "prediction_target", "epsilon")
    if target != "epsilon":
        raise ValueError(f"model: it was trained to predict {target!r}, and the samplers need the noise; sample "
                         "with unet_lessons.recipe.NoisePredictor(model, schedule), which converts its predictions.")
    if len(shape) != 4 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in shape):
        raise ValueError(f"shape={tuple(shape)}: give [batch, channels, height, width] as positive ints.")
    if isinstance(guidance_scale, bool) or not isinstance(guidance_scale, (int, float)) or guidance_scale < 0:
        raise ValueError(f"guidance_scale={guidance_scale!r}: a number >= 0 (1: no guidance, 0: unconditional).")
    if y is None:
        if guidance_scale != 1:
            raise ValueError(f"guidance_scale={guidance_scale}: guidance needs class labels y; pass y, or "
                             "guidance_scale=1.")
        return steps
    if getattr(model, "null_class", None) is None:
        raise ValueError("y: this model is unconditional (num_classes=None); sample without y, or train a "
                         "model with num_classes set.")
    model.check_labels(y, shape[0])  # dtype, shape and range, named
    return steps
