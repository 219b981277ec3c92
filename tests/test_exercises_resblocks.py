"""The lesson 01 checkers: a right answer passes, a wrong one gets a hint, an exception is caught."""

import pytest
import torch

from unet_lessons.exercises.resblocks import check_down_up_size, check_group_norm, check_resblock_parameter_count


def right_count(c_in, c_out, t):
    shortcut = c_in * c_out + c_out if c_in != c_out else 0
    return 2 * c_in + 9 * c_in * c_out + c_out + t * c_out + c_out + 2 * c_out + 9 * c_out * c_out + c_out + shortcut


def test_parameter_count_checker(capsys):
    assert check_resblock_parameter_count(right_count)
    assert "✔" in capsys.readouterr().out
    no_shortcut = lambda c_in, c_out, t: right_count(c_in, c_out, t) - (c_in * c_out + c_out if c_in != c_out else 0)
    assert not check_resblock_parameter_count(no_shortcut)
    assert "shortcut" in capsys.readouterr().out
    no_biases = lambda c_in, c_out, t: 2 * c_in + 9 * c_in * c_out + t * c_out + 2 * c_out + 9 * c_out * c_out
    assert not check_resblock_parameter_count(no_biases)
    assert "bias" in capsys.readouterr().out
    assert not check_resblock_parameter_count(lambda c_in, c_out, t: None)
    assert "returned None" in capsys.readouterr().out
    always_shortcut = lambda c_in, c_out, t: right_count(c_in, c_out, t) + (c_in * c_out + c_out if c_in == c_out else 0)
    assert not check_resblock_parameter_count(always_shortcut)
    assert "nn.Identity, no parameters" in capsys.readouterr().out


def test_group_norm_checker(capsys):
    def right(x, groups, eps):
        grouped = x.reshape(x.shape[0], groups, -1)
        mean, var = grouped.mean(-1, keepdim=True), grouped.var(-1, unbiased=False, keepdim=True)
        return ((grouped - mean) / torch.sqrt(var + eps)).reshape(x.shape)

    def per_channel(x, groups, eps):  # InstanceNorm: right only when every group has one channel
        return (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + eps)

    assert check_group_norm(right)
    assert "✔" in capsys.readouterr().out
    assert not check_group_norm(per_channel)
    out = capsys.readouterr().out
    assert "groups=1" in out and "each channel on its own" in out


def test_group_norm_checker_names_the_unbiased_variance(capsys):
    def unbiased(x, groups, eps):  # torch.var's default divides by n - 1
        grouped = x.reshape(x.shape[0], groups, -1)
        return ((grouped - grouped.mean(-1, keepdim=True)) / torch.sqrt(grouped.var(-1, keepdim=True) + eps)).reshape(x.shape)

    assert not check_group_norm(unbiased)
    out = capsys.readouterr().out
    assert "unbiased variance" in out and "unbiased=False" in out and "each pixel" not in out


@pytest.mark.parametrize("per_pixel", [
    lambda x, groups, eps: (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps),
    lambda x, groups, eps: (lambda g: ((g - g.mean(2, keepdim=True)) / torch.sqrt(g.var(2, unbiased=False, keepdim=True)
                                                                                   + eps)).reshape(x.shape))(
        x.reshape(x.shape[0], groups, -1, *x.shape[2:])),
], ids=["over all channels", "over the group's channels"])
def test_group_norm_checker_names_per_pixel_normalization(capsys, per_pixel):
    assert not check_group_norm(per_pixel)
    out = capsys.readouterr().out
    assert "normalized each pixel" in out and "AND all its pixels" in out and "unbiased" not in out


def test_down_up_size_checker(capsys):
    assert check_down_up_size(lambda size: 2 * ((size + 1) // 2))
    assert "✔" in capsys.readouterr().out
    assert not check_down_up_size(lambda size: size)  # right for even sizes only
    assert "rounds up" in capsys.readouterr().out


def test_checkers_catch_exceptions(capsys):
    def unfinished(*args):
        raise NotImplementedError("fill me in")

    for checker in (check_resblock_parameter_count, check_group_norm, check_down_up_size):
        assert not checker(unfinished)
        assert "NotImplementedError: fill me in" in capsys.readouterr().out
