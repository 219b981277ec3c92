"""The files the course ships: the trained course model, its classifier, a sample of real test images, and a
subset of the training images.

Loaded in ``notebooks/08_it_generates.ipynb`` and ``09_train_your_own.ipynb``; written by
``tools/train_course_model.py`` (``make course-model``). Every file is a safetensors file (tensors and a text
header: nothing is unpickled, so opening one runs no code), listed with its SHA-256 in
``unet_lessons/assets/SHA256SUMS`` (the format ``sha256sum -c`` reads). :func:`read_checked` compares the digest before it parses a byte, and the
loaders check the header's configuration and every tensor's name and shape before building a model.
"""

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from unet_lessons.configs import UNetConfig
from unet_lessons.quality import Classifier
from unet_lessons.training import NoiseSchedule
from unet_lessons.unet import UNet

ASSETS = Path(__file__).parent / "assets"
COURSE_MODEL = "course_model.safetensors"
CLASSIFIER = "classifier.safetensors"
REAL_SAMPLE = "fashion_mnist_sample.safetensors"
TRAINING_SUBSET = "fashion_mnist_train_subset.safetensors"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _listed_digests(checksums: Path) -> dict[str, str]:
    if not checksums.is_file():
        return {}
    return {name.strip(): digest for digest, name in
            (line.split(maxsplit=1) for line in checksums.read_text().splitlines() if line.strip())}


def write_checked(tensors: dict[str, torch.Tensor], name: str, metadata: dict[str, str],
                  folder: Path = ASSETS) -> Path:
    """Save ``tensors`` and ``metadata`` as ``folder/name`` and record its SHA-256 in ``folder/SHA256SUMS``."""
    path, checksums = Path(folder) / name, Path(folder) / "SHA256SUMS"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".partial")
    save_file({key: value.contiguous() for key, value in tensors.items()}, temporary, metadata=metadata)
    os.replace(temporary, path)  # never a half-written file under the real name
    digests = _listed_digests(checksums) | {name: sha256(path)}
    checksums.write_text("".join(f"{digest}  {file}\n" for file, digest in sorted(digests.items())))
    return path


def read_checked(name: str, folder: Path = ASSETS, remedy: str | None = None) -> tuple[dict[str, torch.Tensor],
                                                                                    dict[str, str]]:
    """The tensors and metadata of ``folder/name``, after its SHA-256 matches ``folder/SHA256SUMS``.

    ``remedy`` ends every error message (how to get a good file back); by default, for the files the course
    ships: restore it from git or rebuild it with ``make course-model``.
    """
    path = Path(folder) / name
    if not Path(folder).is_dir():
        where = f" (the course's own files are in {ASSETS}, the default)" if remedy is None else f", or {remedy}"
        raise ValueError(f"folder={str(folder)!r}: no such folder, so it holds no {name}; check the path{where}.")
    remedy = remedy or f"restore it with `git checkout -- {path}` or rebuild it with `make course-model`"
    expected = _listed_digests(Path(folder) / "SHA256SUMS").get(name)
    if expected is None:
        found = "" if path.is_file() else " (and the file is missing)"
        raise ValueError(f"{name}: not listed in {Path(folder) / 'SHA256SUMS'}{found}; only files written by "
                         f"write_checked are loaded: {remedy}.")
    if not path.is_file():
        raise ValueError(f"{path}: missing; {remedy}.")
    actual = sha256(path)
    if actual != expected:
        raise ValueError(f"{path}: SHA-256 {actual[:12]}... does not match the listed {expected[:12]}...; the file "
                         f"is damaged or was replaced (a Git LFS pointer?): {remedy}.")
    try:
        with safe_open(path, framework="pt") as file:
            return {key: file.get_tensor(key) for key in file.keys()}, dict(file.metadata() or {})
    except Exception as error:  # safetensors' own error types; the file is listed but is not one of ours
        raise ValueError(f"{path}: not a readable safetensors file ({error}); {remedy}.") from None


def load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], name: str,
              remedy: str = "rebuild it with `make course-model`") -> None:
    """Load ``tensors`` into ``module`` after checking that every name and shape fits, or a ``ValueError``."""
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    found = {key: tuple(value.shape) for key, value in tensors.items()}
    if expected != found:
        wrong = sorted(set(expected.items()) ^ set(found.items()))[:3]
        raise ValueError(f"{name}: its tensors do not fit the model its header describes (first differences: "
                         f"{wrong}); {remedy}.")
    module.load_state_dict(tensors)


def config_from_header(metadata: dict[str, str], path: Path, remedy: str) -> UNetConfig:
    """The validated :class:`UNetConfig` in a model file's header, or a ``ValueError`` that names the file (a
    config that fails :meth:`UNetConfig.validate` says which field, and which file it came from)."""
    try:
        return UNetConfig(**json.loads(metadata["config"])).validate()
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: its header has no valid 'config' ({error!r}); {remedy}.") from None
    except ValueError as error:
        raise ValueError(f"{path}: the config in its header is not valid: {error} {remedy[0].upper()}{remedy[1:]}.") \
            from None


def load_course_model(folder: Path = ASSETS) -> tuple[UNet, NoiseSchedule, dict[str, str]]:
    """The shipped class-conditional U-Net (its EMA weights, in eval mode), its noise schedule, and how it
    was trained (the file's metadata: data, steps, seed, wall time, commit)."""
    tensors, metadata = read_checked(COURSE_MODEL, folder)
    config = config_from_header(metadata, Path(folder) / COURSE_MODEL, "rebuild it with `make course-model`")
    try:
        schedule = NoiseSchedule.linear(**json.loads(metadata["schedule"]))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{COURSE_MODEL}: its header has no valid 'schedule' ({error!r}); rebuild it with "
                         "`make course-model`.") from None
    if config.num_classes is None:
        raise ValueError(f"{COURSE_MODEL}: its config has num_classes=None; the course model is class-conditional.")
    model = UNet(config)
    load_into(model, tensors, COURSE_MODEL)
    return model.eval(), schedule, metadata


def load_classifier(folder: Path = ASSETS) -> Classifier:
    """The shipped classifier the quality scores use, in eval mode."""
    tensors, metadata = read_checked(CLASSIFIER, folder)
    try:
        classifier = Classifier(**json.loads(metadata["config"]))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{CLASSIFIER}: its header has no valid 'config' ({error!r}).") from None
    load_into(classifier, tensors, CLASSIFIER)
    return classifier.eval()


def _load_pixels(name: str, folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    tensors, _ = read_checked(name, folder)
    pixels, labels = tensors.get("pixels"), tensors.get("labels")
    if pixels is None or labels is None or pixels.dtype != torch.uint8 or pixels.dim() != 3 \
            or labels.shape != pixels.shape[:1] or labels.is_floating_point():
        raise ValueError(f"{name}: expected uint8 'pixels' [N, 28, 28] and integer 'labels' [N].")
    return pixels, labels.long()


def load_real_sample(folder: Path = ASSETS) -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped sample of Fashion-MNIST's test set: [N, 28, 28] uint8 pixels and [N] labels (the same
    number of every class), so the lesson runs where the full dataset is not installed."""
    return _load_pixels(REAL_SAMPLE, folder)


def load_training_subset(folder: Path = ASSETS) -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped subset of Fashion-MNIST's training split (the first images of each class, the same number of
    every class): [N, 28, 28] uint8 pixels and [N] labels, for lesson 09 where the full split is not installed."""
    return _load_pixels(TRAINING_SUBSET, folder)
