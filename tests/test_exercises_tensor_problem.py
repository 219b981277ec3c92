"""unet_lessons.exercises.tensor_problem: the checks every tensor exercise runs before comparing values."""

import torch

from unet_lessons.exercises import tensor_problem


def test_no_problem_for_a_tensor_of_the_right_shape():
    assert tensor_problem(torch.zeros(2, 3), (2, 3)) is None
    assert tensor_problem(torch.zeros(2, 3), torch.Size([2, 3])) is None


def test_each_first_mistake_has_its_message():
    assert "returned None" in tensor_problem(None, (2, 3))
    assert "not a list" in tensor_problem([[0.0] * 3] * 2, (2, 3))
    message = tensor_problem(torch.zeros(3, 2), (2, 3), "Rows are timesteps.")
    assert message == "The shape should be [2, 3], got [3, 2]. Rows are timesteps."
