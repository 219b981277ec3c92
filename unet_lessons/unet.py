"""The complete U-Net: time embedding, encoder, bottleneck, decoder, skip connections.

Taught in ``notebooks/04_assembly.ipynb``.

Data flow (``topology="chapter"``)::

    t ──> time_embed ──────────────────────────── time_emb (to every ResBlock) ─────────┐
    x ──> init_conv ──> encoder ─────────> bottleneck ─────────> decoder ──> out_norm, SiLU, out_conv
                        │ level 0 ──skip──────────────────────────> level 0 │
                        │ level 1 ──skip──────────────────────> level 1     │
                        ...   (each ResBlock's output is saved; the decoder takes them back last-first)

With ``num_classes`` set, a class embedding turns a label y into a vector the size of ``time_emb`` and adds
it there, so every ResBlock learns both which step and which class it is denoising (``forward(x, t, y)``).

``topology="ddpm"`` is the exact U-Net of Ho et al. 2020: ``init_conv`` and every Downsample also push a
skip, the last level does not downsample, and each decoder level has ``num_res_blocks + 1`` ResBlocks.
"""

import torch
import torch.nn.functional as F
from torch import nn

from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import UNetConfig, as_config
from unet_lessons.resblock import Downsample, ResBlock, Upsample
from unet_lessons.time_embedding import TimeEmbedding


DDPM_NORM_EPS = 1e-6  # the GroupNorm epsilon of the DDPM paper's code (TensorFlow's group_norm default)


def _norm_eps(config: UNetConfig) -> float:
    """GroupNorm epsilon: PyTorch's default (1e-5) for the chapter, ``DDPM_NORM_EPS`` for the DDPM topology."""
    return DDPM_NORM_EPS if config.topology == "ddpm" else 1e-5


def _attention_or_identity(config: UNetConfig, channels: int, resolution: int) -> nn.Module:
    if resolution in config.attention_resolutions:
        return AttentionBlock(channels, config.num_heads, config.groups, eps=_norm_eps(config))
    return nn.Identity()


