"""A mistake at any public entry point is a ValueError that names the argument, raised before anything changes.

One table across the package: the model and its configuration, analysis, initialisation, training, sampling,
data, quality and the figure builders. Every case runs on fresh objects; afterwards the model's weights and
every tensor handed in must be exactly as they were.
"""

import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from unet_lessons.analysis import count_forward_flops, count_parameters_by_level, trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.data import first_per_class, load_fashion_mnist, to_model_images
from unet_lessons.init import initialize_weights
from unet_lessons.quality import Classifier, class_accuracy
from unet_lessons.sampling import ancestral_sample, ddim_sample, ddim_step, sampling_steps
from unet_lessons.training import NoiseSchedule, drop_labels, ema_model, predict_x0, q_sample, train
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import describe
from unet_lessons.viz.generation import class_grid_figure, image_row_figure
from unet_lessons.viz.hourglass import hourglass_figure
from unet_lessons.viz.training import loss_curve_figure

CONFIG = UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                    attention_resolutions=(8,), groups=8, num_classes=3)


class Things:
    """Fresh objects for one case: a conditional model, a schedule, images, labels."""

    def __init__(self):
        torch.manual_seed(0)
        self.model = UNet(CONFIG)
        self.schedule = NoiseSchedule.linear(num_steps=100)
        self.x = torch.randn(2, 3, 16, 16)
        self.noise = torch.randn(2, 3, 16, 16)
        self.t = torch.tensor([10, 20])
        self.y = torch.tensor([0, 2])
        self.classifier = Classifier(in_channels=3, image_size=16, num_classes=3, width=8, num_features=16)

    def tensors(self) -> dict[str, torch.Tensor]:
        state = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        state |= {f"classifier.{k}": v for k, v in self.classifier.state_dict().items()}
        return state | {"x": self.x, "noise": self.noise, "t": self.t, "y": self.y}


