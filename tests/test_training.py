"""Lesson 07's training pieces: the forward process, the loss, one step, overfitting."""

import pytest
import torch

from unet_lessons.init import initialize_weights
from unet_lessons.training import (
    BREAKS,
    NoiseSchedule,
    break_assembly,
    ema_model,
    evaluate_loss,
    noise_prediction_loss,
    predict_x0,
    q_sample,
    shapes_dataset,
    train,
    train_and_evaluate,
)
from unet_lessons.unet import UNet

SCHEDULE = NoiseSchedule.linear()


@pytest.fixture
def model(tiny_config):
    return initialize_weights(UNet(tiny_config))


def test_linear_schedule_matches_ddpm():
    assert SCHEDULE.num_steps == 1000
    assert SCHEDULE.betas[0].item() == pytest.approx(1e-4) and SCHEDULE.betas[-1].item() == pytest.approx(0.02)
    assert torch.all(SCHEDULE.alpha_bars[1:] < SCHEDULE.alpha_bars[:-1])
    assert SCHEDULE.alpha_bars[-1].item() < 1e-4  # almost nothing of the image is left at T-1
    with pytest.raises(ValueError, match="beta_start"):
        NoiseSchedule.linear(beta_start=0.1, beta_end=0.01)


def test_q_sample_ends():
    x0 = shapes_dataset(64, 16)
    noise = torch.randn_like(x0)
    start = q_sample(x0, torch.zeros(64, dtype=torch.long), noise, SCHEDULE)
    end = q_sample(x0, torch.full((64,), 999), noise, SCHEDULE)
    assert (start - x0).std() < 0.015  # t=0: the clean image plus 1% of the noise
    assert (end - noise).abs().max() < 0.02  # t=T-1: essentially the noise
    assert end.std().item() == pytest.approx(1.0, abs=0.05)


def test_predict_x0_inverts_q_sample():
    x0, noise = shapes_dataset(4, 16), torch.randn(4, 3, 16, 16)
    t = torch.tensor([0, 10, 500, 900])
    assert torch.allclose(predict_x0(q_sample(x0, t, noise, SCHEDULE), t, noise, SCHEDULE), x0, atol=1e-3)


def test_zero_output_model_scores_the_baseline(model):
    # initialize_weights zeroes the output layer: predicting zero noise gives MSE = Var(noise) = 1.
    loss = evaluate_loss(model, shapes_dataset(256, 16), SCHEDULE)
    assert loss == pytest.approx(1.0, abs=0.02)


def test_one_step_lowers_the_loss_on_a_fixed_batch(model):
    batch = shapes_dataset(16, 16)
    before = evaluate_loss(model, batch, SCHEDULE, seed=3)
    train(model, batch, SCHEDULE, steps=1, batch_size=16, lr=1e-3, seed=3)
    assert evaluate_loss(model, batch, SCHEDULE, seed=3) < before


def test_tiny_model_overfits_a_single_batch(model):
    batch = shapes_dataset(8, 16)
    history = train(model, batch, SCHEDULE, steps=150, batch_size=8, lr=2e-3)
    assert len(history) == 150
    assert sum(history[-20:]) / 20 < 0.5 * sum(history[:5]) / 5
    assert evaluate_loss(model, batch, SCHEDULE) < 0.35  # well below the zero-noise baseline of 1.0


def test_training_is_deterministic(tiny_config):
    batch = shapes_dataset(8, 16)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(train(initialize_weights(UNet(tiny_config)), batch, SCHEDULE, steps=3, batch_size=4))
    assert runs[0] == runs[1]


def test_a_longer_run_begins_exactly_as_a_shorter_one(tiny_config):
    batch = shapes_dataset(8, 16)
    runs = []
    for steps in (3, 6):
        torch.manual_seed(0)
        runs.append(train(initialize_weights(UNet(tiny_config)), batch, SCHEDULE, steps=steps, batch_size=4,
                          warmup_steps=4))
    assert runs[1][:3] == runs[0]


def test_chunks_with_the_same_optimiser_and_generator_are_one_run(tiny_config):
    images, labels = shapes_dataset(8, 16, return_labels=True)
    conditional = tiny_config.replace(num_classes=3)
    weights = []
    for chunks in ((6,), (2, 4)):
        torch.manual_seed(0)
        model = initialize_weights(UNet(conditional))
        ema = ema_model(model, decay=0.5)
        optimizer, generator = torch.optim.Adam(model.parameters(), lr=1e-3), torch.Generator().manual_seed(0)
        losses = []
        for index, steps in enumerate(chunks):
            losses += train(model, images, SCHEDULE, steps, batch_size=4, warmup_steps=2 if index == 0 else 0,
                            labels=labels, ema=ema, optimizer=optimizer, generator=generator)
        weights.append((losses, [p.detach().clone() for p in ema.module.parameters()]))
    assert weights[0][0] == weights[1][0]
    assert all(torch.equal(a, b) for a, b in zip(weights[0][1], weights[1][1]))
    torch.manual_seed(0)
    fresh = train(initialize_weights(UNet(conditional)), images, SCHEDULE, 6, batch_size=4, lr=1e-3, warmup_steps=2,
                  labels=labels)
    assert fresh == weights[0][0]  # and a plain run with the same seed and rate


