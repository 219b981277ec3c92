"""Does it learn? The DDPM forward process, the noise-prediction loss and a training loop.

Taught in ``notebooks/07_does_it_learn.ipynb`` (the samplers are in :mod:`unet_lessons.sampling`). Small
on purpose: enough to show that the assembled U-Net learns to denoise within a couple of minutes on a
laptop CPU. A class-conditional model trains with label dropout, so it also learns "no class" (what
classifier-free guidance needs), and can keep an EMA of its weights.
"""

import inspect
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

    def check_steps(self, t, batch: int, argument: str = "t") -> torch.Tensor:
        """``t`` as [batch] integer steps of this schedule, or a ``ValueError`` naming ``argument``: steps are
        integers in 0..T-1 (a negative one would silently index from the end)."""
        if isinstance(t, int) and not isinstance(t, bool):
            t = torch.full((batch,), t)
        if not isinstance(t, torch.Tensor) or t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
            kind = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{argument} must be integer steps (a torch.long tensor or an int), got {kind}; "
                             "e.g. torch.tensor([500]) or t.long().")
        if t.shape != (batch,):
            raise ValueError(f"{argument} must hold one step per image, shape [{batch}]; got {list(t.shape)}.")
        if t.device.type != "meta" and bool(((t < 0) | (t >= self.num_steps)).any()):
            raise ValueError(f"{argument} holds steps outside 0..{self.num_steps - 1} (this schedule's range): "
                             f"{sorted(set(t.tolist()))[:8]}.")
        return t


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """The forward process in one jump: ``x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise``.

    x0, noise: [B, C, H, W]; t: [B] integer steps in [0, T) -> x_t: [B, C, H, W].
    """
    check_images(x0, "x0")
    if not isinstance(noise, torch.Tensor) or noise.shape != x0.shape:
        raise ValueError(f"noise must have x0's shape {list(x0.shape)}; got "
                         f"{list(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__}.")
    t = schedule.check_steps(t, x0.shape[0])
    alpha_bar = schedule.alpha_bars.to(x0.device)[t][:, None, None, None]  # [B] -> [B, 1, 1, 1]
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise


def noise_prediction_loss(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule,
                          generator: torch.Generator | None = None, y: torch.Tensor | None = None) -> torch.Tensor:
    """DDPM's simple loss: noise x0 at a random step and ask the model for the noise; MSE.

    Predicting zero noise scores 1.0 (the noise has unit variance): that is the baseline to beat.
    ``y``: [B] class labels for a class-conditional model (None: unconditional).
    """
    batch = x0.shape[0]
    t = torch.randint(0, schedule.num_steps, (batch,), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device)
    x_t = q_sample(x0, t, noise, schedule)
    return F.mse_loss(model(x_t, t) if y is None else model(x_t, t, y), noise)


def drop_labels(y: torch.Tensor, null_class: int, probability: float,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of the labels ``y`` ([B]) with each replaced by ``null_class`` with ``probability``.

    Training so teaches one model both p(x | class) and p(x): classifier-free guidance needs both.
    """
    _check_label_dropout(probability)
    dropped = torch.rand(y.shape, generator=generator) < probability
    return torch.where(dropped, torch.full_like(y, null_class), y)


def check_images(images, argument: str) -> None:
    """A ``ValueError`` naming ``argument`` unless ``images`` is a float tensor [N, C, H, W]."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.dtype.is_floating_point:
        got = f"{images.dtype} {list(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{argument} must be a float tensor [N, channels, height, width] in [-1, 1]; got {got}. "
                         "For one image use image[None]; for uint8 pixels, pixels.float() / 127.5 - 1.")


def check_image_range(images: torch.Tensor, argument: str) -> None:
    """A ``ValueError`` naming ``argument`` unless every value of ``images`` lies in [-1, 1], the range the model
    is trained in (clean training images; noisy ``x_t`` legitimately leave it and are not checked with this)."""
    low, high = images.min().item(), images.max().item()
    if low < -1 or high > 1:
        raise ValueError(f"{argument} must lie in [-1, 1], the range a diffusion model trains in; got values from "
                         f"{low:g} to {high:g}. For uint8 pixels use to_model_images(pixels) (pixels / 127.5 - 1); "
                         "for images in [0, 1], images * 2 - 1.")


