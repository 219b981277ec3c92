"""The lesson 06 checkers: a right answer passes, a wrong one gets a hint, an exception is caught."""

from torch import nn

from unet_lessons.exercises.init import check_expected_initial_loss, check_zero_module


def test_zero_module_checker(capsys):
    def right(module):
        for param in module.parameters():
            nn.init.zeros_(param)
        return module

    def weight_only(module):
        nn.init.zeros_(module.weight)
        return module

    assert check_zero_module(right)
    assert "✔" in capsys.readouterr().out
    assert not check_zero_module(weight_only)
    assert "bias is not all zero" in capsys.readouterr().out
    assert not check_zero_module(lambda module: None)
    assert "returned None" in capsys.readouterr().out
    assert not check_zero_module(lambda module: nn.Identity())
    assert "same object" in capsys.readouterr().out

    def in_place_on_a_parameter(module):  # the common first try: PyTorch refuses it on a leaf that needs grad
        for param in module.parameters():
            param.zero_()
        return module

    assert not check_zero_module(in_place_on_a_parameter)
    out = capsys.readouterr().out
    assert "leaf Variable" in out and "nn.init.zeros_(p)" in out and "torch.no_grad()" in out


def test_expected_initial_loss_checker(capsys):
    assert check_expected_initial_loss(lambda mean_square: 1 + mean_square)
    assert "✔" in capsys.readouterr().out
    assert not check_expected_initial_loss(lambda mean_square: mean_square)
    assert "N(0, 1)" in capsys.readouterr().out
    assert not check_expected_initial_loss(lambda mean_square: 1.0)
    assert "cross term" in capsys.readouterr().out


def test_checkers_catch_exceptions(capsys):
    def unfinished(arg):
        raise NotImplementedError("fill me in")

    for checker in (check_zero_module, check_expected_initial_loss):
        assert not checker(unfinished)
        assert "NotImplementedError: fill me in" in capsys.readouterr().out
