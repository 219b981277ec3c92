"""A real photo to push through the blocks, with no download: matplotlib ships Grace Hopper's portrait.

Used by the lessons that show feature maps (01, 02, 03).
"""

import numpy as np
import torch
import torch.nn.functional as F


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
