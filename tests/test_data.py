import subprocess
import sys

import matplotlib
import pytest
import torch

from unet_lessons.data import sample_photo, to_displayable
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
    with pytest.raises(ValueError, match="one image"):
        feature_map_grid(torch.randn(2, 4, 8, 8))


def test_importing_the_package_leaves_the_plotting_libraries_unloaded():
    # matplotlib is imported when sample_photo needs it: `import unet_lessons` costs little beyond torch.
    heavy = ("matplotlib", "plotly", "ipywidgets", "diffusers")
    code = f"import sys, unet_lessons; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
