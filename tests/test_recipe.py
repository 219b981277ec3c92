"""The training recipe's pieces: targets and their exact conversions, weights, schedules, EMA, the trainer."""

import dataclasses

import pytest
import torch
from torch import nn

from unet_lessons.recipe import (TARGETS, NoisePredictor, Recipe, Trainer, check_device, diffusion_loss,
                                 draw_times, ema_decay_at, ema_of, implicit_x0_weight, learning_rate_factor,
                                 loss_weight, network_time, signal_and_noise_scales, to_x0_and_noise,
                                 training_target)
from unet_lessons.configs import UNetConfig
from unet_lessons.sampling import ancestral_sample, ddim_sample
from unet_lessons.training import NoiseSchedule, shapes_dataset
from unet_lessons.unet import UNet

SCHEDULE = NoiseSchedule.linear()
CONFIG = UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                    attention_resolutions=(8,), groups=8, num_classes=3)


def levels(target: str, batch: int = 6) -> torch.Tensor:
    if target == "flow":
        return torch.tensor([0.01, 0.1, 0.3, 0.5, 0.9, 0.99])[:batch]
    return torch.tensor([0, 10, 250, 500, 900, 999])[:batch]


@pytest.mark.parametrize("target", TARGETS)
def test_a_target_converts_back_exactly(target):
    x0, noise = torch.randn(6, 1, 8, 8), torch.randn(6, 1, 8, 8)
    a, b = signal_and_noise_scales(target, SCHEDULE, levels(target))
    x_t = a * x0 + b * noise
    x0_back, noise_back = to_x0_and_noise(target, x_t, training_target(target, x0, noise, a, b), a, b)
    assert torch.allclose(x0_back, x0, atol=1e-3) and torch.allclose(noise_back, noise, atol=1e-3)


@pytest.mark.parametrize("target", TARGETS)
def test_implicit_weight_is_the_ratio_of_squared_errors(target):
    # Move the prediction by d: the implied x0 moves by e; the plain loss counts |d|² = weight * |e|².
    x0, noise = torch.randn(6, 1, 8, 8, dtype=torch.float64), torch.randn(6, 1, 8, 8, dtype=torch.float64)
    a, b = (scale.double() for scale in signal_and_noise_scales(target, SCHEDULE, levels(target)))
    x_t = a * x0 + b * noise
    prediction = training_target(target, x0, noise, a, b)
    step = 1e-3 * torch.randn_like(prediction)
    moved = to_x0_and_noise(target, x_t, prediction + step, a, b)[0] - x0
    ratio = step.pow(2).sum((1, 2, 3)) / moved.pow(2).sum((1, 2, 3))
    assert torch.allclose(ratio, implicit_x0_weight(target, (a / b).pow(2).flatten()), rtol=1e-3)  # a, b are float32: a² + b² = 1 to ~1e-7


def test_min_snr_weights_are_hang_et_al():
    snr = torch.tensor([0.1, 1.0, 5.0, 50.0])
    epsilon = loss_weight(Recipe(weighting="min_snr"), snr)
    assert torch.allclose(epsilon, torch.tensor([1.0, 1.0, 1.0, 0.1]))  # min(SNR, 5) / SNR
    v = loss_weight(Recipe(target="v", weighting="min_snr"), snr)
    assert torch.allclose(v, torch.tensor([0.1 / 1.1, 0.5, 5 / 6, 5 / 51]))  # min(SNR, 5) / (SNR + 1)
    assert torch.equal(loss_weight(Recipe(), snr), torch.ones(4))


def test_times_are_in_range_and_logit_normal_prefers_the_middle():
    generator = torch.Generator().manual_seed(0)
    steps = draw_times(Recipe(), SCHEDULE, 4000, generator)
    assert steps.dtype == torch.long and steps.min() >= 0 and steps.max() <= 999
    middle = draw_times(Recipe(timesteps="logit_normal"), SCHEDULE, 4000, generator)
    share = lambda t: ((t >= 250) & (t < 750)).float().mean().item()
    assert share(steps) == pytest.approx(0.5, abs=0.03) and share(middle) > 0.65
    flow = draw_times(Recipe(target="flow"), SCHEDULE, 4000, generator)
    assert flow.is_floating_point() and 0 <= flow.min() and flow.max() < 1
    assert network_time("flow", torch.tensor([1.0]), SCHEDULE).item() == 999


