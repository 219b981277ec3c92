"""The course model for the browser: exported to ONNX from the shipped weights at every ``make site`` and
``make slides``, so the pages' live sampler (``classroom/static/course-sampler.js``) runs the model the
lessons load, never an older export.

``export_course_model(folder)`` writes two files:

* ``course_model.onnx`` - ``UNet.forward(x, t, y)`` of the course model with any batch size: x [B, 1, 32, 32]
  float32, t [B] and y [B] int64 (y = 10 is "no class"), output the predicted noise [B, 1, 32, 32]. Before the
  file is written, ONNX Runtime runs it beside PyTorch and the export is refused if they differ by more than
  ``TOLERANCE``.
* ``model.json`` - what the page checks and needs: the SHA-256 of the ONNX file and of the weights it was made
  from, the model's sizes, the class names, the schedule's ``alpha_bars`` and, for every step count the page
  offers, the steps ``sampling_steps`` walks (so the page walks the same ones without re-deriving torch's
  rounding).

The TorchScript exporter (``dynamo=False``) is used: ``torch.export`` cannot trace ``UNet._check_inputs``, whose
checks read t's values. Tracing records one path through ``forward``; the checks then vanish from the graph,
which is why the page itself only offers valid inputs.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from unet_lessons.course_files import ASSETS, COURSE_MODEL, load_course_model, sha256
from unet_lessons.data import FASHION_MNIST_CLASSES
from unet_lessons.sampling import sampling_steps
from unet_lessons.unet import UNet

MODEL_FILE = "course_model.onnx"
MANIFEST_FILE = "model.json"
MAX_STEPS = 100  # the page's steps slider, as lesson 08's sampler explorer
OPSET = 17
# Largest |ONNX Runtime - PyTorch| accepted for one forward pass (measured: about 2e-6).
TOLERANCE = 1e-4


def export_onnx(model: UNet, path: Path) -> None:
    """Write ``model``'s forward pass as ONNX to ``path``, with a dynamic batch and inputs named x, t, y."""
    batch = 2
    example = (torch.zeros(batch, model.config.in_channels, model.config.image_size, model.config.image_size),
               torch.full((batch,), 500), torch.full((batch,), model.null_class))
    with warnings.catch_warnings():
        # The tracer warns that the input checks' Python branches are not recorded; that is the intent here. The
        # TorchScript exporter is deprecated in favour of torch.export, which cannot trace those checks (module
        # docstring): its two DeprecationWarnings are known and said here once.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model.eval(), example, str(path), dynamo=False, opset_version=OPSET,
                          input_names=["x", "t", "y"], output_names=["noise"],
                          dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "y": {0: "batch"},
                                        "noise": {0: "batch"}})


def onnx_runtime_difference(model: UNet, path: Path, x: torch.Tensor, t: torch.Tensor,
                            y: torch.Tensor) -> float:
    """Largest |ONNX Runtime - PyTorch| over the predicted noise of ``model`` and its export at ``path``."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_noise,) = session.run(None, {"x": x.numpy(), "t": t.numpy(), "y": y.numpy()})
    with torch.no_grad():
        torch_noise = model(x, t, y).numpy()
    return float(np.abs(onnx_noise - torch_noise).max())


def export_course_model(folder: Path, assets: Path = ASSETS) -> dict:
    """Export the shipped course model into ``folder`` (``course_model.onnx`` and ``model.json``).

    The weights are read through ``load_course_model`` (their SHA-256 checked first). Returns the manifest.
    Raises ``ValueError`` if ONNX Runtime's predictions differ from PyTorch's by more than ``TOLERANCE``.
    """
    model, schedule, _ = load_course_model(assets)
    if model.null_class != len(FASHION_MNIST_CLASSES):
        raise ValueError(f"{COURSE_MODEL}: it knows {model.null_class} classes, but the page names the "
                         f"{len(FASHION_MNIST_CLASSES)} of Fashion-MNIST; rebuild it with `make course-model`.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    export_onnx(model, path)
    # Every label (no class included) at timesteps across the schedule, in one batch.
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(model.null_class + 1)
    t = torch.linspace(0, schedule.num_steps - 1, len(labels)).round().long()
    x = torch.randn(len(labels), model.config.in_channels, model.config.image_size, model.config.image_size,
                    generator=generator)
    difference = onnx_runtime_difference(model, path, x, t, labels)
    if difference > TOLERANCE:
        path.unlink()
        raise ValueError(f"{MODEL_FILE}: ONNX Runtime differs from PyTorch by {difference:.2e} (> {TOLERANCE:g}); "
                         "the export is wrong, so it is not shipped.")
    manifest = {
        "model": MODEL_FILE,
        "model_sha256": sha256(path),
        "model_bytes": path.stat().st_size,
        "weights": COURSE_MODEL,
        "weights_sha256": sha256(Path(assets) / COURSE_MODEL),
        "image_size": model.config.image_size,
        "channels": model.config.in_channels,
        "null_class": model.null_class,
        "class_names": list(FASHION_MNIST_CLASSES),
        "alpha_bars": schedule.alpha_bars.tolist(),
        "sampling_steps": {str(n): sampling_steps(schedule, n) for n in range(1, min(MAX_STEPS, schedule.num_steps) + 1)},
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    return manifest