class EncoderLevel(nn.Module):
    """One encoder resolution: ``num_res_blocks`` x (ResBlock [+ Attention]), then maybe a Downsample.

    The first ResBlock changes the channels to the level's width; every ResBlock(+attention) output is
    saved as a skip. In the DDPM topology the Downsample output is saved too.
    """

    def __init__(self, config: UNetConfig, level: int, in_channels: int, downsample: bool):
        super().__init__()
        out_channels = config.level_channels[level]
        resolution = config.level_resolutions[level]
        self.res_blocks = nn.ModuleList([
            ResBlock(in_channels if i == 0 else out_channels, out_channels, config.time_emb_dim,
                     config.dropout, config.groups, eps=_norm_eps(config))
            for i in range(config.num_res_blocks)
        ])
        self.attn_blocks = nn.ModuleList([
            _attention_or_identity(config, out_channels, resolution) for _ in range(config.num_res_blocks)
        ])
        padding = "tf_same" if config.topology == "ddpm" else "symmetric"
        self.downsample = Downsample(out_channels, padding) if downsample else None
        self.save_downsample = config.topology == "ddpm"

    def forward(self, h: torch.Tensor, time_emb: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """h: [B, C_in, H, W] -> [B, C_level, H/2, W/2] (or H, W without a Downsample); appends to skips."""
        for res_block, attn in zip(self.res_blocks, self.attn_blocks):
            h = attn(res_block(h, time_emb))  # [B, C, H, W] -> [B, C_level, H, W]
            skips.append(h)
        if self.downsample is not None:
            h = self.downsample(h)  # [B, C_level, H, W] -> [B, C_level, H/2, W/2]
            if self.save_downsample:
                skips.append(h)
        return h


class Encoder(nn.Module):
    """The descending half: one :class:`EncoderLevel` per entry of ``channel_mults``.

    ``skip_channels`` lists the channel count of every skip it saves, in the order it saves them; the
    decoder reads it backwards to size its ResBlocks.
    """

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.save_input = config.topology == "ddpm"  # DDPM also keeps init_conv's output
        self.skip_channels = [config.base_channels] if self.save_input else []
        self.levels = nn.ModuleList()
        channels = config.base_channels
        last = len(config.channel_mults) - 1
        for level in range(len(config.channel_mults)):
            downsample = config.topology == "chapter" or level < last
            self.levels.append(EncoderLevel(config, level, channels, downsample))
            channels = config.level_channels[level]
            self.skip_channels += [channels] * config.num_res_blocks
            if downsample and config.topology == "ddpm":
                self.skip_channels.append(channels)
        self.out_channels = channels

    def forward(self, h: torch.Tensor, time_emb: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """h: [B, base, H, W] -> (h at the bottleneck resolution, the list of saved skips)."""
        skips = [h] if self.save_input else []
        for level in self.levels:
            h = level(h, time_emb, skips)
        return h, skips


class Bottleneck(nn.Module):
    """The lowest resolution: ResBlock, AttentionBlock, ResBlock; channels unchanged."""

    def __init__(self, config: UNetConfig):
        super().__init__()
        channels = config.level_channels[-1]
        eps = _norm_eps(config)
        self.res_block1 = ResBlock(channels, channels, config.time_emb_dim, config.dropout, config.groups, eps)
        self.attn = AttentionBlock(channels, config.num_heads, config.groups, eps)
        self.res_block2 = ResBlock(channels, channels, config.time_emb_dim, config.dropout, config.groups, eps)

    def forward(self, h: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        """h: [B, C, H, W] -> [B, C, H, W]."""
        h = self.res_block1(h, time_emb)
        h = self.attn(h)
        return self.res_block2(h, time_emb)


class DecoderLevel(nn.Module):
    """One decoder resolution: ResBlocks that each first concatenate a skip, plus an Upsample.

    Chapter topology: Upsample first, then ``num_res_blocks`` ResBlocks. DDPM topology:
    ``num_res_blocks + 1`` ResBlocks, then an Upsample (none at the top level).
    """

    def __init__(self, config: UNetConfig, level: int, in_channels: int, skip_channels: list[int]):
        super().__init__()
        out_channels = config.level_channels[level]
        resolution = config.level_resolutions[level]
        self.upsample_first = config.topology == "chapter"
        has_upsample = self.upsample_first or level > 0
        self.upsample = Upsample(in_channels if self.upsample_first else out_channels) if has_upsample else None
        res_blocks = []
        channels = in_channels
        for skip in skip_channels:  # in the order this level consumes them
            # in + skip channels, because we concatenate the encoder's output on the channel axis
            res_blocks.append(ResBlock(channels + skip, out_channels, config.time_emb_dim,
                                       config.dropout, config.groups, eps=_norm_eps(config)))
            channels = out_channels
        self.res_blocks = nn.ModuleList(res_blocks)
        self.attn_blocks = nn.ModuleList([
            _attention_or_identity(config, out_channels, resolution) for _ in skip_channels
        ])

    def forward(self, h: torch.Tensor, time_emb: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """Consumes ``len(res_blocks)`` skips from the end of ``skips``."""
        if self.upsample is not None and self.upsample_first:
            h = self.upsample(h)  # [B, C, H, W] -> [B, C, 2H, 2W]
        for res_block, attn in zip(self.res_blocks, self.attn_blocks):
            h = torch.cat([h, skips.pop()], dim=1)  # [B, C_h, H, W] + [B, C_skip, H, W] -> [B, C_h + C_skip, H, W]
            h = attn(res_block(h, time_emb))
        if self.upsample is not None and not self.upsample_first:
            h = self.upsample(h)
        return h


class Decoder(nn.Module):
    """The ascending half: consumes every skip, last first, from the deepest level up to full resolution.

    ``levels[i]`` works at the resolution of the encoder's ``levels[i]`` (0 = full resolution), the
    numbering of the DDPM code's PyTorch port and of latent diffusion, so the skips of a level go from
    ``encoder.levels.i`` to ``decoder.levels.i``; ``forward`` runs them deepest first. (diffusers' ``up_blocks``
    are stored in running order instead: ``up_blocks.0`` is the deepest.)

    Args:
        config: the model configuration.
        skip_channels: the encoder's ``skip_channels`` (in the order they were saved).
    """

    def __init__(self, config: UNetConfig, skip_channels: list[int]):
        super().__init__()
        per_level = config.num_res_blocks + (1 if config.topology == "ddpm" else 0)
        remaining = list(skip_channels)
        built = {}
        channels = config.level_channels[-1]
        for level in reversed(range(len(config.channel_mults))):  # deepest first, as the skips come back
            consumed = [remaining.pop() for _ in range(per_level)]
            built[level] = DecoderLevel(config, level, channels, consumed)
            channels = config.level_channels[level]
        assert not remaining, "every skip must have a ResBlock that consumes it"
        self.levels = nn.ModuleList(built[level] for level in range(len(config.channel_mults)))
        self.out_channels = channels

    def forward(self, h: torch.Tensor, skips: list[torch.Tensor], time_emb: torch.Tensor) -> torch.Tensor:
        """h: [B, C_deep, h, w] -> [B, base * channel_mults[0], H, W]; empties ``skips``."""
        for level in reversed(self.levels):  # deepest first
            h = level(h, time_emb, skips)
        return h


class UNet(nn.Module):
    """The noise-prediction U-Net of a diffusion model.

    Build it from a config, from fields, or both: ``UNet(PRESETS["ddpm"].config)``,
    ``UNet(image_size=32, base_channels=64)``, ``UNet(config, dropout=0.1)``. The configuration is
    validated before any layer is built.

    Args:
        config: a :class:`UNetConfig` (default: the chapter's test configuration), a preset or its name.
        **fields: any :class:`UNetConfig` field, overriding ``config``.
    """

    def __init__(self, config: UNetConfig | None = None, **fields):
        super().__init__()
        config = as_config(config) if config is not None else UNetConfig()
        unknown = set(fields) - set(UNetConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(f"UNet: unknown field(s) {sorted(unknown)}; the fields are those of UNetConfig.")
        self.config = config.replace(**fields).validate()
        config = self.config

        self.time_embed = TimeEmbedding(config.base_channels, freq_shift=1 if config.topology == "ddpm" else 0)
        # One learned vector per class, plus a last row for "no class" (label num_classes).
        self.class_embed = (nn.Embedding(config.num_classes + 1, config.time_emb_dim)
                            if config.num_classes is not None else None)
        self.init_conv = nn.Conv2d(config.in_channels, config.base_channels, kernel_size=3, padding=1)
        self.encoder = Encoder(config)
        self.bottleneck = Bottleneck(config)
        self.decoder = Decoder(config, self.encoder.skip_channels)
        self.out_norm = nn.GroupNorm(config.groups, self.decoder.out_channels, eps=_norm_eps(config))
        self.out_conv = nn.Conv2d(self.decoder.out_channels, config.out_channels, kernel_size=3, padding=1)

    @property
    def null_class(self) -> int | None:
        """The label that means "no class" (``num_classes``), or None for an unconditional model."""
        return self.config.num_classes

    def forward(self, x: torch.Tensor, t: torch.Tensor | int | float, y: torch.Tensor | None = None) -> torch.Tensor:
        """x: [batch, in_channels, image_size, image_size], t: [batch] timesteps >= 0, integer or float (or one
        number for the whole batch; the model does not know the schedule's length T, training and sampling check it),
        y: [batch] integer class labels (conditional models only; None or ``null_class`` means no class)
        -> predicted noise: [batch, out_channels, image_size, image_size]."""
        t = self._check_inputs(x, t)
        y = self.check_labels(y, x.shape[0], x.device)
        time_emb = self.time_embed(t)  # [B] -> [B, 4*base]
        if self.class_embed is not None:
            time_emb = time_emb + self.class_embed(y)  # [B] labels -> [B, 4*base], added to the time signal
        h = self.init_conv(x)  # [B, in, H, W] -> [B, base, H, W]
        h, skips = self.encoder(h, time_emb)  # -> [B, C_deep, H/2**L, W/2**L] and the saved skips
        h = self.bottleneck(h, time_emb)  # same shape
        h = self.decoder(h, skips, time_emb)  # -> [B, base * channel_mults[0], H, W], skips used up
        return self.out_conv(F.silu(self.out_norm(h)))  # -> [B, out_channels, H, W]

    def check_labels(self, y, batch: int, device: torch.device | str = "cpu") -> torch.Tensor | None:
        """Raise a readable ValueError for labels this model cannot use; return [batch] labels (None -> every
        image "no class" for a conditional model; None for an unconditional one)."""
        num_classes = self.config.num_classes
        if num_classes is None:
            if y is not None:
                raise ValueError("y: this UNet is unconditional (num_classes=None) and takes no labels; call "
                                 "model(x, t), or build a conditional one with UNet(config, num_classes=10).")
            return None
        if y is None:
            return torch.full((batch,), num_classes, device=device)  # every image: "no class"
        if not isinstance(y, torch.Tensor) or y.dtype.is_floating_point or y.dtype == torch.bool or y.is_complex():
            kind = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"y must be a tensor of integer class labels (torch.long), got {kind}; "
                             "e.g. torch.tensor([3, 7]) or labels.long().")
        if y.dim() != 1 or y.shape[0] != batch:
            raise ValueError(f"y must hold one label per image, shape [{batch}]; got {list(y.shape)}.")
        if y.device.type != "meta" and bool(((y < 0) | (y > num_classes)).any()):
            raise ValueError(f"y holds labels outside 0..{num_classes}: {sorted(set(y.tolist()))}; this UNet knows "
                             f"classes 0..{num_classes - 1}, and {num_classes} means no class.")
        return y

    def _check_inputs(self, x: torch.Tensor, t) -> torch.Tensor:
        """Raise a readable ValueError for a badly shaped or typed x or t; return t as a [batch] tensor."""
        config = self.config
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            shape = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"x must be a 4-D tensor [batch, channels, height, width]; got {shape}. "
                "For a single image use x[None] (or x.unsqueeze(0))."
            )
        weights = self.init_conv.weight.dtype
        if not x.dtype.is_floating_point:
            raise ValueError(f"x must be a float tensor (images scaled to [-1, 1], or their noisy x_t); got "
                             f"{x.dtype}. For uint8 pixels use to_model_images(pixels) or pixels.float() / 127.5 - 1.")
        if x.dtype != weights and not torch.is_autocast_enabled(x.device.type):
            raise ValueError(f"x is {x.dtype} but this UNet's weights are {weights}; convert the input with "
                             f"x.to({weights}) (or the model with model.to({x.dtype})).")
        batch, channels, height, width = x.shape
        if channels != config.in_channels:
            raise ValueError(
                f"x has {channels} channels but this UNet has in_channels={config.in_channels}; "
                "pass images with that many channels or build the UNet with a matching in_channels."
            )
        if (height, width) != (config.image_size, config.image_size):
            raise ValueError(
                f"x is {height}x{width} but this UNet was built for image_size={config.image_size}; "
                f"resize the input to {config.image_size}x{config.image_size} or build a UNet with that image_size."
            )
        given = t
        if t is not None and not isinstance(t, (str, bool, torch.Tensor)):
            try:
                t = torch.as_tensor(t, device=x.device)  # a number, or a list of numbers
            except (TypeError, ValueError, RuntimeError):
                pass
        if not isinstance(t, torch.Tensor) or t.dtype == torch.bool or t.is_complex():
            kind = t.dtype if isinstance(t, torch.Tensor) else f"{type(given).__name__} {given!r}"[:60]
            raise ValueError(f"t must be timesteps, a number tensor [{batch}] (or one int or float); got {kind}. "
                             "e.g. model(x, torch.tensor([500])) or model(x, 500).")
        if t.dim() == 0:
            t = t.expand(batch)  # one timestep for the whole batch
        if t.dim() != 1 or t.shape[0] != batch:
            raise ValueError(
                f"t must be one timestep per image, shape [{batch}] (or a single number); got {list(t.shape)}."
            )
        if t.device.type != "meta" and not bool(torch.isfinite(t).all() & (t >= 0).all()):
            raise ValueError(f"t holds negative or non-finite timesteps {t.tolist()[:8]}; the UNet takes any t >= 0 "
                             "(the time embedding is defined for every real t). The schedule's range 0..T-1 is "
                             "checked where a schedule is used: q_sample, predict_x0 and the samplers.")
        return t