def test_zero_predictions_score_the_targets_variance():
    zero = lambda x, t, y=None: torch.zeros_like(x)
    x0 = shapes_dataset(512, 16)
    generator = torch.Generator().manual_seed(0)
    assert diffusion_loss(zero, x0, SCHEDULE, Recipe(), generator).item() == pytest.approx(1.0, abs=0.03)
    assert diffusion_loss(zero, x0, SCHEDULE, Recipe(target="x0"), generator).item() == pytest.approx(
        x0.pow(2).mean().item(), rel=0.01)


class Oracle(nn.Module):
    """Predicts ``target`` exactly for noisy versions of one known image."""

    prediction_target = None

    def __init__(self, x0: torch.Tensor, target: str):
        super().__init__()
        self.x0, self.target = x0, target

    def forward(self, x_t, time, y=None):
        t = time / (SCHEDULE.num_steps - 1) if self.target == "flow" else time.long()
        a, b = signal_and_noise_scales(self.target, SCHEDULE, t)
        noise = (x_t - a * self.x0) / b
        return training_target(self.target, self.x0, noise, a, b)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("sampler", ["ddim", "ancestral"])
def test_every_sampler_recovers_the_image_from_a_perfect_predictor_of_every_target(target, sampler):
    x0 = shapes_dataset(2, 8)
    model = NoisePredictor(Oracle(x0, target), SCHEDULE, target)
    if sampler == "ddim":
        drawn = ddim_sample(model, SCHEDULE, tuple(x0.shape), num_steps=10)
    else:
        drawn = ancestral_sample(model, SCHEDULE, tuple(x0.shape), num_steps=20)
    assert (drawn - x0).abs().max() < 1e-3


def test_samplers_refuse_a_model_of_another_target_and_the_wrapper_checks_it():
    model = UNet(CONFIG)
    model.prediction_target = "v"
    with pytest.raises(ValueError, match="'v'.*NoisePredictor"):
        ddim_sample(model, SCHEDULE, (1, 3, 16, 16), num_steps=2, y=torch.tensor([0]))
    with pytest.raises(ValueError, match="trained to predict 'v'"):
        NoisePredictor(model, SCHEDULE, "flow")
    wrapped = NoisePredictor(model, SCHEDULE)
    assert wrapped.target == "v" and wrapped.null_class == 3
    assert ddim_sample(wrapped, SCHEDULE, (2, 3, 16, 16), num_steps=2, y=torch.tensor([0, 3]),
                       guidance_scale=2.0).shape == (2, 3, 16, 16)


