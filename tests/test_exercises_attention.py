"""The lesson 03 checkers accept the right answer, refuse wrong ones with a hint, and survive exceptions."""

import torch

from unet_lessons.exercises.attention import check_attention_matrix_bytes, check_attention_weights


def test_correct_attention_weights_pass(capsys):
    assert check_attention_weights(lambda q, k: torch.softmax(q @ k.mT / q.shape[-1] ** 0.5, dim=-1)) is True
    assert "✔" in capsys.readouterr().out


def test_missing_scale_and_wrong_axis_get_hints(capsys):
    assert check_attention_weights(lambda q, k: torch.softmax(q @ k.mT, dim=-1)) is False
    assert "sqrt(d)" in capsys.readouterr().out
    assert check_attention_weights(lambda q, k: torch.softmax(q @ k.mT / q.shape[-1] ** 0.5, dim=-2)) is False
    assert "wrong axis" in capsys.readouterr().out
    assert check_attention_weights(lambda q, k: q @ k) is False  # k not transposed: 8x6 @ ... fails
    assert "raised" in capsys.readouterr().out


def test_stub_and_wrong_shape(capsys):
    assert check_attention_weights(lambda q, k: None) is False
    assert "returned None" in capsys.readouterr().out
    assert check_attention_weights(lambda q, k: q) is False
    assert "shape should be [2, 6, 6], got [2, 6, 8]" in capsys.readouterr().out


def test_attention_matrix_bytes(capsys):
    assert check_attention_matrix_bytes(4096 * 4096 * 4) is True
    assert "64 MiB" in capsys.readouterr().out
    assert check_attention_matrix_bytes(4096 * 4096) is False
    assert "float32" in capsys.readouterr().out
    assert check_attention_matrix_bytes(4096 * 4) is False
    assert check_attention_matrix_bytes(None) is False
    assert check_attention_matrix_bytes(16 * 16 * 16 * 16 * 4, resolution=16) is True
