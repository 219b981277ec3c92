"""A mistake at any public entry point is a ValueError that names the argument, raised before anything changes.

One table across the package: the model and its configuration, analysis, initialisation, training, sampling,
data, quality, the figure builders and the explorers (which raise for a bad argument before building a control;
an invalid combination of their controls is shown inside the widget, see tests/test_widgets*.py). Every case
runs on fresh objects; afterwards the model's weights and every tensor handed in must be exactly as they were.
"""

import dataclasses
import json
from pathlib import Path

import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from unet_lessons.analysis import (attention_cost, count_forward_flops, count_parameters_by_level, forward_memory,
                                   resblock_cost, trace_shapes)
from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.course_files import ASSETS, COURSE_MODEL, load_course_model, write_checked
from unet_lessons.data import first_per_class, load_fashion_mnist, to_model_images
from unet_lessons.init import initialize_weights
from unet_lessons.quality import (Classifier, class_accuracy, frechet_distance, frechet_reference,
                                  nearest_training_images)
from unet_lessons.recipe import OWN_MODEL, NoisePredictor, Recipe, Trainer, load_own_model
from unet_lessons.resblock import ResBlock
from unet_lessons.sampling import ancestral_sample, ddim_sample, ddim_step, sampling_steps
from unet_lessons.threads import use_course_threads
from unet_lessons.time_embedding import TimeEmbedding
from unet_lessons.training import (NoiseSchedule, drop_labels, ema_model, predict_x0, q_sample, train,
                                   train_and_evaluate)
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import describe
from unet_lessons.viz.architecture_widgets import explorer_state, unet_explorer
from unet_lessons.viz.block_widgets import (attention_explorer, resblock_explorer, time_embedding_explorer,
                                          time_response_explorer)
from unet_lessons.viz.generation import class_grid_figure, image_row_figure
from unet_lessons.viz.generation_widgets import record_trajectory, sampler_explorer, trajectory_explorer
from unet_lessons.viz.hourglass import hourglass_figure
from unet_lessons.viz.training import loss_curve_figure
from unet_lessons.viz.training_widgets import denoising_explorer, init_explorer, progress_bar

CONFIG = UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                    attention_resolutions=(8,), groups=8, num_classes=3)


class Things:
    """Fresh objects for one case: a conditional model, a schedule, images, labels; for the explorers a photo, a
    ResBlock with its time embedding, and an attention map; an empty folder for the files a case writes."""

    def __init__(self, folder: Path):
        self.folder = folder
        torch.manual_seed(0)
        self.model = UNet(CONFIG)
        self.schedule = NoiseSchedule.linear(num_steps=100)
        self.x = torch.randn(2, 3, 16, 16)
        self.noise = torch.randn(2, 3, 16, 16)
        self.t = torch.tensor([10, 20])
        self.y = torch.tensor([0, 2])
        self.classifier = Classifier(in_channels=3, image_size=16, num_classes=3, width=8, num_features=16)
        self.photo = torch.rand(1, 3, 8, 8) * 2 - 1
        self.block, self.time_embed = ResBlock(16, 16, time_emb_dim=64, groups=8), TimeEmbedding(16)
        with torch.no_grad():
            self.weights = AttentionBlock(32, num_heads=2, groups=8).attention_weights(torch.randn(1, 32, 4, 4))

    def model_file(self, name: str, **config_changes) -> Path:
        """``self.folder`` after writing a listed model file ``name`` whose header's config is CONFIG with
        ``config_changes`` (the tensors are CONFIG's, so a changed config no longer fits them)."""
        config = dataclasses.asdict(CONFIG) | config_changes
        write_checked(UNet(CONFIG).state_dict(), name, {"config": json.dumps(config), "target": "epsilon",
                                                        "schedule": json.dumps({"num_steps": 100})}, self.folder)
        return self.folder

    def tensors(self) -> dict[str, torch.Tensor]:
        state = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        state |= {f"classifier.{k}": v for k, v in self.classifier.state_dict().items()}
        state |= {f"block.{k}": v for k, v in self.block.state_dict().items()}
        return state | {"x": self.x, "noise": self.noise, "t": self.t, "y": self.y, "photo": self.photo,
                        "weights": self.weights}


