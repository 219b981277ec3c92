"""Samplers, guidance, label dropout and EMA: checked against an oracle and against the formulas they implement."""

import pytest
import torch
from torch import nn

from unet_lessons.sampling import ancestral_sample, ddim_sample, ddim_step, guided_noise, sampling_steps
from unet_lessons.training import NoiseSchedule, drop_labels, ema_model, q_sample, shapes_dataset, train
from unet_lessons.unet import UNet

SCHEDULE = NoiseSchedule.linear()


class Oracle(nn.Module):
    """Knows the clean images: returns exactly the noise that turns ``x0`` into the x_t it is given."""

    def __init__(self, x0: torch.Tensor):
        super().__init__()
        self.x0 = x0

    def forward(self, x_t, t):
        alpha_bar = SCHEDULE.alpha_bars[t][:, None, None, None]
        return (x_t - alpha_bar.sqrt() * self.x0) / (1 - alpha_bar).sqrt()


@pytest.fixture
def x0():
    return shapes_dataset(3, 16, seed=1)  # in [-1, 1]: clipping x0 changes nothing for the oracle


@pytest.fixture
def conditional(tiny_config):
    torch.manual_seed(0)
    return UNet(tiny_config, num_classes=3).eval()  # PyTorch's default init: every output non-zero


def test_one_deterministic_ddim_step_lands_on_the_forward_process(x0):
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    t, t_prev = 700, 450
    x_t = q_sample(x0, torch.full((3,), t), noise, SCHEDULE)
    x_prev, predicted_x0 = ddim_step(x_t, t, t_prev, Oracle(x0)(x_t, torch.full((3,), t)), SCHEDULE)
    assert torch.allclose(predicted_x0, x0, atol=1e-5)
    assert torch.allclose(x_prev, q_sample(x0, torch.full((3,), t_prev), noise, SCHEDULE), atol=1e-5)


@pytest.mark.parametrize("sampler, num_steps", [(ddim_sample, 1), (ddim_sample, 10), (ddim_sample, 50),
                                                (ancestral_sample, 10)])
def test_with_the_true_noise_every_sampler_returns_the_clean_images(x0, sampler, num_steps):
    samples = sampler(Oracle(x0), SCHEDULE, tuple(x0.shape), num_steps=num_steps, seed=3)
    assert (samples - x0).abs().max() < 1e-4


def test_ddim_with_eta_1_has_the_ancestral_posterior(x0):
    """eta = 1: DDIM's mean and noise are those of q(x_{t-1} | x_t, x0) (DDPM eq. 7), for a respaced step."""
    t, t_prev = 600, 500
    x_t = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    eps = Oracle(x0)(x_t, torch.full((3,), t))
    mean, _ = ddim_step(x_t, t, t_prev, eps, SCHEDULE, eta=1.0, fresh_noise=torch.zeros_like(x0))
    plus_one, _ = ddim_step(x_t, t, t_prev, eps, SCHEDULE, eta=1.0, fresh_noise=torch.ones_like(x0))
    alpha_bar, alpha_bar_prev = SCHEDULE.alpha_bars[t], SCHEDULE.alpha_bars[t_prev]
    beta = 1 - alpha_bar / alpha_bar_prev
    posterior_mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)) * x0 \
        + ((1 - beta).sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)) * x_t
    posterior_std = (beta * (1 - alpha_bar_prev) / (1 - alpha_bar)).sqrt()
    assert torch.allclose(mean, posterior_mean, atol=1e-5)
    assert torch.allclose(plus_one - mean, torch.full_like(x0, posterior_std.item()), atol=1e-5)


def test_deterministic_ddim_repeats_and_eta_adds_noise(conditional):
    y = torch.tensor([0, 2])
    run = lambda **kw: ddim_sample(conditional, SCHEDULE, (2, 3, 16, 16), num_steps=5, y=y, **kw)
    assert torch.equal(run(seed=0), run(seed=0))
    assert not torch.equal(run(seed=0), run(seed=1))
    assert (run(seed=0, eta=1.0) - run(seed=0)).abs().max() > 1e-3


def test_guidance_scale_0_and_1_are_the_plain_predictions(conditional):
    x, t, y = torch.randn(2, 3, 16, 16), torch.tensor([100, 900]), torch.tensor([1, 2])
    with torch.no_grad():
        assert torch.equal(guided_noise(conditional, x, t, y, 1.0), conditional(x, t, y))
        assert torch.equal(guided_noise(conditional, x, t, y, 0.0), conditional(x, t))
        w = 3.0
        cond, uncond = conditional(x, t, y), conditional(x, t)
        assert torch.allclose(guided_noise(conditional, x, t, y, w), uncond + w * (cond - uncond), atol=1e-5)
        assert (guided_noise(conditional, x, t, y, w) - cond).abs().max() > 1e-3  # guidance changed something


def test_guidance_runs_one_batched_forward(conditional):
    batches = []
    handle = conditional.register_forward_pre_hook(lambda module, args: batches.append(args[0].shape[0]))
    try:
        ddim_sample(conditional, SCHEDULE, (2, 3, 16, 16), num_steps=4, y=torch.tensor([0, 1]), guidance_scale=2.0)
    finally:
        handle.remove()
    assert batches == [4] * 4  # one forward of 2B per step


