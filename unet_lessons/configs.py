"""Model configurations: one frozen dataclass, its validation, and the presets from ~8M to ~114M.

Taught in ``notebooks/05_configs.ipynb``.

``UNetConfig`` holds exactly the arguments of :class:`unet_lessons.unet.UNet`; ``validate()`` checks
them all before a single layer is built, and says which field is wrong and how to fix it.
"""

import dataclasses
from dataclasses import dataclass

from unet_lessons.resblock import groups_that_fit

TOPOLOGIES = ("chapter", "ddpm")


@dataclass(frozen=True)
class UNetConfig:
    """Everything that fixes a UNet's architecture.

    Args:
        image_size: height and width of the (square) input, in pixels.
        in_channels: channels of the input image (3 for RGB).
        out_channels: channels of the output (3: the predicted noise has the image's shape).
        base_channels: channels after ``init_conv``; level ``i`` has ``base_channels * channel_mults[i]``.
        channel_mults: one multiplier per resolution level, from full resolution down.
        num_res_blocks: ResBlocks per encoder level.
        attention_resolutions: resolutions (in pixels, e.g. 16 for 16x16) that get self-attention.
        dropout: dropout probability inside every ResBlock, in [0, 1).
        num_heads: attention heads; must divide the channels at every attention resolution.
        groups: GroupNorm groups; must divide every channel count.
        topology: ``"chapter"`` (the chapter's hourglass) or ``"ddpm"`` (Ho et al. 2020's exact U-Net:
            extra skips, no Downsample after the last level, ``num_res_blocks + 1`` decoder blocks).
        num_classes: ``None`` for an unconditional model; else the number of class labels, and the model
            gets a class embedding of ``num_classes + 1`` rows (the last, index ``num_classes``, means
            "no class", which classifier-free guidance needs) added to the time embedding.
    """

    image_size: int = 64
    in_channels: int = 3
    out_channels: int = 3
    base_channels: int = 128
    channel_mults: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (16, 8)
    dropout: float = 0.0
    num_heads: int = 1
    groups: int = 32
    topology: str = "chapter"
    num_classes: int | None = None

    def __post_init__(self):
        # Lists are accepted for convenience and stored as tuples, so a config stays hashable.
        for name in ("channel_mults", "attention_resolutions"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    # Derived quantities, used by the model and the explorers.
    @property
    def level_channels(self) -> tuple[int, ...]:
        """Channels of each encoder level, e.g. (128, 256, 256, 512)."""
        return tuple(self.base_channels * m for m in self.channel_mults)

    @property
    def level_resolutions(self) -> tuple[int, ...]:
        """Resolution of each encoder level, e.g. (64, 32, 16, 8)."""
        return tuple(self.image_size // 2**i for i in range(len(self.channel_mults)))

    @property
    def bottleneck_resolution(self) -> int:
        """Chapter: below the last level (every level downsamples); DDPM: at the last level."""
        downsamples = len(self.channel_mults) - (1 if self.topology == "ddpm" else 0)
        return self.image_size // 2**downsamples

    @property
    def time_emb_dim(self) -> int:
        return 4 * self.base_channels

    def replace(self, **changes) -> "UNetConfig":
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> "UNetConfig":
        """Raise ``ValueError`` naming the field, the bad value and the fix; return self if valid."""
        _check_types(self)
        for name in ("image_size", "in_channels", "out_channels", "base_channels", "num_res_blocks",
                     "num_heads", "groups"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{name}={value}: must be a positive integer.")
        if self.topology not in TOPOLOGIES:
            raise ValueError(f"topology={self.topology!r}: use one of {TOPOLOGIES}.")
        if len(self.channel_mults) == 0:
            raise ValueError("channel_mults=(): give at least one level, e.g. channel_mults=(1, 2, 2, 4).")
        for i, mult in enumerate(self.channel_mults):
            if mult <= 0:
                raise ValueError(
                    f"channel_mults={self.channel_mults}: multiplier {mult} at position {i} must be a "
                    "positive integer."
                )
        if self.num_classes is not None and self.num_classes < 1:
            raise ValueError(f"num_classes={self.num_classes}: give the number of labels (e.g. 10), or None "
                             "for an unconditional model.")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout={self.dropout}: must be in [0, 1), e.g. 0.0 or 0.1.")
        downsamples = len(self.channel_mults) - (1 if self.topology == "ddpm" else 0)
        if self.image_size % 2**downsamples != 0:
            raise ValueError(
                f"image_size={self.image_size} is not divisible by 2**{downsamples}={2**downsamples}: "
                f"{downsamples} Downsample steps need an image size that halves cleanly each time. "
                f"Use a multiple of {2**downsamples} or fewer channel_mults."
            )
        for name, channels in [("base_channels", self.base_channels)] + [
            (f"base_channels * channel_mults[{i}]", c) for i, c in enumerate(self.level_channels)
        ]:
            if channels % self.groups != 0:
                raise ValueError(
                    f"{name}={channels} is not divisible by groups={self.groups}: GroupNorm splits the "
                    f"channels into equal groups. Make base_channels a multiple of {self.groups}, or use "
                    f"groups={groups_that_fit(self.groups, self.base_channels, *self.level_channels)}, which "
                    "divides every level's channels."
                )
        attention_levels = set(self.level_resolutions) | {self.bottleneck_resolution}
        for res in self.attention_resolutions:
            if res not in attention_levels:
                raise ValueError(
                    f"attention_resolutions={self.attention_resolutions}: no level runs at {res}x{res}. "
                    f"This configuration's resolutions are {sorted(attention_levels, reverse=True)}."
                )
        attended = [c for c, r in zip(self.level_channels, self.level_resolutions)
                    if r in self.attention_resolutions] + [self.level_channels[-1]]  # + bottleneck
        for channels in attended:
            if channels % self.num_heads != 0:
                raise ValueError(
                    f"num_heads={self.num_heads} does not divide {channels} channels at an attention "
                    "block; choose num_heads that divides every attended channel count (1 always works)."
                )
        check_tensor_sizes(self)
        return self


def _check_types(config: UNetConfig) -> None:
    """Wrong types fail here with a readable message, instead of deep inside torch."""
    int_fields = ("image_size", "in_channels", "out_channels", "base_channels", "num_res_blocks",
                  "num_heads", "groups")
    for name in int_fields:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}={value!r}: must be an int, got {type(value).__name__}.")
    for name, example in (("channel_mults", "(1, 2, 2, 4)"), ("attention_resolutions", "(16, 8)")):
        value = getattr(config, name)
        if not isinstance(value, tuple):
            if name == "attention_resolutions" and isinstance(value, int) and not isinstance(value, bool):
                example = f"({value},)"  # the usual slip: (16) is just 16 in Python; a one-entry tuple needs a comma
            raise ValueError(f"{name}={value!r}: must be a tuple of ints such as {example}, got "
                             f"{type(value).__name__}.")
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValueError(f"{name}={value!r}: every entry must be an int, got {item!r}.")
    if config.num_classes is not None and (isinstance(config.num_classes, bool)
                                           or not isinstance(config.num_classes, int)):
        raise ValueError(f"num_classes={config.num_classes!r}: must be an int (the number of labels) or None, "
                         f"got {type(config.num_classes).__name__}.")
    if isinstance(config.dropout, bool) or not isinstance(config.dropout, (int, float)):
        raise ValueError(f"dropout={config.dropout!r}: must be a float in [0, 1).")
    if not isinstance(config.topology, str):
        raise ValueError(f"topology={config.topology!r}: must be a string, one of {TOPOLOGIES}.")


# PyTorch counts a tensor's bytes in a signed 64-bit integer, even on the meta device: a float32 tensor holds
# fewer than 2**61 numbers.
MAX_TENSOR_ELEMENTS = 2**61


def check_tensor_sizes(config: UNetConfig, batch_size: int = 1) -> None:
    """A ValueError naming the field to lower when a forward pass of ``batch_size`` images would need a tensor
    PyTorch cannot hold: a weight (the widest conv reads at most twice the widest level's channels), an
    activation at full resolution (at most three times the widest level's channels, attention's q, k, v), an
    attention matrix (one row and one column per pixel, per head and image) or the class embedding."""
    widest = max(config.level_channels)
    largest_attention = max({*config.attention_resolutions, config.bottleneck_resolution})
    batch = " or batch_size" if batch_size > 1 else ""
    sizes = [
        (9 * 2 * widest * widest, "base_channels or channel_mults", "the widest convolution's weight"),
        (batch_size * 3 * widest * config.image_size**2, "image_size" + batch, "a full-resolution activation"),
        (batch_size * config.num_heads * largest_attention**4, "image_size or attention_resolutions" + batch,
         f"the attention matrix at {largest_attention}x{largest_attention}"),
        ((config.num_classes or 0) * 4 * config.base_channels, "num_classes", "the class embedding"),
    ]
    for elements, field, tensor in sizes:
        if elements >= MAX_TENSOR_ELEMENTS:
            raise ValueError(f"{tensor} would hold about {elements:.1e} numbers, more than a PyTorch tensor can "
                             f"(2**61 float32 numbers), even on the meta device: lower {field}.")


def as_config(value, argument: str = "config") -> "UNetConfig":
    """The validated configuration ``value`` names: a :class:`UNetConfig`, a :class:`Preset` or its name
    (``"light"``), or a model (its ``config``). Anything else is a ``ValueError`` naming ``argument``."""
    if isinstance(value, str):
        if value not in PRESETS:
            raise ValueError(f"{argument}={value!r} is not a preset name; choose one of {sorted(PRESETS)} "
                             "(e.g. UNet('light')), or pass a UNetConfig.")
        return PRESETS[value].config.validate()
    config = getattr(value, "config", value)  # a Preset or a UNet carries its configuration
    if not isinstance(config, UNetConfig):
        raise ValueError(f"{argument}: expected a UNetConfig, a preset or its name (e.g. PRESETS['light'] or "
                         f"'light'), or a UNet; got {type(value).__name__}.")
    return config.validate()


@dataclass(frozen=True)
class Preset:
    """A named configuration with a one-line description and the size the chapter gives it."""

    config: UNetConfig
    description: str
    chapter_label: str


# The course model's architecture (lesson 08's shipped model, and the one a learner trains in lesson 09): 606,065
# parameters with 10 classes; Fashion-MNIST's 28x28 images padded to 32x32 so three levels halve cleanly.
COURSE_CONFIG = UNetConfig(image_size=32, in_channels=1, out_channels=1, base_channels=16, channel_mults=(1, 2, 4),
                           num_res_blocks=1, attention_resolutions=(8,), groups=8, num_classes=10)

PRESETS: dict[str, Preset] = {
    "light": Preset(
        UNetConfig(64, base_channels=64, channel_mults=(1, 2, 2, 2), attention_resolutions=(16,)),
        "Small and quick: base 64, four levels, attention at 16x16.",
        "~8M",
    ),
    "ddpm": Preset(
        UNetConfig(64, base_channels=128, channel_mults=(1, 2, 2, 2), attention_resolutions=(16,)),
        "The chapter's DDPM-like model: base 128, four levels, attention at 16x16.",
        "~35M",
    ),
    "improved": Preset(
        UNetConfig(64, base_channels=128, channel_mults=(1, 2, 3, 4), num_res_blocks=3,
                   attention_resolutions=(16, 8)),
        "Improved-DDPM-like: wider deep levels, three ResBlocks per level, attention at 16 and 8.",
        "~113M",
    ),
    "highres": Preset(
        UNetConfig(256, base_channels=128, channel_mults=(1, 1, 2, 2, 4, 4), attention_resolutions=(16,)),
        "256x256 images: six levels down to 8x8, attention at 16x16.",
        "~100M+",
    ),
    "chapter_example": Preset(
        UNetConfig(64, base_channels=128, channel_mults=(1, 2, 2, 4), attention_resolutions=(16, 8)),
        "The chapter's test configuration (the UNetConfig defaults).",
        "~35M",
    ),
    "tiny": Preset(
        UNetConfig(32, base_channels=16, channel_mults=(1, 2, 2), num_res_blocks=1, attention_resolutions=(8,),
                   groups=8),
        "Lesson 07's model: 32x32, base 16, three levels, attention at 8x8; trains on a laptop CPU in minutes.",
        "0.23M (course)",
    ),
    "ddpm_cifar10": Preset(
        UNetConfig(32, base_channels=128, channel_mults=(1, 2, 2, 2), attention_resolutions=(16,), dropout=0.1,
                   topology="ddpm"),
        "Ho et al. 2020's CIFAR-10 model, exactly: 32x32, base 128, attention at 16x16, dropout 0.1.",
        "35.7M (paper)",
    ),
    "ddpm_256": Preset(
        UNetConfig(256, base_channels=128, channel_mults=(1, 1, 2, 2, 4, 4), attention_resolutions=(16,),
                   topology="ddpm"),
        "Ho et al. 2020's 256x256 model (LSUN, CelebA-HQ), exactly: six levels, attention at 16x16.",
        "114M (paper)",
    ),
}