# (id, call, words the message must contain: the argument's name and what would be right)
CASES = [
    ("UNet unknown preset", lambda o: UNet("huge"), ["'huge'", "preset", "light"]),
    ("UNet a number", lambda o: UNet(64), ["config", "UNetConfig"]),
    ("UNet unknown field", lambda o: UNet(CONFIG, width=3), ["unknown field", "width"]),
    ("UNet bad groups", lambda o: UNet(CONFIG, groups=5), ["groups"]),
    ("UNet one attention resolution without its tuple", lambda o: UNet(CONFIG, attention_resolutions=8),
     ["attention_resolutions=8", "a tuple", "(8,)"]),
    ("trace_shapes a dict", lambda o: trace_shapes({"image_size": 32}), ["config_or_model", "dict"]),
    ("count_forward_flops bad preset", lambda o: count_forward_flops("ddpm2"), ["'ddpm2'", "preset"]),
    ("count_forward_flops negative batch", lambda o: count_forward_flops(CONFIG, batch_size=-1), ["batch_size=-1"]),
    ("count_forward_flops float batch", lambda o: count_forward_flops(CONFIG, batch_size=2.0), ["batch_size=2.0"]),
    ("trace_shapes batch too large for a tensor", lambda o: trace_shapes(CONFIG, batch_size=10**18),
     ["full-resolution activation", "batch_size"]),
    ("forward_memory zero batch", lambda o: forward_memory(CONFIG, batch_size=0), ["batch_size=0"]),
    ("attention_cost zero resolution", lambda o: attention_cost(64, 0), ["resolution=0"]),
    ("attention_cost matrix too large", lambda o: attention_cost(64, 10**6), ["resolution=1000000", "lower resolution"]),
    ("resblock_cost zero channels", lambda o: resblock_cost(0, 8, 64), ["channels=0"]),
    ("hourglass unknown highlight", lambda o: hourglass_figure(CONFIG, highlight="Convolution"), ["highlight"]),
    ("forward t a string", lambda o: o.model(o.x, "500", o.y), ["t must be timesteps", "str"]),
    ("forward t None", lambda o: o.model(o.x, None, o.y), ["t must be timesteps", "NoneType"]),
    ("forward t a list of strings", lambda o: o.model(o.x, ["1", "2"], o.y), ["t must be timesteps", "list"]),
    ("forward t negative", lambda o: o.model(o.x, torch.tensor([-3, 5]), o.y), ["t holds negative", "-3"]),
    ("forward t wrong length", lambda o: o.model(o.x, torch.tensor([1, 2, 3]), o.y), ["t must be one timestep", "[2]"]),
    ("forward x 3-d", lambda o: o.model(o.x[0], o.t, o.y), ["x must be a 4-D tensor", "x[None]"]),
    ("forward x wrong size", lambda o: o.model(torch.randn(2, 3, 32, 32), o.t, o.y), ["image_size=16"]),
    ("forward x float64", lambda o: o.model(o.x.double(), o.t, o.y),
     ["x is torch.float64", "weights are torch.float32", "x.to(torch.float32)"]),
    ("forward x uint8 pixels", lambda o: o.model(((o.x.clamp(-1, 1) + 1) * 127.5).to(torch.uint8), o.t, o.y),
     ["x must be a float tensor", "torch.uint8", "to_model_images(pixels)"]),
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
    ("train images in [0, 255]", lambda o: train(o.model, (o.x.clamp(-1, 1) + 1) * 127.5, o.schedule, 1),
     ["images must lie in [-1, 1]", "to_model_images(pixels)"]),
    ("train zero steps", lambda o: train(o.model, o.x.clamp(-1, 1), o.schedule, 0), ["steps=0", ">= 1"]),
    ("train_and_evaluate zero steps", lambda o: train_and_evaluate(o.model, o.x.clamp(-1, 1), o.x.clamp(-1, 1),
                                                                   o.schedule, 0), ["steps=0", ">= 1"]),
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
    ("image row labels for another number of rows", lambda o: image_row_figure(o.x, "title", columns=1,
                                                                             row_labels=("w = 0",)),
     ["row_labels", "2 for 2 images in rows of 1", "got 1 labels"]),
    ("loss curve of no steps", lambda o: loss_curve_figure([]), ["history", "train()"]),
    ("alt text empty", lambda o: describe(go.Figure(), "  "), ["alt"]),
    ("alt text on a tensor", lambda o: describe(o.x, "a tensor"), ["figure", "Tensor"]),
    # the explorers: a bad argument raises before any control is built
    ("unet_explorer a Preset", lambda o: unet_explorer(PRESETS["light"]), ["preset=a Preset", "name", "'light'"]),
    ("unet_explorer a list", lambda o: unet_explorer(["light"]), ["preset=a list", "'chapter_example'"]),
    ("explorer_state a dict", lambda o: explorer_state({"image_size": 32}), ["config", "UNetConfig", "dict"]),
    ("resblock_explorer a 3-d image", lambda o: resblock_explorer(o.photo[0]), ["image must be", "image[None]"]),
    ("resblock_explorer uint8 pixels", lambda o: resblock_explorer(((o.photo + 1) * 127.5).to(torch.uint8)),
     ["image must be a float tensor", "uint8", "127.5"]),
    ("resblock_explorer a greyscale image", lambda o: resblock_explorer(o.photo[:, :1]),
     ["image must be one image [1, 3, H, W]", "[1, 1, 8, 8]"]),
    ("resblock_explorer groups off the menu", lambda o: resblock_explorer(o.photo, groups=3), ["groups=3", "32]"]),
    ("time_embedding_explorer odd dim", lambda o: time_embedding_explorer(dim=127), ["dim=127", "even"]),
    ("time_embedding_explorer zero dim", lambda o: time_embedding_explorer(dim=0), ["dim=0", "positive"]),
    ("time_response_explorer two images", lambda o: time_response_explorer(o.block, o.time_embed,
                                                                           torch.randn(2, 16, 8, 8)),
     ["x must be one image [1, 16, H, W]", "x[:1]"]),
    ("time_response_explorer the photo", lambda o: time_response_explorer(o.block, o.time_embed, o.photo),
     ["x must be one image [1, 16, H, W]", "[1, 3, 8, 8]"]),
    ("time_response_explorer swapped", lambda o: time_response_explorer(o.time_embed, o.block, o.photo),
     ["block", "ResBlock", "got TimeEmbedding"]),
    ("time_response_explorer another embedding size", lambda o: time_response_explorer(o.block, TimeEmbedding(8),
                                                                                       o.photo),
     ["time_embed", "time_emb_dim=64", "TimeEmbedding(16)"]),
    ("attention_explorer weights without the batch", lambda o: attention_explorer(o.photo, o.weights[0]),
     ["weights must be", "[1, heads, H*W, H*W]", "[2, 16, 16]"]),
    ("attention_explorer raw scores", lambda o: attention_explorer(o.photo, torch.randn(1, 2, 16, 16)),
     ["weights", "softmax(dim=-1)"]),
    ("attention_explorer features for the photo", lambda o: attention_explorer(torch.randn(1, 32, 4, 4), o.weights),
     ["image must be one image [1, 3, H, W]", "[1, 32, 4, 4]"]),
    ("attention_explorer the block for its weights", lambda o: attention_explorer(o.photo,
                                                                                  AttentionBlock(32, groups=8)),
     ["weights", "attention_weights", "AttentionBlock"]),
    ("init_explorer width not offered", lambda o: init_explorer(CONFIG), ["base_channel_choices=(32, 64)",
                                                                        "config.base_channels=16"]),
    ("init_explorer width groups do not divide", lambda o: init_explorer(CONFIG, (16, 20)),
     ["base_channel_choices=(16, 20)", "base_channels=20", "groups=8"]),
    ("init_explorer unknown preset", lambda o: init_explorer("huge"), ["config='huge'", "preset"]),
    ("progress_bar zero steps", lambda o: progress_bar(0), ["steps=0", ">= 1"]),
    ("progress_bar steps a float", lambda o: progress_bar(2.5), ["steps=2.5"]),
    ("denoising_explorer a config", lambda o: denoising_explorer(CONFIG, o.x[:1], o.schedule),
     ["model", "UNetConfig", "UNet(config)"]),
    ("denoising_explorer a batch", lambda o: denoising_explorer(o.model, o.x, o.schedule),
     ["x0 must be one", "x0[:1]"]),
    ("denoising_explorer another size", lambda o: denoising_explorer(o.model, o.photo, o.schedule),
     ["x0 must be one image [1, 3, 16, 16]", "[1, 3, 8, 8]"]),
    ("denoising_explorer steps for the schedule", lambda o: denoising_explorer(o.model, o.x[:1], 1000),
     ["schedule", "NoiseSchedule.linear()", "int"]),
    ("record_trajectory label outside", lambda o: record_trajectory(o.model, o.schedule, label=7), ["label=7", "0..2"]),
    ("record_trajectory a class name", lambda o: record_trajectory(o.model, o.schedule, label="Sneaker"),
     ["label='Sneaker'", "index"]),
    ("record_trajectory unconditional", lambda o: record_trajectory(UNet(CONFIG, num_classes=None), o.schedule, 1),
     ["model", "num_classes=None", "class-conditional"]),
    ("trajectory_explorer no frames", lambda o: trajectory_explorer([], "walk"), ["frames", "record_trajectory",
                                                                                "empty"]),
    ("trajectory_explorer samples for frames", lambda o: trajectory_explorer(o.x, "walk"), ["frames", "Tensor"]),
    ("trajectory_explorer one frame", lambda o: trajectory_explorer((30, o.x[0], o.x[1]), "walk"),
     ["frames", "a tuple of int"]),
    ("sampler_explorer names of another length", lambda o: sampler_explorer(o.model, o.schedule, ("a", "b")),
     ["class_names", "3 names", "got 2"]),
    ("sampler_explorer label outside", lambda o: sampler_explorer(o.model, o.schedule, ("a", "b", "c"), label=3),
     ["label=3", "0..2"]),
    ("sampler_explorer zero batch", lambda o: sampler_explorer(o.model, o.schedule, ("a", "b", "c"), batch=0),
     ["batch=0"]),
    ("Recipe unknown target", lambda o: Recipe(target="eps"), ["Recipe.target='eps'", "'epsilon'"]),
    ("Recipe negative lr", lambda o: Recipe(lr=-1.0), ["Recipe.lr=-1.0", "1e-3"]),
    ("Recipe unknown lr_decay", lambda o: Recipe(lr_decay="step"), ["Recipe.lr_decay='step'", "'cosine'"]),
    ("Trainer unknown device", lambda o: Trainer(o.model, o.x, o.y, o.schedule, Recipe(), 5, device="tpu"),
     ["device='tpu'", "'cpu'"]),
    ("Trainer images of another size", lambda o: Trainer(o.model, o.x[:, :, :8, :8], o.y, o.schedule, Recipe(), 5),
     ["images must be [N, 3, 16, 16]", "size=16"]),
    ("Trainer zero steps", lambda o: Trainer(o.model, o.x, o.y, o.schedule, Recipe(), 0), ["total_steps=0"]),
    ("Trainer images in [0, 255]",
     lambda o: Trainer(o.model, (o.x.clamp(-1, 1) + 1) * 127.5, o.y, o.schedule, Recipe(), 5),
     ["images must lie in [-1, 1]", "to_model_images"]),
    ("use_course_threads negative", lambda o: use_course_threads(leave_free=-1), ["leave_free=-1", ">= 0"]),
    ("NoisePredictor unknown target", lambda o: NoisePredictor(o.model, o.schedule, "noise"),
     ["target='noise'", "'epsilon'"]),
    ("ddim_sample a model of another target",
     lambda o: (setattr(o.model, "prediction_target", "v"),
                ddim_sample(o.model, o.schedule, (1, 3, 16, 16), 2, y=o.y[:1])), ["'v'", "NoisePredictor"]),
    ("nearest_training_images other sizes", lambda o: nearest_training_images(o.x, o.x[:, :, :8, :8]),
     ["training_images", "28x28"]),
    ("load_course_model a missing folder", lambda o: load_course_model(ASSETS / "no_such_folder"),
     ["folder=", "no_such_folder", "no such folder", COURSE_MODEL, str(ASSETS)]),
    ("load_course_model a header config that fails validate()",
     lambda o: load_course_model(o.model_file(COURSE_MODEL, groups=3)),
     [f"{COURSE_MODEL}: the config in its header is not valid", "groups=3", "make course-model"]),
    ("load_own_model a missing folder", lambda o: load_own_model(o.folder / "my_model"),
     ["folder=", "no such folder", OWN_MODEL, "save_own_model(trainer, folder)"]),
    ("load_own_model a header config that fails validate()", lambda o: load_own_model(o.model_file(OWN_MODEL,
                                                                                                   groups=3)),
     [f"{OWN_MODEL}: the config in its header is not valid", "groups=3", "save_own_model"]),
    ("frechet_distance another classifier's reference",
     lambda o: frechet_distance(o.classifier, frechet_reference(
         Classifier(in_channels=3, image_size=16, num_classes=3, width=8, num_features=16), o.x), o.x),
     ["real", "frechet_reference(classifier"]),
]


def test_the_table_is_long_enough():
    assert len(CASES) >= 25
    assert len({case_id for case_id, _, _ in CASES}) == len(CASES)
    explorers = {"unet_explorer", "explorer_state", "resblock_explorer", "time_embedding_explorer",
                 "time_response_explorer", "attention_explorer", "init_explorer", "progress_bar",
                 "denoising_explorer", "record_trajectory", "trajectory_explorer", "sampler_explorer"}
    assert {case_id.split()[0] for case_id, _, _ in CASES} >= explorers  # every public explorer has a case


@pytest.mark.parametrize("call, words", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_mistake_is_named_and_changes_nothing(call, words, tmp_path):
    things = Things(tmp_path)
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


def test_timesteps_as_a_number_or_a_list_still_work(tmp_path):
    things = Things(tmp_path)
    with torch.no_grad():
        expected = things.model(things.x, torch.tensor([500, 500]), things.y)
        assert torch.equal(things.model(things.x, 500, things.y), expected)
        assert torch.equal(things.model(things.x, [500, 500], things.y), expected)