def test_on_step_sees_every_step_in_order(conditional):
    seen = []
    ddim_sample(conditional, SCHEDULE, (2, 3, 16, 16), num_steps=5, y=torch.tensor([0, 1]),
                on_step=lambda i, t, x_t, x0: seen.append((i, t, tuple(x_t.shape), tuple(x0.shape))))
    assert [(i, t) for i, t, _, _ in seen] == list(enumerate(sampling_steps(SCHEDULE, 5)))
    assert sampling_steps(SCHEDULE, 5) == [999, 749, 500, 250, 0]
    assert all(x_t == x0 == (2, 3, 16, 16) for _, _, x_t, x0 in seen)


def test_ancestral_sampler_shape_range_and_steps(conditional):
    samples = ancestral_sample(conditional, SCHEDULE, (2, 3, 16, 16), num_steps=10, y=torch.tensor([0, 1]),
                               guidance_scale=2.0)
    assert samples.shape == (2, 3, 16, 16)
    assert torch.isfinite(samples).all() and samples.abs().max() <= 1


BAD_SAMPLING = [
    (dict(num_steps=0), ["num_steps=0", "1 and the schedule's 1000"]),
    (dict(num_steps=1001), ["num_steps=1001"]),
    (dict(num_steps=2.5), ["num_steps=2.5", "int"]),
    (dict(eta=1.5), ["eta=1.5"]),
    (dict(guidance_scale=3.0), ["guidance_scale=3.0", "needs class labels y"]),
    (dict(y=torch.tensor([0, 1]), guidance_scale=-1.0), ["guidance_scale=-1.0", ">= 0"]),
    (dict(y=torch.tensor([0, 1, 2])), ["one label per image", "[2]", "[3]"]),
    (dict(y=torch.tensor([0, 7])), ["outside 0..3"]),
    (dict(y=torch.tensor([0.0, 1.0])), ["integer class labels"]),
    (dict(shape=(2, 3, 16)), ["shape=(2, 3, 16)", "[batch, channels, height, width]"]),
]


@pytest.mark.parametrize("sampler", [ddim_sample, ancestral_sample])
@pytest.mark.parametrize("options, words", BAD_SAMPLING, ids=[str(o) for o, _ in BAD_SAMPLING])
def test_bad_sampling_arguments_are_named(conditional, sampler, options, words):
    if sampler is ancestral_sample and "eta" in options:
        pytest.skip("the ancestral sampler has no eta")
    options = dict(options)
    shape = options.pop("shape", (2, 3, 16, 16))
    with pytest.raises(ValueError) as error:
        sampler(conditional, SCHEDULE, shape, **options)
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"


def test_labels_for_an_unconditional_model_are_refused(tiny_config):
    with pytest.raises(ValueError, match="y: this model is unconditional"):
        ddim_sample(UNet(tiny_config), SCHEDULE, (2, 3, 16, 16), y=torch.tensor([0, 1]))


def test_label_dropout_rate_is_the_probability():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % 10
    dropped = sum(int((drop_labels(labels, 10, 0.1, generator) == 10).sum()) for _ in range(200))
    assert abs(dropped / (200 * 64) - 0.1) < 0.01  # 12,800 draws: 3.7 standard deviations
    assert torch.equal(drop_labels(labels, 10, 0.0), labels)
    assert torch.equal(drop_labels(labels, 10, 1.0), torch.full_like(labels, 10))
    with pytest.raises(ValueError, match="label_dropout=1.5"):
        drop_labels(labels, 10, 1.5)


def test_ema_follows_the_closed_form():
    layer = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(0.0)
    ema = ema_model(layer, decay=0.9)
    ema.update_parameters(layer)  # the first update copies
    with torch.no_grad():
        layer.weight.fill_(1.0)
    for _ in range(5):
        ema.update_parameters(layer)
    assert ema.module.weight.item() == pytest.approx(1 - 0.9**5)
    with pytest.raises(ValueError, match="decay=1"):
        ema_model(layer, decay=1)


def test_conditional_training_uses_labels_and_updates_the_ema(tiny_config):
    torch.manual_seed(0)
    model = UNet(tiny_config, num_classes=3)
    images, labels = shapes_dataset(8, 16), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    ema = ema_model(model)
    seen = []
    handle = model.class_embed.register_forward_hook(lambda module, args, out: seen.append(args[0].clone()))
    try:
        history = train(model, images, SCHEDULE, steps=3, batch_size=4, labels=labels, label_dropout=0.5, ema=ema)
    finally:
        handle.remove()
    assert len(history) == 3 and all(torch.isfinite(torch.tensor(history)))
    seen = torch.cat(seen)
    assert set(seen.tolist()) <= {0, 1, 2, 3} and 3 in seen and (seen < 3).any()  # labels and some dropped
    assert ema.n_averaged.item() == 3
    assert not torch.equal(ema.module.class_embed.weight, model.class_embed.weight)  # an average, not a copy


@pytest.mark.parametrize("options, words", [
    (dict(labels=torch.tensor([0, 1])), ["labels must hold one class label per image", "[8]", "[2]"]),
    (dict(labels=torch.zeros(8)), ["integer class labels"]),
    (dict(labels=torch.zeros(8, dtype=torch.long), label_dropout=2.0), ["label_dropout=2.0"]),
])
def test_bad_training_labels_are_named_before_any_step(tiny_config, options, words):
    model = UNet(tiny_config, num_classes=3)
    before = {name: p.clone() for name, p in model.state_dict().items()}
    with pytest.raises(ValueError) as error:
        train(model, shapes_dataset(8, 16), SCHEDULE, steps=2, batch_size=4, **options)
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"
    assert all(torch.equal(before[name], p) for name, p in model.state_dict().items())
