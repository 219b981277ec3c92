"""Train your own: the choices of a training recipe, and a trainer that can stop and go on.

Taught in ``notebooks/09_train_your_own.ipynb``, where the learner trains their own generator; each choice is
measured in ``benchmarks/time_to_quality.py`` (the table is in ``benchmarks/RESULTS.md``). Lesson 07's loop
(:func:`unet_lessons.training.train`) asks the network for the noise, practises every step equally often,
weighs them alike, keeps a constant learning rate and averages the weights from the first step. A
:class:`Recipe` can change each of those:

- **what the network predicts** (``target``): the noise ε (DDPM), the clean image x0, the velocity
  ``v = a * ε - b * x0`` of the same noisy image ``x_t = a * x0 + b * ε`` (Salimans & Ho 2022), or the
  velocity ``ε - x0`` of rectified flow, whose noisy images lie on the straight line
  ``x_s = (1 - s) * x0 + s * ε`` (Liu et al. 2022, Lipman et al. 2022; ``"flow"``);
- **which noise levels it practises** (``timesteps``): all equally often, or SD3's logit-normal, which
  draws the middle levels most often (Esser et al. 2024);
- **how the loss weighs them** (``weighting``): alike, or min-SNR-γ (Hang et al. 2023);
- **the learning rate**: a linear warm-up, then constant or decaying to zero at the last step;
- **the EMA**: a fixed decay, or one that rises with the step count, so an early average is not mostly the
  random initial weights.

Every target converts exactly to a noise prediction (:class:`NoisePredictor`), so lesson 08's samplers
(:mod:`unet_lessons.sampling`) draw from every model trained here.
"""

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from unet_lessons.course_files import (config_from_header, load_into, load_training_subset, read_checked,
                                       write_checked)
from unet_lessons.data import load_fashion_mnist
from unet_lessons.training import NoiseSchedule, check_count, check_image_range, check_images, drop_labels
from unet_lessons.unet import UNet

TARGETS = ("epsilon", "x0", "v", "flow")
TIMESTEPS = ("uniform", "logit_normal")
WEIGHTINGS = ("none", "min_snr")
LR_DECAYS = ("constant", "cosine", "linear")
PRECISIONS = ("float32", "bfloat16")


