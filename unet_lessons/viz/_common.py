"""What every explorer needs: a config, a model or a trace turned into rows, cached; numbers formatted alike.

Traces and meta models are cached per configuration (``UNetConfig`` is frozen and hashable), so an explorer
that redraws three figures for one configuration builds and traces its model once, and revisiting a
configuration is free.
"""

import itertools
from collections.abc import Iterable, Sequence
from functools import lru_cache

from unet_lessons.analysis import TraceRow, meta_unet, trace_shapes
from unet_lessons.configs import UNetConfig, as_config
from unet_lessons.recipe import NoisePredictor
from unet_lessons.training import NoiseSchedule, check_images
from unet_lessons.unet import UNet


@lru_cache(maxsize=64)
def cached_trace(config: UNetConfig) -> tuple[TraceRow, ...]:
    """:func:`unet_lessons.analysis.trace_shapes` of a (valid) config, computed once per config.

    It traces :func:`meta_model`, so the parameter counts of the same config reuse the model it builds.
    """
    return tuple(trace_shapes(meta_model(config)))


@lru_cache(maxsize=64)
def meta_model(config: UNetConfig) -> UNet:
    """The model of a (valid) config built on the meta device (no weights), once per config. Do not modify it."""
    return meta_unet(config)


def as_trace(source: UNetConfig | UNet | Iterable[TraceRow]) -> tuple[TraceRow, ...]:
    """The trace rows of a config, a model (traced through its config) or an existing list of rows."""
    if isinstance(source, (UNetConfig, UNet)):
        return cached_trace(as_config(source, "config_or_model"))
    rows = tuple(source)
    if not rows or not all(isinstance(row, TraceRow) for row in rows):
        raise ValueError(
            "expected a UNetConfig, a UNet or the list of TraceRow from trace_shapes(); "
            f"got {type(source).__name__} whose items are not all TraceRow."
        )
    return rows


def check_one_image(image, argument: str, channels: int, size: int | None = None) -> None:
    """A ``ValueError`` naming ``argument`` unless ``image`` is one float image [1, channels, H, W] (H = W = ``size``
    if given)."""
    check_images(image, argument)
    height, width = (size, size) if size is not None else image.shape[2:]
    if list(image.shape) != [1, channels, height, width]:
        hint = f" For the first image of a batch use {argument}[:1]." if image.shape[0] != 1 else ""
        raise ValueError(f"{argument} must be one image [1, {channels}, {size or 'H'}, {size or 'W'}]; got "
                         f"{list(image.shape)}.{hint}")


def check_unet(model, argument: str = "model") -> None:
    """A ``ValueError`` naming ``argument`` unless ``model`` is a :class:`UNet`, or a UNet seen as a noise
    predictor (lesson 09's :class:`unet_lessons.recipe.NoisePredictor`, which lesson 08's samplers take)."""
    if isinstance(model, NoisePredictor):
        model = model.model
    if not isinstance(model, UNet):
        hint = (" (a configuration: build the model with UNet(config))" if isinstance(model, UNetConfig) else
                " (an EMA wrapper: pass its .module)" if isinstance(getattr(model, "module", None), UNet) else "")
        raise ValueError(f"{argument}: expected a UNet, got {type(model).__name__}{hint}.")


def check_schedule(schedule) -> None:
    """A ``ValueError`` unless ``schedule`` is a :class:`NoiseSchedule`."""
    if not isinstance(schedule, NoiseSchedule):
        raise ValueError(f"schedule: expected a NoiseSchedule, e.g. NoiseSchedule.linear() (the one the model was "
                         f"trained with); got {type(schedule).__name__}.")


def format_shape(shape: tuple[int, ...]) -> str:
    """(1, 128, 64, 64) -> '[1, 128, 64, 64]'."""
    return "[" + ", ".join(str(size) for size in shape) + "]"


def format_count(count: int) -> str:
    """1234567 -> '1,234,567'."""
    return f"{count:,}"


def format_short(count: int) -> str:
    """A count for a bar label: 66615043 -> '66.6M', 328704 -> '329k', 3584 -> '3.58k', 256 -> '256'."""
    if count >= 1e6:
        return f"{count / 1e6:.1f}M"
    return f"{count / 1e3:.3g}k" if count >= 1e3 else str(count)


def format_percent(part: int, total: int) -> str:
    """Share with one decimal; a non-zero share too small to show is '<0.1%', not '0.0%'."""
    share = 100 * part / total
    return "<0.1%" if 0 < share < 0.05 else f"{share:.1f}%"


def format_skip(row: TraceRow) -> str:
    """A block's part in the skips: '+ #7' for a decoder ResBlock concatenating the output of row 7, 'saved' for
    a row whose output the encoder keeps, '' otherwise."""
    if row.skip_from is not None:
        return f"+ #{row.skip_from}"
    return "saved" if row.saves_skip else ""


def format_resolution(resolution: int) -> str:
    """64 -> '64x64'."""
    return f"{resolution}x{resolution}"


def is_spatial(row: TraceRow) -> bool:
    """True for blocks whose output is an image-like [B, C, H, W] (all but the time embedding)."""
    return len(row.out_shape) == 4


def rounded(values, digits: int = 4) -> list[float]:
    """Measured values to ``digits`` significant digits, for a figure's data.

    A figure stored in a notebook is compared by nbval; the last bits of a float32 measurement can differ
    between CPUs, four digits do not (and are all a plot can show).
    """
    return [float(f"{float(value):.{digits}g}") for value in values]


def format_value(value: float) -> str:
    """A measured value for a text alternative, three significant digits and always a decimal part, so a
    comparison of stored notebooks reads it as a decimal: 1.0 -> '1.00', 0.03614 -> '0.0361',
    628.32 -> '628.3', 62832 -> '6.28e+04'."""
    text = f"{value:#.3g}"
    return f"{value:.1f}" if text.endswith(".") else text


def format_image_size(images) -> str:
    """The height and width of an image tensor [..., H, W]: '64x64'."""
    return f"{images.shape[-2]}x{images.shape[-1]}"


def thinned(positions: Sequence[int], limit: int = 50) -> list[int]:
    """The positions (steps, timesteps) a data table keeps of a long curve: the first, the last and every
    multiple of the smallest of 1, 2, 5, 10, 20, 50, ... that leaves at most about ``limit`` rows."""
    candidates = (m * 10**e for e in itertools.count() for m in (1, 2, 5))
    every = next(k for k in candidates if sum(p % k == 0 for p in positions) <= limit)
    return sorted({positions[0], positions[-1], *(p for p in positions if p % every == 0)})


def titled(title: str | None) -> str:
    """The last sentence of a text alternative, the figure's own title: ' Titled “16 images”.' ('' for none)."""
    return f" Titled “{title}”." if title else ""


def counted(count: int, noun: str) -> str:
    """A count and its noun, plural unless it is one: (1, 'row') -> '1 row', (5, 'row') -> '5 rows'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