def test_learning_rate_warms_up_then_decays_to_zero():
    cosine = Recipe(warmup_steps=10, lr_decay="cosine")
    factors = [learning_rate_factor(step, cosine, 110) for step in range(110)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == 1.0
    assert factors[59] == pytest.approx(0.5, abs=0.02) and factors[-1] == pytest.approx(0.0, abs=1e-9)
    assert all(later <= earlier for earlier, later in zip(factors[9:], factors[10:]))
    linear = Recipe(warmup_steps=10, lr_decay="linear")
    assert learning_rate_factor(59, linear, 110) == pytest.approx(0.5)
    assert learning_rate_factor(500, Recipe(), 1000) == 1.0


def test_ema_warmup_and_its_average():
    assert ema_decay_at(2, Recipe()) == 0.999
    warm = Recipe(ema_warmup=True, ema_decay=0.99)
    assert ema_decay_at(2, warm) == pytest.approx(3 / 12) and ema_decay_at(10_000, warm) == 0.99
    layer = nn.Linear(1, 1, bias=False)
    ema = ema_of(layer, warm)
    for value in (1.0, 2.0, 4.0):
        layer.weight.data.fill_(value)
        ema.update_parameters(layer)
    # the first update copies 1.0; the next two decay by 2/11 and 3/12: 1 -> 1 + (2 - 1) * 9/11 -> ... * 9/12
    second = 1 + 9 / 11
    assert ema.module.weight.item() == pytest.approx(second + (4 - second) * 9 / 12)


def trainer(recipe: Recipe = Recipe(target="v", lr=3e-3, warmup_steps=2, lr_decay="cosine", ema_warmup=True),
            total: int = 6) -> Trainer:
    torch.manual_seed(0)
    images, labels = shapes_dataset(32, 16, return_labels=True)
    return Trainer(UNet(CONFIG), images, labels, NoiseSchedule.linear(num_steps=100), recipe, total)


def test_a_run_in_chunks_or_across_processes_is_one_run():
    whole = trainer()
    whole.run(6)
    chunks = trainer()
    chunks.run(2)
    chunks.run(10)  # never past total_steps
    resumed = trainer()
    resumed.run(3)
    tensors, metadata = resumed.state()
    fresh = trainer()
    fresh.load_state(tensors, metadata)
    fresh.run(3)
    for other in (chunks, fresh):
        assert other.losses == whole.losses
        for name, value in whole.ema.module.state_dict().items():
            assert torch.equal(value, other.ema.module.state_dict()[name]), name
    assert fresh.optimizer.param_groups[0]["lr"] == whole.optimizer.param_groups[0]["lr"] == 0.0
    other_recipe = trainer(dataclasses.replace(trainer().recipe, lr=1e-3))
    with pytest.raises(ValueError, match="another recipe"):
        other_recipe.load_state(tensors, metadata)


def test_stop_ends_a_run_early_and_the_loss_falls():
    run = trainer(total=60)
    asked = []
    run.run(60, on_step=lambda step, loss: asked.append(step), should_stop=lambda: len(asked) == 5)
    assert run.done == 5 and asked == [0, 1, 2, 3, 4]
    run.run(55)
    assert sum(run.losses[-10:]) < 0.7 * sum(run.losses[:10])
    assert run.sampler_model().target == "v" and not run.sampler_model().training


@pytest.mark.parametrize("field, value, words", [
    ("target", "eps", ["Recipe.target='eps'", "epsilon"]),
    ("timesteps", "normal", ["Recipe.timesteps", "logit_normal"]),
    ("weighting", "snr", ["Recipe.weighting", "min_snr"]),
    ("lr_decay", "exp", ["Recipe.lr_decay", "cosine"]),
    ("precision", "fp16", ["Recipe.precision", "bfloat16"]),
    ("batch_size", 0, ["Recipe.batch_size=0"]),
    ("lr", -1.0, ["Recipe.lr=-1.0", "1e-3"]),
    ("ema_decay", 1.0, ["Recipe.ema_decay=1.0", "0.999"]),
    ("min_snr_gamma", 0, ["Recipe.min_snr_gamma=0"]),
    ("label_dropout", 1.5, ["Recipe.label_dropout=1.5"]),
    ("ema_warmup", "yes", ["Recipe.ema_warmup"]),
])
def test_a_wrong_recipe_is_named_when_it_is_made(field, value, words):
    with pytest.raises(ValueError) as raised:
        Recipe(**{field: value})
    assert all(word in str(raised.value) for word in words), str(raised.value)


def test_the_trainer_checks_its_arguments_before_touching_the_model():
    images, labels = shapes_dataset(8, 16, return_labels=True)
    model = UNet(CONFIG)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cases = [(dict(device="tpu"), "device='tpu'"), (dict(total_steps=0), "total_steps=0"),
             (dict(images=images[:, :, :8, :8]), "images must be [N, 3, 16, 16]"),
             (dict(labels=labels[:3]), "labels must hold one class label per image"),
             (dict(labels=labels + 5), "labels outside"),
             (dict(images=(images + 1) * 127.5), "images must lie in [-1, 1]")]
    for change, words in cases:
        arguments = dict(model=model, images=images, labels=labels, schedule=SCHEDULE, recipe=Recipe(),
                         total_steps=5) | change
        with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("(", r"\(")):
            Trainer(**arguments)
    assert not hasattr(model, "prediction_target")
    assert all(torch.equal(value, model.state_dict()[name]) for name, value in before.items())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_missing_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        check_device("cuda")
    assert check_device("cpu").type == "cpu"