@dataclass(frozen=True)
class Recipe:
    """How to train: every choice the time-to-quality study varies, checked by :meth:`validate`.

    Args:
        target: what the network predicts, one of ``TARGETS``.
        timesteps: how training draws noise levels, one of ``TIMESTEPS``.
        weighting: ``"none"`` or ``"min_snr"`` (each level's loss weighed as if its x0 error counted
            ``min(SNR, min_snr_gamma)`` times).
        min_snr_gamma: γ of min-SNR weighting (Hang et al. use 5).
        batch_size: images per step.
        lr: the peak learning rate of Adam.
        warmup_steps: the learning rate rises linearly to ``lr`` over this many steps.
        lr_decay: after the warm-up, ``"constant"``, or ``"cosine"``/``"linear"`` down to zero at the last step.
        ema_decay: the EMA's decay (its weights are an average over about ``1 / (1 - ema_decay)`` steps).
        ema_warmup: if True, the decay at update n is ``min(ema_decay, (1 + n) / (10 + n))``.
        label_dropout: share of labels replaced by "no class" (what classifier-free guidance needs).
        precision: ``"float32"``, or ``"bfloat16"`` autocast (fast only where the processor has bf16 units).
        channels_last: keep images and weights in channels-last memory order (faster convolutions on CPUs).
    """

    target: str = "epsilon"
    timesteps: str = "uniform"
    weighting: str = "none"
    min_snr_gamma: float = 5.0
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 200
    lr_decay: str = "constant"
    ema_decay: float = 0.999
    ema_warmup: bool = False
    label_dropout: float = 0.1
    precision: str = "float32"
    channels_last: bool = True

    def __post_init__(self):
        self.validate()  # a wrong recipe fails where it is written, before any training

    def validate(self) -> "Recipe":
        """Return the recipe, or raise a ``ValueError`` naming the first wrong field and a working value."""
        for name, choices in (("target", TARGETS), ("timesteps", TIMESTEPS), ("weighting", WEIGHTINGS),
                              ("lr_decay", LR_DECAYS), ("precision", PRECISIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"Recipe.{name}={getattr(self, name)!r}: choose one of {choices}, "
                                 f"e.g. Recipe({name}={choices[0]!r}).")
        check_count(self.batch_size, "Recipe.batch_size", 1)
        check_count(self.warmup_steps, "Recipe.warmup_steps", 0)
        for name, low, high, example in (("min_snr_gamma", 0, math.inf, "5.0"), ("lr", 0, math.inf, "1e-3"),
                                         ("ema_decay", 0, 1, "0.999")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
                raise ValueError(f"Recipe.{name}={value!r}: a number in ({low}, {high}), e.g. {example}.")
        if isinstance(self.label_dropout, bool) or not isinstance(self.label_dropout, (int, float)) \
                or not 0 <= self.label_dropout <= 1:
            raise ValueError(f"Recipe.label_dropout={self.label_dropout!r}: a probability in [0, 1], e.g. 0.1.")
        for name in ("ema_warmup", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Recipe.{name}={getattr(self, name)!r}: True or False.")
        return self


# Lesson 09's recipe, the fastest of the measured ones (``benchmarks/time_to_quality.py``, row
# ``flow_logit_normal``): rectified flow with SD3's logit-normal times, Adam at 2e-3 after 100 warm-up steps and
# a cosine decay to zero, an EMA whose decay rises with the step count. Everything else is Recipe's default.
LESSON_RECIPE = Recipe(target="flow", timesteps="logit_normal", lr=2e-3, warmup_steps=100, lr_decay="cosine",
                       ema_warmup=True)
LESSON_STEPS = 1000  # about three minutes of 2 CPU cores at batch 64 (the table's 1,000-step rows)


# ---------------------------------------------------------------------------------------------------------
# The noisy image, the target, and back: x_t = a * x0 + b * noise on both paths.


def signal_and_noise_scales(target: str, schedule: NoiseSchedule, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The scales ``a`` and ``b`` of ``x_t = a * x0 + b * noise``, each [B, 1, 1, 1].

    DDPM's path (targets ε, x0, v): ``t`` holds integer steps, ``a = sqrt(abar_t)``, ``b = sqrt(1 - abar_t)``
    (so a² + b² = 1). Rectified flow (``"flow"``): ``t`` holds times s in [0, 1], ``a = 1 - s``, ``b = s``.
    """
    if target == "flow":
        s = t.float()[:, None, None, None]
        return 1 - s, s
    alpha_bar = schedule.alpha_bars.to(t.device)[t][:, None, None, None]
    return alpha_bar.sqrt(), (1 - alpha_bar).sqrt()


def training_target(target: str, x0: torch.Tensor, noise: torch.Tensor, a: torch.Tensor,
                    b: torch.Tensor) -> torch.Tensor:
    """What the network is asked for, given the clean image and the noise that made ``x_t = a*x0 + b*noise``."""
    if target == "epsilon":
        return noise
    if target == "x0":
        return x0
    if target == "v":
        return a * noise - b * x0  # how fast x_t moves along its quarter circle, a² + b² = 1
    if target == "flow":
        return noise - x0  # how fast x_s moves along its straight line, d x_s / d s
    raise ValueError(f"target={target!r}: choose one of {TARGETS}.")


def to_x0_and_noise(target: str, x_t: torch.Tensor, prediction: torch.Tensor, a: torch.Tensor,
                    b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Invert :func:`training_target`: the clean image and the noise a prediction of ``target`` implies.

    Exact for a perfect prediction, at every noise level the target allows (x0 needs b > 0, ε needs a > 0).
    """
    if target == "epsilon":
        return (x_t - b * prediction) / a, prediction
    if target == "x0":
        return prediction, (x_t - a * prediction) / b
    if target == "v":
        return a * x_t - b * prediction, b * x_t + a * prediction
    if target == "flow":
        return x_t - b * prediction, x_t + a * prediction
    raise ValueError(f"target={target!r}: choose one of {TARGETS}.")


def implicit_x0_weight(target: str, snr: torch.Tensor) -> torch.Tensor:
    """How many times a plain squared error on ``target`` counts the x0 error it implies, at each SNR = a²/b².

    An error e in x0 is an error of e * sqrt(SNR) in ε, e * sqrt(SNR + 1) in v and e * (1 + sqrt(SNR)) in the
    flow's velocity: ε-prediction quietly weighs clean images by their SNR, x0-prediction weighs all alike.
    """
    return {"epsilon": snr, "x0": torch.ones_like(snr), "v": snr + 1,
            "flow": (1 + snr.sqrt()) ** 2}[target]


def loss_weight(recipe: Recipe, snr: torch.Tensor) -> torch.Tensor:
    """Each image's loss weight: 1, or min-SNR-γ's ``min(SNR, γ)`` over the target's implicit x0 weight."""
    if recipe.weighting == "none":
        return torch.ones_like(snr)
    return snr.clamp(max=recipe.min_snr_gamma) / implicit_x0_weight(recipe.target, snr)


def draw_times(recipe: Recipe, schedule: NoiseSchedule, batch: int, generator: torch.Generator) -> torch.Tensor:
    """[batch] noise levels to practise: integer steps for DDPM's path, times s in [0, 1] for the flow.

    Uniform, or logit-normal: u = sigmoid(n) with n ~ N(0, 1), most often near the middle (SD3's choice).
    """
    if recipe.timesteps == "uniform":
        u = torch.rand(batch, generator=generator)
    else:
        u = torch.sigmoid(torch.randn(batch, generator=generator))
    if recipe.target == "flow":
        return u
    return (u * schedule.num_steps).long().clamp(max=schedule.num_steps - 1)


def network_time(target: str, t: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """The timestep the network is told: the step itself, or for the flow s scaled to the same 0..T-1 range
    (so the time embedding of every target covers the same frequencies)."""
    return t * (schedule.num_steps - 1) if target == "flow" else t


def diffusion_loss(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule, recipe: Recipe,
                   generator: torch.Generator, y: torch.Tensor | None = None) -> torch.Tensor:
    """The recipe's loss on one batch: noise x0 at drawn levels, ask for the target, weighted squared error.

    x0: [B, C, H, W]; y: [B] labels or None -> a scalar. With ``Recipe()`` (ε, uniform, unweighted) this is
    lesson 07's :func:`unet_lessons.training.noise_prediction_loss`.
    """
    t = draw_times(recipe, schedule, x0.shape[0], generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    a, b = signal_and_noise_scales(recipe.target, schedule, t)
    x_t = a * x0 + b * noise  # [B, C, H, W]
    time = network_time(recipe.target, t, schedule)
    prediction = model(x_t, time) if y is None else model(x_t, time, y)
    per_image = (prediction.float() - training_target(recipe.target, x0, noise, a, b)).pow(2).mean(dim=(1, 2, 3))
    weight = loss_weight(recipe, (a / b).pow(2).flatten())
    return (weight * per_image).mean()


# ---------------------------------------------------------------------------------------------------------
# Sampling from a model of any target with lesson 08's samplers.


class NoisePredictor(nn.Module):
    """A trained U-Net of any target, seen as a noise predictor on DDPM's path: what lesson 08's samplers ask.

    ``forward(x_t, t, y)`` takes DDPM's noisy image at integer step t and returns the noise in it. A flow
    model is asked at the time s where its straight path has the same signal-to-noise ratio
    (``s = b / (a + b)``), with the image rescaled onto that path (``x_s = x_t / (a + b)``). Guidance mixes
    noise predictions; every conversion is affine in the prediction, so guiding the target is the same.

    Args:
        model: the trained U-Net; its ``prediction_target`` (set by :class:`Trainer` and :func:`load_trained`)
            must be ``target`` if both are known.
        schedule: the DDPM schedule the samplers walk.
        target: what the model predicts (default: the model's ``prediction_target``).
    """

    prediction_target = "epsilon"  # what the samplers see

    def __init__(self, model: nn.Module, schedule: NoiseSchedule, target: str | None = None):
        super().__init__()
        known = getattr(model, "prediction_target", None)
        target = target if target is not None else known if known is not None else "epsilon"
        if target not in TARGETS:
            raise ValueError(f"target={target!r}: choose one of {TARGETS}.")
        if known is not None and known != target:
            raise ValueError(f"target={target!r}, but this model was trained to predict {known!r}; leave target "
                             f"out (NoisePredictor(model, schedule)) or pass target={known!r}.")
        self.model, self.schedule, self.target = model, schedule, target

    @property
    def config(self):
        return self.model.config

    @property
    def null_class(self):
        return self.model.null_class

    def check_labels(self, y, batch: int, device: torch.device | str = "cpu"):
        return self.model.check_labels(y, batch, device)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x_t: [B, C, H, W] on DDPM's path, t: [B] integer steps -> the predicted noise [B, C, H, W]."""
        t = self.schedule.check_steps(t, x_t.shape[0])
        a, b = signal_and_noise_scales("epsilon", self.schedule, t)
        if self.target == "flow":
            s = b / (a + b)  # [B, 1, 1, 1]: the flow's time with the same SNR, ((1 - s) / s)² = a² / b²
            x_t, time = x_t / (a + b), network_time("flow", s.flatten(), self.schedule)
            a, b = 1 - s, s
        else:
            time = t
        # the samplers work on the CPU; the model may be on a GPU (one without weights stays with the input)
        device = next(self.model.parameters(), x_t).device
        inputs = (x_t.to(device), time.to(device)) + (() if y is None else (y.to(device),))
        prediction = self.model(*inputs).float().to(x_t.device)
        return to_x0_and_noise(self.target, x_t, prediction, a, b)[1]


# ---------------------------------------------------------------------------------------------------------
# The learning rate, the EMA, and a trainer that stops and goes on.


def learning_rate_factor(step: int, recipe: Recipe, total_steps: int) -> float:
    """The share of ``recipe.lr`` used at ``step`` (0-based) of a ``total_steps`` run: a linear warm-up from
    lr / warmup_steps, then constant or a cosine or linear decay that reaches zero after the last step."""
    if step < recipe.warmup_steps:
        return (step + 1) / recipe.warmup_steps
    if recipe.lr_decay == "constant":
        return 1.0
    progress = (step - recipe.warmup_steps + 1) / max(1, total_steps - recipe.warmup_steps)
    progress = min(1.0, progress)
    return 0.5 * (1 + math.cos(math.pi * progress)) if recipe.lr_decay == "cosine" else 1 - progress


def ema_decay_at(n: int, recipe: Recipe) -> float:
    """The EMA decay of an update after ``n`` earlier ones (the first copies the weights): fixed, or with
    warm-up ``min(decay, (1 + n) / (10 + n))``: 0.18 at the second update, 0.9 at the 81st, 0.99 at the 891st."""
    return min(recipe.ema_decay, (1 + n) / (10 + n)) if recipe.ema_warmup else recipe.ema_decay


def ema_of(model: nn.Module, recipe: Recipe) -> torch.optim.swa_utils.AveragedModel:
    """An EMA of ``model``'s weights with the recipe's decay (and warm-up): PyTorch's ``AveragedModel``."""

    def update(averages: list[torch.Tensor], weights: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        decay = ema_decay_at(int(num_averaged), recipe)
        torch._foreach_lerp_(averages, weights, 1 - decay)  # average += (1 - decay) * (weight - average)

    return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=update, use_buffers=True)


DEVICES = ("cpu", "cuda", "mps")


def check_device(device: str) -> torch.device:
    """``device`` as a torch.device, or a ``ValueError`` if it is not one of ``DEVICES`` or not present here."""
    name = str(device).split(":")[0]
    if name not in DEVICES:
        raise ValueError(f"device={device!r}: choose one of {DEVICES}, e.g. device='cpu'.")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: no CUDA GPU is visible to PyTorch here; use device='cpu'.")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r}: Apple's MPS is not available here; use device='cpu'.")
    return torch.device(device)


class Trainer:
    """Trains ``model`` with ``recipe`` for ``total_steps`` steps, in as many calls of :meth:`run` as you like.

    The batches, noise levels, noise and dropped labels come from one generator seeded with ``seed``;
    :meth:`run` can stop anywhere and the next call goes on exactly where it stopped (the learning-rate
    schedule knows ``total_steps``). :meth:`state` and :meth:`load_state` carry a run across processes.

    Args:
        model: a :class:`unet_lessons.unet.UNet` (trained in place; class-conditional if ``labels`` given).
        images: [N, C, H, W] training images in [-1, 1] at the model's image size.
        labels: [N] class labels, or None for an unconditional model.
        schedule: DDPM's schedule (the flow target uses only its length, for the time embedding's range).
        recipe: the :class:`Recipe`.
        total_steps: the run's length (where a decaying learning rate reaches zero).
        seed: seeds everything random in the run (the initial weights are the model's own).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"mps"``.
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor | None,
                 schedule: NoiseSchedule, recipe: Recipe, total_steps: int, seed: int = 0, device: str = "cpu"):
        recipe.validate()
        check_count(total_steps, "total_steps", 1)
        check_count(seed, "seed", 0)
        self.device = check_device(device)
        check_images(images, "images")
        size = model.config.image_size
        if list(images.shape[1:]) != [model.config.in_channels, size, size]:
            raise ValueError(f"images must be [N, {model.config.in_channels}, {size}, {size}] for this model; got "
                             f"{list(images.shape)} (to_model_images(pixels, size={size}) pads Fashion-MNIST).")
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
                got = list(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
                raise ValueError(f"labels must hold one class label per image, shape [{len(images)}]; got {got}.")
            model.check_labels(labels, len(images))
        check_image_range(images, "images")  # last: it reads every value, the checks above only arguments
        memory_format = torch.channels_last if recipe.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=memory_format)
        self.model.prediction_target = recipe.target  # samplers refuse it raw; NoisePredictor reads it
        self.images = images.to(self.device).contiguous(memory_format=memory_format)
        self.labels = None if labels is None else labels.to(self.device)
        self.schedule, self.recipe, self.total_steps = schedule, recipe, total_steps
        self.generator = torch.Generator().manual_seed(seed)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=recipe.lr)
        self.lr_schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: learning_rate_factor(step, recipe, total_steps))
        self.ema = ema_of(self.model, recipe)
        self.losses: list[float] = []

    @property
    def done(self) -> int:
        """Steps trained so far."""
        return len(self.losses)

    def run(self, steps: int, on_step: Callable[[int, float], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> list[float]:
        """Train up to ``steps`` more steps (never past ``total_steps``); returns their losses.

        ``on_step(step, loss)`` is called after each (``step`` counts from the run's start); ``should_stop()``
        is asked before each, and True ends the call early (a Stop button).
        """
        check_count(steps, "steps", 0)
        self.model.train()
        losses = []
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.recipe.precision == "bfloat16")
        for _ in range(min(steps, self.total_steps - self.done)):
            if should_stop is not None and should_stop():
                break
            chosen = torch.randint(0, len(self.images), (self.recipe.batch_size,), generator=self.generator)
            y = None
            if self.labels is not None:
                y = drop_labels(self.labels[chosen.to(self.device)].cpu(), self.model.null_class,
                                self.recipe.label_dropout, self.generator).to(self.device)
            with autocast:
                loss = diffusion_loss(self.model, self.images[chosen.to(self.device)], self.schedule, self.recipe,
                                      self.generator, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.lr_schedule.step()
            self.ema.update_parameters(self.model)
            losses.append(loss.item())
            self.losses.append(losses[-1])
            if on_step is not None:
                on_step(self.done - 1, losses[-1])
        return losses

    def sampler_model(self, averaged: bool = True) -> NoisePredictor:
        """The EMA weights (or the last step's) as a noise predictor for lesson 08's samplers, in eval mode."""
        model = self.ema.module if averaged else self.model
        model.prediction_target = self.recipe.target
        return NoisePredictor(model, self.schedule).eval()

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """Tensors and text that :meth:`load_state` needs to go on in another process (for safetensors)."""
        optimizer = self.optimizer.state_dict()
        tensors = {**{f"model.{k}": v for k, v in self.model.state_dict().items()},
                   **{f"ema.{k}": v for k, v in self.ema.state_dict().items()},
                   **{f"optimizer.{i}.{k}": v for i, entries in optimizer["state"].items() for k, v in entries.items()},
                   "generator": self.generator.get_state(), "losses": torch.tensor(self.losses, dtype=torch.float64)}
        return tensors, {"recipe": json.dumps(dataclasses.asdict(self.recipe)), "total_steps": str(self.total_steps),
                         "param_groups": json.dumps(optimizer["param_groups"])}

    def load_state(self, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
        """Go on from :meth:`state` (of a trainer with the same recipe and length)."""
        if json.loads(metadata["recipe"]) != dataclasses.asdict(self.recipe) \
                or int(metadata["total_steps"]) != self.total_steps:
            raise ValueError("state: it was saved by a run with another recipe or length; start a new Trainer "
                             "with the saved one's Recipe and total_steps.")
        self.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        self.ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
        state: dict[int, dict[str, torch.Tensor]] = {}
        for name, value in tensors.items():
            if name.startswith("optimizer."):
                _, index, key = name.split(".", 2)
                state.setdefault(int(index), {})[key] = value
        self.optimizer.load_state_dict({"state": state, "param_groups": json.loads(metadata["param_groups"])})
        self.generator.set_state(tensors["generator"])
        self.losses = tensors["losses"].tolist()
        self.lr_schedule.last_epoch = self.done  # LambdaLR's step counter
        for group, base in zip(self.optimizer.param_groups, self.lr_schedule.base_lrs):
            group["lr"] = base * learning_rate_factor(self.done, self.recipe, self.total_steps)


# ---------------------------------------------------------------------------------------------------------
# The learner's data, and their own model on disk.

OWN_MODEL = "my_model.safetensors"
_SCHEDULE_TENSORS = ("betas", "alphas", "alpha_bars")


def lesson_training_data(full: bool = False,
                         root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Lesson 09's training images: the subset of Fashion-MNIST's training split that the course ships (the
    same on every machine, offline), or with ``full=True`` the whole split where it is installed (see
    :func:`unet_lessons.data.load_fashion_mnist`; ``root`` is its folder).

    The subset is the default because it trains as well (``benchmarks/training_subset.py``) in a fraction of the
    memory: the full split's 60,000 images took lesson 09's kernel to a peak of 1.67 GB, over the 1 GB a
    Binder kernel can count on.

    Returns:
        [N, 28, 28] uint8 pixels, [N] labels, and a sentence that says which set it is.
    """
    if full:
        pixels, labels = load_fashion_mnist("train", root)
        return pixels, labels, f"Fashion-MNIST's training split, all {len(pixels):,} images"
    pixels, labels = load_training_subset()
    return pixels, labels, (f"the course's subset of Fashion-MNIST's training split: {len(pixels):,} images, "
                            f"the first {len(pixels) // 10:,} of each class")


def save_own_model(trainer: "Trainer", folder: str | Path) -> Path:
    """Save the trainer's EMA weights, what they predict and their noise schedule as ``folder/my_model.safetensors``
    (listed with its SHA-256 in ``folder/SHA256SUMS``; nothing pickled). :func:`load_own_model` reads it back."""
    if not isinstance(trainer, Trainer):
        raise ValueError(f"trainer: the Trainer that trained the model; got {type(trainer).__name__}.")
    if not isinstance(folder, (str, Path)) or not str(folder):
        raise ValueError(f"folder={folder!r}: a folder name or path, e.g. 'my_model'.")
    model = trainer.ema.module
    tensors = {f"model.{k}": v.detach().cpu() for k, v in model.state_dict().items()}
    tensors |= {f"schedule.{name}": getattr(trainer.schedule, name) for name in _SCHEDULE_TENSORS}
    return write_checked(tensors, OWN_MODEL, {
        "config": json.dumps(dataclasses.asdict(model.config)), "target": trainer.recipe.target,
        "recipe": json.dumps(dataclasses.asdict(trainer.recipe)), "steps": str(trainer.done),
        "total_steps": str(trainer.total_steps), "weights": "EMA of the training weights",
        "torch": torch.__version__}, folder=Path(folder))


def load_own_model(folder: str | Path) -> tuple[NoisePredictor, NoiseSchedule, dict[str, str]]:
    """A model saved by :func:`save_own_model`, checked (SHA-256, header, every tensor's name and shape), as a
    noise predictor for lesson 08's samplers and explorers, its schedule, and its header."""
    remedy = "train and save it again with lesson 09 (save_own_model(trainer, folder))"
    tensors, metadata = read_checked(OWN_MODEL, Path(folder), remedy)
    config = config_from_header(metadata, Path(folder) / OWN_MODEL, remedy)
    try:
        target = metadata["target"]
        schedule = NoiseSchedule(*(tensors.pop(f"schedule.{name}") for name in _SCHEDULE_TENSORS))
    except (KeyError, TypeError) as error:
        raise ValueError(f"{Path(folder) / OWN_MODEL}: its header has no valid 'target' and schedule "
                         f"({error!r}); {remedy}.") from None
    lengths = {tuple(getattr(schedule, name).shape) for name in _SCHEDULE_TENSORS}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1 or next(iter(lengths))[0] < 2:
        raise ValueError(f"{Path(folder) / OWN_MODEL}: its schedule tensors must be 1-d, of one length >= 2; got "
                         f"{sorted(lengths)}; {remedy}.")
    if target not in TARGETS:
        raise ValueError(f"{Path(folder) / OWN_MODEL}: target={target!r} is not one of {TARGETS}; {remedy}.")
    model = UNet(config)
    load_into(model, {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")},
              str(Path(folder) / OWN_MODEL), remedy)
    model.prediction_target = target
    return NoisePredictor(model.eval(), schedule).eval(), schedule, metadata
