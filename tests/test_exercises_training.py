"""Tests for the lesson 07 exercise checkers: right answers pass, typical mistakes get their hint."""

import torch

from unet_lessons.exercises.training import check_copy_model_loss, check_q_sample, check_zero_noise_loss
from unet_lessons.training import q_sample


def test_check_q_sample(capsys):
    assert check_q_sample(q_sample)
    assert not check_q_sample(lambda x0, t, noise, schedule: None)
    assert "returned None" in capsys.readouterr().out

    def without_square_roots(x0, t, noise, schedule):
        alpha_bar = schedule.alpha_bars[t][:, None, None, None]
        return alpha_bar * x0 + (1 - alpha_bar) * noise

    assert not check_q_sample(without_square_roots)
    assert "square roots" in capsys.readouterr().out

    def one_step(x0, t, noise, schedule):
        alpha = schedule.alphas[t][:, None, None, None]
        return alpha.sqrt() * x0 + (1 - alpha).sqrt() * noise

    assert not check_q_sample(one_step)
    assert "alpha_bars" in capsys.readouterr().out
    assert not check_q_sample(lambda x0, t, noise, schedule: torch.zeros(2, 3))
    assert "shape" in capsys.readouterr().out


def test_check_zero_noise_loss(capsys):
    assert check_zero_noise_loss(1.0) and check_zero_noise_loss(1)
    assert not check_zero_noise_loss(None)
    assert not check_zero_noise_loss(0.0)
    assert "(0 - noise)**2" in capsys.readouterr().out
    assert not check_zero_noise_loss(0.5)
    assert not check_zero_noise_loss("one")


def test_check_copy_model_loss(capsys):
    def right(alpha_bar, x0_mean_square):
        return alpha_bar * x0_mean_square + (1 - (1 - alpha_bar) ** 0.5) ** 2

    assert check_copy_model_loss(right)
    shown = capsys.readouterr().out
    assert "t = 999" in shown and "measured" in shown
    assert check_copy_model_loss(lambda a, m: torch.tensor(right(a, m)))  # a 0-d tensor is a number too
    for mistake, hint in [(lambda a, m: None, "returned None"),
                          (lambda a, m: 1.0, "loss of predicting zero"),
                          (lambda a, m: (1 - (1 - a) ** 0.5) ** 2, "also holds the image"),
                          (lambda a, m: a * m, "only sqrt(1 - abar) of the noise"),
                          (lambda a, m: a * m + a ** 2, "square roots"),
                          (lambda a, m: a + m, "cross term"),
                          (lambda a, m: "0.3", "not a str"),
                          (lambda a, m: 1 / 0, "ZeroDivisionError")]:
        assert not check_copy_model_loss(mistake)
        assert hint in capsys.readouterr().out