def check_count(value, argument: str, minimum: int) -> None:
    """A ``ValueError`` naming ``argument`` unless ``value`` is an int >= ``minimum`` (steps, batch sizes)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{argument}={value!r}: a whole number >= {minimum}.")


def _check_label_dropout(probability: float) -> None:
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise ValueError(f"label_dropout={probability!r}: a probability in [0, 1], e.g. 0.1.")


def ema_model(model: nn.Module, decay: float = 0.999) -> torch.optim.swa_utils.AveragedModel:
    """An exponential moving average of ``model``'s weights: PyTorch's ``AveragedModel`` with an EMA rule.

    Call ``ema.update_parameters(model)`` after every optimiser step (``train(..., ema=ema)`` does); the
    first call copies the weights, each later one moves the average ``1 - decay`` of the way to them.
    Sample from ``ema.module``: averaged weights give smoother images than the last step's.
    """
    if not 0 < decay < 1:
        raise ValueError(f"decay={decay}: in (0, 1), e.g. 0.999 (an average over about 1 / (1 - decay) steps).")
    return torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay), use_buffers=True)


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


def _check_train_arguments(model: nn.Module, images, steps, batch_size, lr, warmup_steps, labels,
                           label_dropout) -> None:
    """:func:`train`'s checks, each a ``ValueError`` naming the argument, before any work."""
    check_images(images, "images")
    check_count(steps, "steps", 1)  # zero steps would train nothing and return no losses
    check_count(batch_size, "batch_size", 1)
    check_count(warmup_steps, "warmup_steps", 0)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr={lr!r}: a learning rate > 0, e.g. 1e-3.")
    if labels is not None:
        if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
            got = list(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
            raise ValueError(f"labels must hold one class label per image, shape [{len(images)}]; got {got}.")
        model.check_labels(labels, len(images))  # a conditional model, integer labels in range
        _check_label_dropout(label_dropout)
    check_image_range(images, "images")  # last: it reads every value, the checks above only arguments


def train(model: nn.Module, images: torch.Tensor, schedule: NoiseSchedule, steps: int, batch_size: int = 32,
          lr: float = 2e-3, warmup_steps: int = 0, seed: int = 0,
          on_step: Callable[[int, float], None] | None = None, labels: torch.Tensor | None = None,
          label_dropout: float = 0.1, ema: torch.optim.swa_utils.AveragedModel | None = None,
          optimizer: torch.optim.Optimizer | None = None, generator: torch.Generator | None = None) -> list[float]:
    """Train with Adam on random batches of ``images``; returns the loss of every step.

    The batches, timesteps and noise come from one generator seeded with ``seed``, and the warm-up does
    not depend on ``steps``: the first n steps of a longer run are exactly an n-step run. A long run can
    go on in chunks: pass the same ``optimizer`` and ``generator`` to every call (and ``warmup_steps`` only
    to the first) and the chunks are exactly one run.

    Args:
        model: the U-Net (trained in place).
        images: [N, C, H, W] training images in [-1, 1].
        schedule: the noise schedule.
        steps: optimisation steps (at least 1).
        batch_size: images per step.
        lr: Adam learning rate.
        warmup_steps: the learning rate rises linearly from lr / warmup_steps to lr over this many steps
            (0: the full rate from the first step).
        seed: seeds batches, steps and noise, so a run repeats exactly.
        on_step: called as ``on_step(step, loss)`` after every step (e.g. to move a progress bar).
        labels: [N] class labels of ``images``, for a class-conditional model (None: unconditional).
        label_dropout: with labels, the share of each batch's labels replaced by "no class".
        ema: an :func:`ema_model` of ``model``, updated after every step.
        optimizer: continue with this optimiser and its state (``lr`` is then unused); default a new Adam.
        generator: continue with this generator (``seed`` is then unused); default one seeded with ``seed``.
    """
    _check_train_arguments(model, images, steps, batch_size, lr, warmup_steps, labels, label_dropout)
    generator = generator if generator is not None else torch.Generator().manual_seed(seed)
    optimizer = optimizer if optimizer is not None else torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(1, warmup_steps)))
    model.train()
    history = []
    for step in range(steps):
        chosen = torch.randint(0, len(images), (batch_size,), generator=generator)
        y = None if labels is None else drop_labels(labels[chosen], model.null_class, label_dropout, generator)
        loss = noise_prediction_loss(model, images[chosen], schedule, generator, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
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
    check_count(evaluate_every, "evaluate_every", 1)
    check_images(held_out_images, "held_out_images")
    try:  # train()'s own checks, before the held-out loss is measured
        arguments = inspect.signature(train).bind(model, images, schedule, steps, **train_options)
    except TypeError as error:
        raise ValueError(f"train_options: {error}; they go to train() (batch_size, lr, warmup_steps, seed, "
                         "...).") from None
    arguments.apply_defaults()
    _check_train_arguments(*(arguments.arguments[name] for name in (
        "model", "images", "steps", "batch_size", "lr", "warmup_steps", "labels", "label_dropout")))
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
    check_images(x_t, "x_t")
    t = schedule.check_steps(t, x_t.shape[0])
    alpha_bar = schedule.alpha_bars.to(x_t.device)[t][:, None, None, None]
    return (x_t - (1 - alpha_bar).sqrt() * predicted_noise) / alpha_bar.sqrt()


SHAPES = ("circle", "square", "triangle")  # the classes of shapes_dataset, by label


def shapes_dataset(num_images: int, size: int = 32, seed: int = 0,
                   return_labels: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Procedurally drawn images: one coloured circle, square or triangle on a plain background.

    No download, deterministic for a seed. Returns [num_images, 3, size, size] in [-1, 1], and with
    ``return_labels`` also the [num_images] labels (indices into ``SHAPES``).
    """
    if num_images <= 0 or size < 8:
        raise ValueError(f"num_images={num_images}, size={size}: need num_images > 0 and size >= 8.")
    generator = torch.Generator().manual_seed(seed)
    coords = (torch.arange(size) + 0.5) / size  # pixel centres in (0, 1)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    images = torch.empty(num_images, 3, size, size)
    labels = torch.empty(num_images, dtype=torch.long)
    for i in range(num_images):
        background, colour = torch.rand(2, 3, generator=generator) * torch.tensor([[0.4], [1.0]])
        colour = 0.5 + 0.5 * colour  # shapes brighter than backgrounds
        cx, cy = 0.3 + 0.4 * torch.rand(2, generator=generator)
        radius = 0.12 + 0.12 * torch.rand(1, generator=generator).item()
        kind = int(torch.randint(0, 3, (1,), generator=generator))
        labels[i] = kind
        dx, dy = x - cx, y - cy
        if kind == 0:
            mask = dx**2 + dy**2 < radius**2
        elif kind == 1:
            mask = (dx.abs() < radius * 0.85) & (dy.abs() < radius * 0.85)
        else:  # an upright triangle: apex at the top
            mask = (dy < radius * 0.8) & (dx.abs() < (dy + radius) / math.sqrt(3) * 1.2)
            mask &= dy > -radius
        images[i] = torch.where(mask, colour[:, None, None], background[:, None, None])
    images = images * 2 - 1
    return (images, labels) if return_labels else images
