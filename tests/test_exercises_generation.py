"""Tests for the lesson 08 exercise checkers: right answers pass, typical mistakes get their hint."""

import pytest

from unet_lessons.exercises.generation import check_ddim_step, check_guidance, check_predict_x0
from unet_lessons.sampling import ddim_step
from unet_lessons.training import predict_x0


def test_check_predict_x0(capsys):
    assert check_predict_x0(predict_x0)
    assert not check_predict_x0(lambda x_t, t, eps, schedule: None)
    assert "returned None" in capsys.readouterr().out

    def without_square_roots(x_t, t, eps, schedule):
        alpha_bar = schedule.alpha_bars[t][:, None, None, None]
        return (x_t - (1 - alpha_bar) * eps) / alpha_bar

    assert not check_predict_x0(without_square_roots)
    assert "square roots" in capsys.readouterr().out

    def no_broadcast(x_t, t, eps, schedule):
        alpha_bar = schedule.alpha_bars[t]  # [B] against [B, 1, 8, 8]
        return (x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()

    assert not check_predict_x0(no_broadcast)
    assert "[:, None, None, None]" in capsys.readouterr().out


def test_check_guidance(capsys):
    assert check_guidance(lambda uncond, cond, w: uncond + w * (cond - uncond))
    assert check_guidance(lambda uncond, cond, w: w * cond + (1 - w) * uncond)  # the same mix, written as weights
    assert "✔" in capsys.readouterr().out


# Each wrong mix, and words its hint must hold: what the learner's formula is and does. The first two give the
# conditional prediction at w = 0, so "moves away from the class at w = 0" would misdescribe them.
GUIDANCE_MISTAKES = [
    (lambda uncond, cond, w: cond + w * (uncond - cond), ["swapped", "conditional prediction at w = 0",
                                                         "moves away from the class beyond"]),
    (lambda uncond, cond, w: (1 - w) * cond + w * uncond, ["swapped", "(1 - w) * eps_cond + w * eps_uncond"]),
    (lambda uncond, cond, w: cond + w * (cond - uncond),
     ["eps_cond + w * (eps_cond - eps_uncond)", "conditional prediction at w = 0", "w = 1 is this course's w = 2"]),
    (lambda uncond, cond, w: uncond + w * cond, ["adds w * eps_cond to eps_uncond"]),
    (lambda uncond, cond, w: (uncond + w * cond) / (1 + w), ["weighted average", "never reaches"]),
    (lambda uncond, cond, w: w * cond, ["At w = 0 yours gives neither prediction",
                                        "should give the unconditional prediction"]),
    (lambda uncond, cond, w: cond, ["At w = 0 yours gives the conditional prediction (eps_cond)",
                                    "should give the unconditional prediction"]),
    (lambda uncond, cond, w: uncond + w * (cond - uncond) if w < 2 else cond,
     ["At w = 3 yours gives the conditional prediction", "past the conditional prediction"]),
    (lambda uncond, cond, w: uncond[0], ["shape"]),
]


@pytest.mark.parametrize("mix, words", GUIDANCE_MISTAKES, ids=range(len(GUIDANCE_MISTAKES)))
def test_check_guidance_describes_what_a_wrong_mix_did(mix, words, capsys):
    assert not check_guidance(mix)
    out = capsys.readouterr().out
    assert "moves away from the class" not in out or "beyond" in out  # never claimed at w = 0
    missing = [word for word in words if word not in out]
    assert not missing, f"the hint lacks {missing}: {out}"


def test_check_ddim_step(capsys):
    assert check_ddim_step(lambda x_t, t, t_prev, eps, schedule: ddim_step(x_t, t, t_prev, eps, schedule)[0])

    def unclipped(x_t, t, t_prev, eps, schedule):  # the textbook form passes: the check's x_0 lies in [-1, 1]
        x0 = (x_t - (1 - schedule.alpha_bars[t]).sqrt() * eps) / schedule.alpha_bars[t].sqrt()
        return schedule.alpha_bars[t_prev].sqrt() * x0 + (1 - schedule.alpha_bars[t_prev]).sqrt() * eps

    assert check_ddim_step(unclipped)

    def noise_dropped(x_t, t, t_prev, eps, schedule):
        x0 = (x_t - (1 - schedule.alpha_bars[t]).sqrt() * eps) / schedule.alpha_bars[t].sqrt()
        return schedule.alpha_bars[t_prev].sqrt() * x0

    capsys.readouterr()
    assert not check_ddim_step(noise_dropped)
    assert "dropped the noise" in capsys.readouterr().out
    assert not check_ddim_step(lambda x_t, t, t_prev, eps, schedule: x_t - eps)
    assert "sqrt(abar_prev)" in capsys.readouterr().out
    assert not check_ddim_step(lambda x_t, t, t_prev, eps, schedule: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
