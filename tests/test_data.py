import gzip
import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
import torch

from unet_lessons.data import (DEBIAN_FASHION_MNIST_DIR, crop_to, load_fashion_mnist, pad_to, sample_photo,
                               to_displayable, to_model_images)
from unet_lessons.viz.feature_maps import feature_map_grid

matplotlib.use("Agg")


def test_sample_photo_is_a_real_rgb_image_in_range():
    photo = sample_photo(32)
    assert photo.shape == (1, 3, 32, 32)
    assert photo.min() >= -1 and photo.max() <= 1
    assert photo.std() > 0.2  # a photo, not a constant
    assert not torch.allclose(photo[:, 0], photo[:, 2])  # colour channels differ
    shown = to_displayable(photo)
    assert shown.shape == (32, 32, 3) and shown.min() >= 0 and shown.max() <= 1


def test_sample_photo_rejects_bad_size():
    with pytest.raises(ValueError, match="size=0"):
        sample_photo(0)


def test_feature_map_grid_draws_one_panel_per_channel():
    fig = feature_map_grid(torch.randn(1, 10, 8, 8), num_channels=12, columns=4, title="t")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 10
    assert len(fig.axes) == 12 + 10  # every panel that shows a channel has its colour bar


def test_feature_map_grid_colour_bars_span_each_channels_values():
    features = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * torch.tensor([1.0, 5.0, 0.1])[:, None, None]
    fig = feature_map_grid(features, num_channels=3, columns=3)
    for channel, ax in zip(features[0], (ax for ax in fig.axes if ax.images)):
        image = ax.images[0]
        assert image.colorbar is not None and image.get_cmap().name == "viridis"
        assert image.get_clim() == pytest.approx((channel.min().item(), channel.max().item()))


def test_feature_map_grid_takes_one_image():
    with pytest.raises(ValueError, match="one image"):
        feature_map_grid(torch.randn(2, 4, 8, 8))


def test_importing_the_package_leaves_the_plotting_libraries_unloaded():
    # matplotlib is imported when sample_photo needs it: `import unet_lessons` costs little beyond torch.
    heavy = ("matplotlib", "plotly", "ipywidgets", "diffusers")
    code = f"import sys, unet_lessons; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def write_idx(path, array: np.ndarray, magic: int | None = None, truncate: int = 0) -> None:
    """A gzipped IDX file of unsigned bytes, as Fashion-MNIST's release has them."""
    header = (magic or (2049 if array.ndim == 1 else 2051)).to_bytes(4, "big")
    header += b"".join(size.to_bytes(4, "big") for size in array.shape)
    body = array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as file:
        file.write(header + body[:len(body) - truncate])


def fake_test_split(folder, count=10_000, images_magic=None, truncate=0):
    rng = np.random.default_rng(0)
    pixels, labels = rng.integers(0, 256, (count, 28, 28)), np.arange(count) % 10
    write_idx(folder / "t10k-images-idx3-ubyte.gz", pixels, images_magic, truncate)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return pixels, labels


def test_load_fashion_mnist_reads_the_idx_files_exactly(tmp_path):
    pixels, labels = fake_test_split(tmp_path)
    got_pixels, got_labels = load_fashion_mnist("test", root=tmp_path)
    assert got_pixels.dtype == torch.uint8 and got_pixels.shape == (10_000, 28, 28)
    assert np.array_equal(got_pixels.numpy(), pixels) and np.array_equal(got_labels.numpy(), labels)
    assert got_labels.dtype == torch.int64


def test_load_fashion_mnist_takes_its_folder_from_the_environment(tmp_path, monkeypatch):
    fake_test_split(tmp_path)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    assert load_fashion_mnist("test")[0].shape == (10_000, 28, 28)


@pytest.mark.parametrize("damage, message", [
    ({"images_magic": 2049}, "not an IDX file of 3-d"),
    ({"truncate": 5}, "truncated or damaged"),
    ({"count": 9_999}, "expected 10000 images"),
])
def test_load_fashion_mnist_refuses_damaged_files(tmp_path, damage, message):
    fake_test_split(tmp_path, **damage)
    with pytest.raises(ValueError, match=message):
        load_fashion_mnist("test", root=tmp_path)


def test_load_fashion_mnist_says_how_to_get_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist.*FASHION_MNIST_DIR"):
        load_fashion_mnist("train", root=tmp_path)
    with pytest.raises(ValueError, match="split='validation'"):
        load_fashion_mnist("validation", root=tmp_path)


def test_to_model_images_scales_and_pads_with_background():
    pixels = torch.full((2, 28, 28), 255, dtype=torch.uint8)
    pixels[1] = 0
    images = to_model_images(pixels)
    assert images.shape == (2, 1, 32, 32)
    assert torch.equal(images[0, 0, 2:30, 2:30], torch.ones(28, 28))  # white -> 1
    assert torch.equal(images[1], -torch.ones(1, 32, 32))  # black and the margin -> -1
    assert images[0, 0, :2].eq(-1).all() and images[0, 0, :, 30:].eq(-1).all()
    with pytest.raises(ValueError, match="uint8"):
        to_model_images(pixels.float())
    assert to_model_images(pixels, size=30).shape == (2, 1, 30, 30)
    for size in (31, 26):  # an odd margin; smaller than the images
        with pytest.raises(ValueError, match=f"size={size}"):
            to_model_images(pixels, size=size)


@pytest.mark.skipif(not (DEBIAN_FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file()
                    and os.environ.get("UNET_LESSONS_REQUIRE_DATA") != "1",
                    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
def test_the_installed_fashion_mnist_is_the_release():
    # .ci/run installs it and sets UNET_LESSONS_REQUIRE_DATA=1, so there this test cannot be skipped.
    for split, count in (("train", 60_000), ("test", 10_000)):
        pixels, labels = load_fashion_mnist(split, root=DEBIAN_FASHION_MNIST_DIR)
        assert pixels.shape == (count, 28, 28)
        assert labels.bincount().tolist() == [count // 10] * 10  # balanced classes
        assert pixels[:, 0, 0].float().mean() < 5  # corners are background
    assert labels[:5].tolist() == [9, 2, 1, 1, 6]  # the test split begins: ankle boot, pullover, trouser, ...


def test_pad_to_keeps_the_image_in_the_middle_on_background():
    padded = pad_to(torch.ones(1, 1, 28, 28), 32)
    assert padded.shape == (1, 1, 32, 32) and padded[0, 0, 2:30, 2:30].eq(1).all() and padded.sum() == 28 * 28 - (32 * 32 - 28 * 28)
    with pytest.raises(ValueError, match="size=31"):
        pad_to(torch.ones(1, 1, 28, 28), 31)


def test_crop_to_undoes_pad_to():
    images = torch.randn(3, 1, 28, 28)
    assert torch.equal(crop_to(pad_to(images, 32), 28), images)
    with pytest.raises(ValueError, match="size=27"):
        crop_to(images, 27)
