"""The lesson 01 measuring tools in ``unet_lessons.resblock``: parameter terms and group statistics."""

import pytest
import torch
import torch.nn.functional as F

from unet_lessons.analysis import count_parameters
from unet_lessons.resblock import ResBlock, group_statistics, resblock_parameter_terms


@pytest.mark.parametrize("in_channels, out_channels, time_emb_dim", [(64, 64, 256), (64, 128, 256), (96, 32, 128)])
def test_each_parameter_term_is_the_count_of_its_layer(in_channels, out_channels, time_emb_dim):
    with torch.device("meta"):
        block = ResBlock(in_channels, out_channels, time_emb_dim)
    terms = resblock_parameter_terms(in_channels, out_channels, time_emb_dim)
    for term in terms:
        assert term.count == count_parameters(getattr(block, term.layer)), term.layer
    assert sum(term.count for term in terms) == count_parameters(block)


def test_shortcut_term_is_zero_only_when_channels_match():
    same = {term.layer: term for term in resblock_parameter_terms(32, 32, 64)}
    wider = {term.layer: term for term in resblock_parameter_terms(32, 64, 64)}
    assert same["shortcut"].count == 0 and "identity" in same["shortcut"].formula
    assert wider["shortcut"].count == 32 * 64 + 64


def test_group_statistics_are_what_group_norm_removes():
    x = torch.randn(2, 8, 5, 5) * 3 + 2
    mean, std = group_statistics(x, groups=4)
    assert mean.shape == std.shape == (2, 4)
    # Normalizing each group with these statistics reproduces GroupNorm (eps aside).
    manual = (x.reshape(2, 4, -1) - mean[..., None]) / std[..., None]
    assert torch.allclose(manual.reshape(x.shape), F.group_norm(x, 4, eps=0.0), atol=1e-5)
    after_mean, after_std = group_statistics(F.group_norm(x, 4), groups=4)
    assert after_mean.abs().max() < 1e-5 and torch.allclose(after_std, torch.ones(2, 4), atol=1e-3)


def test_group_statistics_rejects_groups_that_do_not_divide():
    with pytest.raises(ValueError, match="channels=6 is not divisible by groups=4"):
        group_statistics(torch.zeros(1, 6, 2, 2), groups=4)