# (id, call, words the message must contain: the argument's name and what would be right)
CASES = [
    ("UNet unknown preset", lambda o: UNet("huge"), ["'huge'", "preset", "light"]),
    ("UNet a number", lambda o: UNet(64), ["config", "UNetConfig"]),
    ("UNet unknown field", lambda o: UNet(CONFIG, width=3), ["unknown field", "width"]),
    ("UNet bad groups", lambda o: UNet(CONFIG, groups=5), ["groups"]),
    ("trace_shapes a dict", lambda o: trace_shapes({"image_size": 32}), ["config_or_model", "dict"]),
    ("count_forward_flops bad preset", lambda o: count_forward_flops("ddpm2"), ["'ddpm2'", "preset"]),
    ("hourglass unknown highlight", lambda o: hourglass_figure(CONFIG, highlight="Convolution"), ["highlight"]),
    ("forward t a string", lambda o: o.model(o.x, "500", o.y), ["t must be timesteps", "str"]),
    ("forward t None", lambda o: o.model(o.x, None, o.y), ["t must be timesteps", "NoneType"]),
    ("forward t a list of strings", lambda o: o.model(o.x, ["1", "2"], o.y), ["t must be timesteps", "list"]),
    ("forward t negative", lambda o: o.model(o.x, torch.tensor([-3, 5]), o.y), ["t holds negative", "-3"]),
    ("forward t wrong length", lambda o: o.model(o.x, torch.tensor([1, 2, 3]), o.y), ["t must be one timestep", "[2]"]),
    ("forward x 3-d", lambda o: o.model(o.x[0], o.t, o.y), ["x must be a 4-D tensor", "x[None]"]),
    ("forward x wrong size", lambda o: o.model(torch.randn(2, 3, 32, 32), o.t, o.y), ["image_size=16"]),
    ("forward y float", lambda o: o.model(o.x, o.t, o.y.float()), ["y must be", "integer"]),
    ("forward y out of range", lambda o: o.model(o.x, o.t, torch.tensor([0, 7])), ["y holds labels outside", "0..3"]),
    ("initialize a conv", lambda o: initialize_weights(nn.Conv2d(3, 3, 3)), ["model", "Conv2d", "UNet(config)"]),
    ("initialize a config", lambda o: initialize_weights(CONFIG), ["model", "UNetConfig", "build the model"]),
    ("q_sample t past the schedule", lambda o: q_sample(o.x, torch.tensor([5, 100]), o.noise, o.schedule),
     ["t holds steps outside", "0..99"]),
    ("q_sample t negative", lambda o: q_sample(o.x, torch.tensor([-3, 5]), o.noise, o.schedule), ["t holds", "-3"]),
    ("q_sample t float", lambda o: q_sample(o.x, torch.tensor([5.0, 6.0]), o.noise, o.schedule), ["t must be integer"]),
    ("q_sample noise shape", lambda o: q_sample(o.x, o.t, o.noise[:1], o.schedule), ["noise must have x0's shape"]),
    ("predict_x0 t too large", lambda o: predict_x0(o.x, torch.tensor([100, 0]), o.noise, o.schedule), ["t holds"]),
    ("ddim_step t a tensor", lambda o: ddim_step(o.x, o.t, 5, o.noise, o.schedule), ["t=", "one int"]),
    ("ddim_step t_prev after t", lambda o: ddim_step(o.x, 50, 60, o.noise, o.schedule), ["t_prev=60", "0..49"]),
    ("ddim_step negative eta", lambda o: ddim_step(o.x, 50, 40, o.noise, o.schedule, eta=-1.0), ["eta=-1.0"]),
    ("sampling_steps too many", lambda o: sampling_steps(o.schedule, 500), ["num_steps"]),
    ("ddim_sample guidance without labels", lambda o: ddim_sample(o.model, o.schedule, (2, 3, 16, 16), 5,
                                                                  guidance_scale=2.0), ["guidance_scale", "y"]),
    ("ddim_sample negative guidance", lambda o: ddim_sample(o.model, o.schedule, (2, 3, 16, 16), 5, y=o.y,
                                                            guidance_scale=-1.0), ["guidance_scale=-1.0"]),
    ("ancestral_sample labels of another batch", lambda o: ancestral_sample(o.model, o.schedule, (2, 3, 16, 16), 5,
                                                                           y=torch.tensor([0, 1, 2])), ["y"]),
    ("train uint8 images", lambda o: train(o.model, (o.x * 100).to(torch.uint8), o.schedule, 1),
     ["images must be a float tensor", "127.5"]),
    ("train zero batch", lambda o: train(o.model, o.x, o.schedule, 1, batch_size=0), ["batch_size=0"]),
    ("train negative lr", lambda o: train(o.model, o.x, o.schedule, 1, lr=-0.1), ["lr=-0.1"]),
    ("train steps a float", lambda o: train(o.model, o.x, o.schedule, 2.5), ["steps=2.5"]),
    ("train labels out of range", lambda o: train(o.model, o.x, o.schedule, 1, labels=torch.tensor([0, 9])),
     ["labels outside"]),
    ("train label dropout above 1", lambda o: train(o.model, o.x, o.schedule, 1, labels=o.y, label_dropout=1.5),
     ["label_dropout=1.5"]),
    ("drop_labels probability", lambda o: drop_labels(o.y, 3, -0.2), ["label_dropout=-0.2"]),
    ("ema decay above 1", lambda o: ema_model(o.model, decay=1.5), ["decay"]),
    ("schedule of one step", lambda o: NoiseSchedule.linear(num_steps=1), ["num_steps=1"]),
    ("load_fashion_mnist split", lambda o: load_fashion_mnist("validation"), ["split='validation'", "'train'"]),
    ("to_model_images floats", lambda o: to_model_images(torch.rand(2, 28, 28)), ["pixels must be a uint8"]),
    ("first_per_class too many", lambda o: first_per_class(torch.tensor([0, 1, 2]), 2), ["per_class=2"]),
    ("class_accuracy labels of another length", lambda o: class_accuracy(o.classifier, o.x, torch.tensor([0])),
     ["labels"]),
    ("class grid labels of another length", lambda o: class_grid_figure(o.x, torch.tensor([0]), o.x, o.y, ("a", "b", "c"), "t"),
     ["labels"]),
    ("image row a 3-d tensor", lambda o: image_row_figure(o.x[0], "title"), ["images"]),
    ("loss curve of no steps", lambda o: loss_curve_figure([]), ["history", "train()"]),
    ("alt text empty", lambda o: describe(go.Figure(), "  "), ["alt"]),
    ("alt text on a tensor", lambda o: describe(o.x, "a tensor"), ["figure", "Tensor"]),
]


def test_the_table_is_long_enough():
    assert len(CASES) >= 25
    assert len({case_id for case_id, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("call, words", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_mistake_is_named_and_changes_nothing(call, words):
    things = Things()
    before = {name: tensor.clone() for name, tensor in things.tensors().items()}
    with pytest.raises(ValueError) as raised:
        call(things)
    message = str(raised.value)
    missing = [word for word in words if word not in message]
    assert not missing, f"the message lacks {missing}: {message}"
    after = things.tensors()
    changed = [name for name, tensor in before.items() if not torch.equal(tensor, after[name])]
    assert not changed, f"changed before the error: {changed[:5]}"


def test_a_preset_or_its_name_builds_the_same_model():
    # the obvious thing to try works: UNet("light"), UNet(PRESETS["light"]), trace_shapes("light")
    preset = PRESETS["tiny"]
    with torch.device("meta"):
        assert UNet("tiny").config == UNet(preset).config == preset.config
    assert [row.name for row in trace_shapes("tiny")] == [row.name for row in trace_shapes(preset.config)]
    assert count_parameters_by_level(UNet(preset)) == count_parameters_by_level(UNet(preset.config))


def test_timesteps_as_a_number_or_a_list_still_work():
    things = Things()
    with torch.no_grad():
        expected = things.model(things.x, torch.tensor([500, 500]), things.y)
        assert torch.equal(things.model(things.x, 500, things.y), expected)
        assert torch.equal(things.model(things.x, [500, 500], things.y), expected)
