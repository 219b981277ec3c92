"""The lesson 02 checkers accept the right answer, refuse wrong ones with a hint, and survive exceptions."""

import math

import torch

from unet_lessons.exercises.time_embedding import (
    check_sinusoidal_embedding,
    check_time_emb_dim,
    check_time_embedding_parameters,
)


def learner_embedding(t, dim):
    """An independent solution, written the way a learner would."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def test_correct_embedding_passes(capsys):
    assert check_sinusoidal_embedding(learner_embedding) is True
    assert "✔" in capsys.readouterr().out


def test_swapped_halves_get_an_order_hint(capsys):
    def cos_first(t, dim):
        emb = learner_embedding(t, dim)
        return torch.cat([emb[:, dim // 2:], emb[:, :dim // 2]], dim=1)

    assert check_sinusoidal_embedding(cos_first) is False
    assert "sines first" in capsys.readouterr().out


def test_wrong_frequencies_and_shapes_get_hints(capsys):
    assert check_sinusoidal_embedding(lambda t, dim: learner_embedding(t, dim) * 0.5) is False
    assert "frequencies" in capsys.readouterr().out
    assert check_sinusoidal_embedding(lambda t, dim: learner_embedding(t, dim).T) is False
    assert "shape should be [5, 16], got [16, 5]" in capsys.readouterr().out


def test_stub_and_exception_are_caught(capsys):
    assert check_sinusoidal_embedding(lambda t, dim: None) is False
    assert "returned None" in capsys.readouterr().out
    assert check_sinusoidal_embedding(lambda t, dim: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_time_emb_dim(capsys):
    assert check_time_emb_dim(256) is True
    assert check_time_emb_dim(64) is False
    assert "sinusoidal" in capsys.readouterr().out
    assert check_time_emb_dim(None) is False
    assert check_time_emb_dim(512) is False


def test_time_embedding_parameters(capsys):
    assert check_time_embedding_parameters(64 * 256 + 256 + 256 * 256 + 256) is True
    assert check_time_embedding_parameters(64 * 256 + 256 * 256) is False
    assert "bias" in capsys.readouterr().out
    assert check_time_embedding_parameters(None) is False