def test_warmup_shrinks_the_first_steps(tiny_config):
    # Adam's first step moves every weight with a gradient by about lr, so the size of the output conv's
    # first move is the learning rate actually used.
    moves = {}
    for warmup_steps in (0, 4):
        torch.manual_seed(0)
        model = initialize_weights(UNet(tiny_config))
        train(model, shapes_dataset(4, 16), SCHEDULE, steps=1, batch_size=4, lr=1e-3, warmup_steps=warmup_steps)
        moves[warmup_steps] = model.out_conv.weight.abs().max().item()  # it started at 0
    assert moves[0] == pytest.approx(1e-3, rel=0.01)
    assert moves[4] == pytest.approx(1e-3 / 4, rel=0.01)


def test_train_and_evaluate_checkpoints(tiny_config):
    model = initialize_weights(UNet(tiny_config))
    images, held_out_images = shapes_dataset(8, 16), shapes_dataset(8, 16, seed=1)
    run = train_and_evaluate(model, images, held_out_images, SCHEDULE, steps=5, evaluate_every=2, batch_size=4)
    assert len(run.history) == 5
    assert list(run.held_out) == [0, 2, 4, 5]
    assert run.held_out[0] == pytest.approx(evaluate_loss(initialize_weights(UNet(tiny_config)), held_out_images,
                                                          SCHEDULE))  # zero output conv: the baseline
    assert run.held_out[5] == evaluate_loss(model, held_out_images, SCHEDULE)
    with pytest.raises(ValueError, match="evaluate_every=0"):
        train_and_evaluate(model, images, held_out_images, SCHEDULE, steps=1, evaluate_every=0)


@pytest.mark.parametrize("change, words", [
    (dict(lr=-1.0), "lr=-1.0"), (dict(batch_size=0), "batch_size=0"), (dict(learning_rate=1e-3), "learning_rate"),
    (dict(images="pixels"), "images must be a float tensor"), (dict(held_out_images=None), "held_out_images"),
])
def test_train_and_evaluate_checks_before_measuring_anything(tiny_config, monkeypatch, change, words):
    # a mistake in train()'s options used to surface only after the held-out loss was measured
    monkeypatch.setattr("unet_lessons.training.evaluate_loss", lambda *args: pytest.fail("measured before checking"))
    arguments = dict(model=UNet(tiny_config), images=shapes_dataset(8, 16),
                     held_out_images=shapes_dataset(8, 16, seed=1), schedule=SCHEDULE, steps=2)
    options = {name: change.pop(name) for name in list(change) if name not in arguments}
    with pytest.raises(ValueError, match=words):
        train_and_evaluate(**(arguments | change), **options)


def test_on_step_is_called_every_step(model):
    seen = []
    train(model, shapes_dataset(8, 16), SCHEDULE, steps=4, batch_size=4, on_step=lambda s, l: seen.append(s))
    assert seen == [0, 1, 2, 3]


def test_noise_prediction_loss_is_a_scalar(model):
    loss = noise_prediction_loss(model, shapes_dataset(4, 16), SCHEDULE)
    assert loss.dim() == 0 and loss.requires_grad


def test_shapes_dataset_is_deterministic_and_varied():
    a, b = shapes_dataset(32, 16, seed=5), shapes_dataset(32, 16, seed=5)
    assert torch.equal(a, b)
    assert not torch.equal(a, shapes_dataset(32, 16, seed=6))
    assert a.min() >= -1 and a.max() <= 1
    assert (a[0] - a[1]).abs().mean() > 0.05


@pytest.fixture
def trained_a_little(tiny_config):
    # A few steps so every layer (out_conv included) is non-zero and t can matter.
    model = initialize_weights(UNet(tiny_config))
    train(model, shapes_dataset(8, 16), SCHEDULE, steps=5, batch_size=8)
    return model.eval()


def test_breaking_the_time_embedding_makes_the_output_ignore_t(trained_a_little):
    x = shapes_dataset(2, 16)
    with torch.no_grad():
        intact_early, intact_late = trained_a_little(x, 10), trained_a_little(x, 900)
        assert not torch.allclose(intact_early, intact_late, atol=1e-5)
        handle = break_assembly(trained_a_little, "time")
        broken_early, broken_late = trained_a_little(x, 10), trained_a_little(x, 900)
        assert torch.equal(broken_early, broken_late)
        handle.remove()
        assert torch.equal(trained_a_little(x, 10), intact_early)


def test_breaking_the_skips_zeroes_what_the_decoder_receives(trained_a_little):
    x = shapes_dataset(2, 16)
    received = []
    decoder_hook = trained_a_little.decoder.register_forward_pre_hook(
        lambda module, inputs: received.append(list(inputs[1])))  # decoder(h, skips, time_emb) pops them
    with torch.no_grad():
        intact = trained_a_little(x, 100)
        handle = break_assembly(trained_a_little, "skips")
        broken = trained_a_little(x, 100)
        handle.remove()
    decoder_hook.remove()
    assert len(received[0]) == len(received[1]) > 0
    assert all(skip.abs().sum() > 0 for skip in received[0])
    assert all(skip.abs().sum() == 0 for skip in received[1])
    assert not torch.allclose(intact, broken, atol=1e-5)


def test_break_assembly_rejects_an_unknown_piece(model):
    assert set(BREAKS) == {"time", "skips"}
    with pytest.raises(ValueError, match="how='attention'"):
        break_assembly(model, "attention")
