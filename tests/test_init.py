"""``unet_lessons.init``: the chapter's init and the lesson 06 measurements."""

import pytest
import torch
import torch.nn.functional as F

from unet_lessons.analysis import trace_shapes
from unet_lessons.data import sample_photo
from unet_lessons.init import (INIT_SCHEMES, activation_stds, compare_init_schemes, early_training_losses,
                               gradient_norms, initialize_weights, initialized_unet, noisy_photo_batch)
from unet_lessons.resblock import ResBlock
from unet_lessons.unet import UNet


def test_initialize_weights_zeroes_the_output_conv(tiny_config):
    model = initialize_weights(UNet(tiny_config))
    assert model.out_conv.weight.count_nonzero() == 0 and model.out_conv.bias.count_nonzero() == 0
    x = torch.randn(2, 3, tiny_config.image_size, tiny_config.image_size)
    assert model(x, torch.tensor([0, 999])).abs().max() == 0


def test_initialized_unet_schemes(tiny_config):
    state = torch.get_rng_state()
    default = initialized_unet(tiny_config, "pytorch_default", seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # the global random state is left alone
    torch.manual_seed(3)
    assert torch.equal(default.init_conv.weight, UNet(tiny_config).init_conv.weight)  # seeded like a plain UNet
    chapter = initialized_unet(tiny_config, "chapter", seed=3)
    torch.manual_seed(99)  # the global state must not matter
    assert torch.equal(initialized_unet(tiny_config, "chapter", seed=3).init_conv.weight, chapter.init_conv.weight)
    zero_residual = initialized_unet(tiny_config, "zero_residual", seed=3)
    res_blocks = [m for m in zero_residual.modules() if isinstance(m, ResBlock)]
    assert all(block.conv2.weight.count_nonzero() == 0 for block in res_blocks)
    assert any(m.conv2.weight.count_nonzero() > 0 for m in chapter.modules() if isinstance(m, ResBlock))
    zero_output = initialized_unet(tiny_config, "zero_output", seed=3)  # the default body, only the output zeroed
    for (name, control), reference in zip(zero_output.state_dict().items(), default.state_dict().values()):
        assert torch.equal(control, torch.zeros_like(reference) if name.startswith("out_conv.") else reference), name
    with pytest.raises(ValueError, match="scheme='xavier'"):
        initialized_unet(tiny_config, "xavier")


def test_noisy_photo_batch_follows_the_schedule():
    x, t, noise = noisy_photo_batch(16, batch_size=3, timestep=0, seed=1)
    assert x.shape == noise.shape == (3, 3, 16, 16) and t.tolist() == [0, 0, 0]
    photo = sample_photo(16)
    # At t = 0 alpha_bar = 1 - 1e-4: almost the photo, with 1% of the noise.
    assert torch.allclose(x, (1 - 1e-4) ** 0.5 * photo + 1e-2 * noise, atol=1e-4)  # float32 schedule
    assert not torch.equal(noise[0], noise[1])  # each copy has its own noise
    late, _, _ = noisy_photo_batch(16, batch_size=3, timestep=999, seed=1)
    assert (late - noise).abs().max() < 0.01  # at t = 999 almost pure noise: sqrt(alpha_bar) is about 0.0066
    assert torch.equal(noisy_photo_batch(16, 3, 500, seed=1)[2], noise)  # same seed, same noise
    with pytest.raises(ValueError, match="timestep=1000"):
        noisy_photo_batch(16, timestep=1000)


def test_activation_stds_follow_the_forward_order(tiny_config):
    model = UNet(tiny_config)
    x, t, _ = noisy_photo_batch(tiny_config.image_size, 2)
    stats = activation_stds(model, x, t)
    expected = [(row.name, row.kind) for row in trace_shapes(tiny_config) if row.kind != "TimeEmbedding"]
    assert [(s.name, s.kind) for s in stats] == expected
    with torch.no_grad():
        assert stats[-1].value == pytest.approx(model(x, t).std().item(), rel=1e-5)  # out_conv = the output
        assert stats[0].value == pytest.approx(model.init_conv(x).std().item(), rel=1e-5)


def test_gradient_norms_partition_the_gradient(tiny_config):
    model = UNet(tiny_config)
    x, t, noise = noisy_photo_batch(tiny_config.image_size, 2)
    norms = gradient_norms(model, x, t, noise)
    assert [n.name for n in norms] == [row.name for row in trace_shapes(tiny_config)]
    F.mse_loss(model(x, t), noise).backward()
    total = sum(p.grad.pow(2).sum().item() for p in model.parameters())
    assert sum(n.value ** 2 for n in norms) == pytest.approx(total, rel=1e-4)
    assert all(n.value > 0 for n in norms)


def test_gradient_norms_leave_grad_untouched(tiny_config):
    model = UNet(tiny_config)
    gradient_norms(model, *noisy_photo_batch(tiny_config.image_size, 2))
    assert all(p.grad is None for p in model.parameters())


def test_zero_output_conv_stops_every_gradient_but_its_own(tiny_config):
    model = initialized_unet(tiny_config, "chapter")
    norms = {n.name: n.value for n in gradient_norms(model, *noisy_photo_batch(tiny_config.image_size, 2))}
    assert norms.pop("out_conv") > 0
    assert all(value == 0 for value in norms.values())


def test_compare_init_schemes(tiny_config):
    results = compare_init_schemes(tiny_config, timestep=200, batch_size=2)
    assert list(results) == list(INIT_SCHEMES)
    _, _, noise = noisy_photo_batch(tiny_config.image_size, 2, 200)
    # A zero prediction's loss is exactly the mean square of the noise.
    assert results["chapter"].loss == pytest.approx(noise.pow(2).mean().item(), rel=1e-6)
    assert results["zero_output"].loss == pytest.approx(noise.pow(2).mean().item(), rel=1e-6)
    assert results["pytorch_default"].loss != pytest.approx(results["chapter"].loss, rel=1e-3)
    after_one_step = compare_init_schemes(tiny_config, ("chapter",), timestep=200, optimizer_steps=1, batch_size=2)
    body = [n.value for n in after_one_step["chapter"].gradient_norms if n.kind not in ("OutConv", "OutNorm")]
    assert max(body) > 0  # one step makes out_conv non-zero, and the gradient reaches the body
    assert compare_init_schemes(tiny_config, timestep=200, batch_size=2)["chapter"] is results["chapter"]  # cached
    with pytest.raises(ValueError, match="optimizer_steps=-1"):
        compare_init_schemes(tiny_config, optimizer_steps=-1)


def test_early_training_losses(tiny_config):
    losses = early_training_losses(tiny_config, steps=3, batch_size=2)
    assert list(losses) == list(INIT_SCHEMES) and all(len(v) == 3 for v in losses.values())
    # The zero-output schemes predict exactly 0 on the same first batch: the same first loss, near 1.
    assert losses["chapter"][0] == losses["zero_residual"][0] == losses["zero_output"][0]
    assert 0.5 < losses["chapter"][0] < 1.5
    assert losses["pytorch_default"][0] != pytest.approx(losses["chapter"][0], rel=1e-3)
    assert losses == early_training_losses(tiny_config, steps=3, batch_size=2)  # seeded
