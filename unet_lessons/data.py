"""Real images with no download.

- a photo to push through the blocks (lessons 01-03): matplotlib ships Grace Hopper's portrait;
- a labelled dataset to generate from (lesson 08): Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, MIT licence),
  70,000 greyscale 28x28 pictures of clothes in 10 classes, read from the four gzipped IDX files of its
  release. Debian's ``dataset-fashion-mnist`` package installs them in ``/usr/share/datasets/fashion-mnist``
  (``make`` does that on Linux); elsewhere download them from https://github.com/zalandoresearch/fashion-mnist
  into a folder and point ``FASHION_MNIST_DIR`` (or ``root=``) at it.
"""

import gzip
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # by label
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
                        "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000)}
_IDX_MAGIC = {1: 2049, 3: 2051}  # IDX files of unsigned bytes with 1 (labels) or 3 (images) dimensions


def sample_photo(size: int = 64) -> torch.Tensor:
    """matplotlib's ``grace_hopper.jpg``, centre-cropped to a square and resized.

    Args:
        size: output height and width in pixels.

    Returns:
        [1, 3, size, size], values in [-1, 1] (the range a diffusion model works in).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"size={size!r}: must be a positive int, e.g. 64.")
    # Imported here, not at the top: matplotlib is most of what `import unet_lessons` would cost beyond torch.
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        pixels = matplotlib.image.imread(file, format="jpg")  # [H, W, 3] uint8
    height, width, _ = pixels.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = pixels[top:top + side, left:left + side]
    image = torch.tensor(square).permute(2, 0, 1)[None].float() / 255  # [1, 3, S, S]
    image = F.interpolate(image, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (image * 2 - 1).clamp(-1, 1)


def to_displayable(image: torch.Tensor) -> np.ndarray:
    """[1, 3, H, W] or [3, H, W] in [-1, 1] -> [H, W, 3] numpy array in [0, 1] for ``imshow``."""
    if image.dim() == 4:
        image = image[0]
    return ((image.detach().float().cpu().permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy()


def _read_idx(path: Path, dims: int) -> np.ndarray:
    """One gzipped IDX file of unsigned bytes (the MNIST format): a header, then the array."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    magic = int.from_bytes(data[:4], "big")
    if magic != _IDX_MAGIC[dims]:
        raise ValueError(f"{path}: not an IDX file of {dims}-d unsigned bytes (magic {magic}, "
                         f"expected {_IDX_MAGIC[dims]}); is it a Fashion-MNIST file?")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != np.prod(shape):
        raise ValueError(f"{path}: the header promises {shape} bytes but the file holds {body.size}; "
                         "the file is truncated or damaged, download it again.")
    return body.reshape(shape)


def load_fashion_mnist(split: str = "train", root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST's training (60,000) or test (10,000) images and labels, as released.

    Args:
        split: ``"train"`` or ``"test"``.
        root: the folder with the four ``*-ubyte.gz`` files; default ``$FASHION_MNIST_DIR``, else Debian's
            ``/usr/share/datasets/fashion-mnist``.

    Returns:
        pixels: [N, 28, 28] uint8 (0 is the black background); labels: [N] int64, indices into
        ``FASHION_MNIST_CLASSES``. :func:`to_model_images` turns the pixels into model inputs.
    """
    if split not in _FASHION_MNIST_FILES:
        raise ValueError(f"split={split!r}: choose 'train' (60,000 images) or 'test' (10,000).")
    folder = Path(root if root is not None else os.environ.get("FASHION_MNIST_DIR", DEBIAN_FASHION_MNIST_DIR))
    images_name, labels_name, count = _FASHION_MNIST_FILES[split]
    missing = [name for name in (images_name, labels_name) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST: {', '.join(missing)} not found in {folder}. On Debian or Ubuntu: "
            "`sudo apt-get install dataset-fashion-mnist`; elsewhere download the four .gz files of "
            "https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder and set "
            "FASHION_MNIST_DIR to it (or pass root=).")
    pixels, labels = _read_idx(folder / images_name, 3), _read_idx(folder / labels_name, 1)
    if pixels.shape != (count, 28, 28) or labels.shape != (count,) or labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f"{folder}: expected {count} images of 28x28 and {count} labels in 0..9 for "
                         f"split={split!r}; got images {list(pixels.shape)}, labels {list(labels.shape)}.")
    return torch.from_numpy(pixels.copy()), torch.from_numpy(labels.astype(np.int64))


def first_per_class(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices of the first ``per_class`` images of every class, in class order: a balanced subset.

    A subset that is not balanced (say, the first 100 test images) would put a class mix of its own into
    any comparison with balanced samples.
    """
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.is_floating_point():
        raise ValueError("labels must be a 1-d integer tensor (as load_fashion_mnist returns).")
    chosen = [torch.nonzero(labels == c)[:per_class, 0] for c in range(len(FASHION_MNIST_CLASSES))]
    short = [FASHION_MNIST_CLASSES[c] for c, found in enumerate(chosen) if len(found) < per_class]
    if per_class < 1 or short:
        raise ValueError(f"per_class={per_class}: needs at least 1, and that many images of every class "
                         f"(too few of {', '.join(short)}).")
    return torch.cat(chosen)


def to_model_images(pixels: torch.Tensor, size: int = 32) -> torch.Tensor:
    """[N, 28, 28] uint8 pixels -> [N, 1, size, size] float in [-1, 1], padded with background (-1).

    Padding 28 to 32 lets three 2x2 downsamplings halve the image cleanly (32 -> 16 -> 8 -> 4).
    """
    if not isinstance(pixels, torch.Tensor) or pixels.dtype != torch.uint8 or pixels.dim() != 3:
        got = f"{pixels.dtype} {list(pixels.shape)}" if isinstance(pixels, torch.Tensor) else type(pixels).__name__
        raise ValueError(f"pixels must be a uint8 tensor [N, height, width] (as load_fashion_mnist returns); got {got}.")
    pad = size - pixels.shape[-1]
    if pad < 0 or pad % 2 or pixels.shape[-2] != pixels.shape[-1]:
        raise ValueError(f"size={size}: needs square images no larger than it, with an even margin; "
                         f"got {list(pixels.shape[1:])}.")
    images = pixels[:, None].float().div_(127.5).sub_(1)  # [N, 1, 28, 28] in [-1, 1], in place: 60,000 are 188 MB
    return pad_to(images, size) if pad else images


def pad_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, S, S] -> [N, C, size, size], padded with the background (-1) evenly (28x28 samples for a 32x32
    classifier)."""
    pad = size - images.shape[-1]
    if pad < 0 or pad % 2:
        raise ValueError(f"size={size}: needs an even margin around {images.shape[-1]}x{images.shape[-1]} images.")
    return F.pad(images, (pad // 2,) * 4, value=-1.0)


def crop_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, S, S] -> [N, C, size, size], the middle (32x32 samples back to Fashion-MNIST's 28x28 picture, the
    undoing of :func:`pad_to`); a view, no copy."""
    margin = images.shape[-1] - size
    if margin < 0 or margin % 2 or size < 1:
        raise ValueError(f"size={size}: needs an even margin inside {images.shape[-1]}x{images.shape[-1]} images "
                         "(28 for 32x32 samples: Fashion-MNIST's picture inside its padding).")
    return images[..., margin // 2:margin // 2 + size, margin // 2:margin // 2 + size]
