"""Our DDPM U-Net and Hugging Face diffusers' ``UNet2DModel``: same architecture, same weights, same numbers.

Taught in ``notebooks/05_configs.ipynb``.

diffusers is not needed by the lessons: it is imported only inside the functions that talk to it
(``pip install diffusers==0.42.1`` for those). :func:`config_from_diffusers` and
:func:`load_diffusers_weights` read a diffusers model, whatever it was built with.

Where each diffusers module lives in our :class:`~unet_lessons.unet.UNet` (``topology="ddpm"``)::

    diffusers UNet2DModel                       ours
    ------------------------------------------  ------------------------------------------
    time_embedding.linear_1, .linear_2          time_embed.linear1, .linear2
    conv_in                                     init_conv
    down_blocks.{i}.resnets.{j}                 encoder.levels.{i}.res_blocks.{j}
    down_blocks.{i}.attentions.{j}              encoder.levels.{i}.attn_blocks.{j}
    down_blocks.{i}.downsamplers.0              encoder.levels.{i}.downsample
    mid_block.resnets.0                         bottleneck.res_block1
    mid_block.attentions.0                      bottleneck.attn
    mid_block.resnets.1                         bottleneck.res_block2
    up_blocks.{i}.resnets.{j}                   decoder.levels.{L-1-i}.res_blocks.{j}
    up_blocks.{i}.attentions.{j}                decoder.levels.{L-1-i}.attn_blocks.{j}
    up_blocks.{i}.upsamplers.0                  decoder.levels.{L-1-i}.upsample
    conv_norm_out, conv_out                     out_norm, out_conv
    class_embedding (num_class_embeds rows)     class_embed (num_classes + 1 rows: the last is "no class")

    L levels: diffusers stores up_blocks in running order (up_blocks.0 is the deepest), we store decoder
    levels by resolution, like the encoder's (decoder.levels.0 is full resolution).

    inside a ResnetBlock2D: norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut
                 our ResBlock: norm1, conv1, time_proj,     norm2, conv2, shortcut
    inside an Attention:    group_norm, to_q + to_k + to_v (three Linear C -> C), to_out.0
          our AttentionBlock: norm,     qkv (one 1x1 conv C -> 3C: q, k, v stacked), proj (1x1 conv)

A Linear on the C channels of every pixel is a 1x1 convolution: its [C_out, C_in] weight becomes
[C_out, C_in, 1, 1]. (The published DDPM checkpoints still call the attention layers query, key, value
and proj_attn; diffusers renames them to to_q, to_k, to_v and to_out.0 when it loads them, which is what
its ``_from_deprecated_attn_block`` flag is for, so we only ever see the new names.)
"""

import re
import socket
import warnings
from collections.abc import Mapping
from urllib.parse import urlparse

import torch
from torch import nn

from unet_lessons.configs import UNetConfig
from unet_lessons.unet import DDPM_NORM_EPS, UNet

DIFFUSERS_VERSION = "0.42.1"  # the version the port is tested with (pinned in requirements-dev.txt)
PUBLISHED_DDPM_CIFAR10 = "google/ddpm-cifar10-32"

# diffusers options our UNet can express with exactly one value: option -> that value.
_FIXED_OPTIONS = {
    "center_input_sample": False,
    "time_embedding_type": "positional",  # sinusoidal features
    "flip_sin_to_cos": False,  # [sin, cos], as in the DDPM paper's code
    "freq_shift": 1,  # frequencies exp(-ln(10000) * i / (half - 1))
    "mid_block_type": "UNetMidBlock2D",
    "mid_block_scale_factor": 1,
    "downsample_padding": 0,  # pad right and bottom, then a stride-2 conv: TensorFlow's "SAME"
    "downsample_type": "conv",
    "upsample_type": "conv",
    "norm_eps": DDPM_NORM_EPS,
    "resnet_time_scale_shift": "default",  # the time embedding is added, not used as scale and shift
    "add_attention": True,
    "class_embed_type": None,  # with num_class_embeds set: a plain nn.Embedding, added to the time embedding
}
# Options that do not change the network we build (num_train_timesteps only matters for learned embeddings).
_IGNORED_OPTIONS = {"num_train_timesteps"}
_HANDLED_OPTIONS = {
    "sample_size", "in_channels", "out_channels", "block_out_channels", "layers_per_block",
    "down_block_types", "up_block_types", "dropout", "act_fn", "attention_head_dim", "norm_num_groups",
    "attn_norm_num_groups", "time_embedding_dim", "num_class_embeds",
}
_DOWN_BLOCKS = {"DownBlock2D": False, "AttnDownBlock2D": True}  # block type -> has attention
_UP_BLOCKS = {"UpBlock2D": False, "AttnUpBlock2D": True}


def config_from_diffusers(diffusers_config: Mapping) -> UNetConfig:
    """The :class:`UNetConfig` of a diffusers ``UNet2DModel``, or a ``ValueError`` naming what we lack.

    ``block_out_channels`` become ``base_channels`` and ``channel_mults``; the levels built from
    ``AttnDownBlock2D``/``AttnUpBlock2D`` give ``attention_resolutions``; diffusers fixes the channels per
    head (``attention_head_dim``, None for one head), we fix the number of heads (``num_heads``).

    Args:
        diffusers_config: a ``UNet2DModel``'s ``.config`` (or the same keys in a dict).

    Returns:
        a validated ``UNetConfig`` with ``topology="ddpm"``.

    Raises:
        ValueError: naming the diffusers option our UNet cannot express, e.g. ``flip_sin_to_cos=True``
            (features in [cos, sin] order) or a block type such as ``"CrossAttnDownBlock2D"``.
    """
    options = {key: value for key, value in dict(diffusers_config).items() if not key.startswith("_")}
    unknown = sorted(set(options) - set(_FIXED_OPTIONS) - _IGNORED_OPTIONS - _HANDLED_OPTIONS)
    if unknown:
        raise ValueError(f"diffusers option(s) {unknown} are unknown to this port (written for diffusers "
                         f"{DIFFUSERS_VERSION}); cannot tell whether our UNet expresses them.")
    missing = sorted((set(_FIXED_OPTIONS) | _HANDLED_OPTIONS) - set(options))
    if missing:
        raise ValueError(f"the diffusers config lacks {missing}; pass a UNet2DModel's complete .config.")
    for name, supported in _FIXED_OPTIONS.items():
        if options[name] != supported:
            raise ValueError(f"diffusers option {name}={options[name]!r} is not supported: our DDPM UNet "
                             f"needs {name}={supported!r}.")
    if options["act_fn"] not in ("silu", "swish"):
        raise ValueError(f"diffusers option act_fn={options['act_fn']!r} is not supported: our UNet uses SiLU "
                         "('silu' or 'swish').")

    channels = tuple(options["block_out_channels"])
    base = channels[0]
    if any(c % base for c in channels):
        raise ValueError(f"diffusers option block_out_channels={channels}: every entry must be a multiple of "
                         f"the first ({base}), our channel_mults are whole numbers.")
    if options["time_embedding_dim"] not in (None, 4 * base):
        raise ValueError(f"diffusers option time_embedding_dim={options['time_embedding_dim']} is not supported: "
                         f"our time embedding has 4 * block_out_channels[0] = {4 * base} features.")
    groups = options["norm_num_groups"]
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise ValueError(f"diffusers option norm_num_groups={groups!r} is not supported: give an int.")
    if options["attn_norm_num_groups"] not in (None, groups):
        raise ValueError(f"diffusers option attn_norm_num_groups={options['attn_norm_num_groups']} is not "
                         f"supported: our attention uses norm_num_groups={groups} like every other GroupNorm.")
    image_size = _square_size(options["sample_size"])
    class_embeds = options["num_class_embeds"]
    if class_embeds is not None and (isinstance(class_embeds, bool) or not isinstance(class_embeds, int)
                                     or class_embeds < 2):
        raise ValueError(f"diffusers option num_class_embeds={class_embeds!r} is not supported: give an int >= 2 "
                         "(our class embedding has num_classes + 1 rows, the last for 'no class').")

    down_types, up_types = tuple(options["down_block_types"]), tuple(options["up_block_types"])
    if not len(down_types) == len(up_types) == len(channels):
        raise ValueError(f"diffusers options down_block_types, up_block_types and block_out_channels must have "
                         f"one entry per level; got {len(down_types)}, {len(up_types)}, {len(channels)}.")
    for name, types, known in (("down_block_types", down_types, _DOWN_BLOCKS),
                               ("up_block_types", up_types, _UP_BLOCKS)):
        for block_type in types:
            if block_type not in known:
                raise ValueError(f"diffusers option {name} contains {block_type!r}, which our UNet does not "
                                 f"have; supported: {sorted(known)}.")
    down_attention = [_DOWN_BLOCKS[t] for t in down_types]
    up_attention = [_UP_BLOCKS[t] for t in reversed(up_types)]  # up_blocks run deepest first
    if down_attention != up_attention:
        raise ValueError(f"diffusers options down_block_types={down_types} and up_block_types={up_types} put "
                         "attention at different levels; our UNet attends at the same resolutions on both sides.")
    resolutions = [image_size // 2**level for level in range(len(channels))]
    attended_levels = [level for level, attends in enumerate(down_attention) if attends]
    attended_channels = [channels[level] for level in attended_levels] + [channels[-1]]  # + the mid block

    return UNetConfig(
        image_size=image_size,
        in_channels=options["in_channels"],
        out_channels=options["out_channels"],
        base_channels=base,
        channel_mults=tuple(c // base for c in channels),
        num_res_blocks=options["layers_per_block"],
        attention_resolutions=tuple(resolutions[level] for level in attended_levels),
        dropout=float(options["dropout"]),
        num_heads=_num_heads(options["attention_head_dim"], attended_channels),
        groups=groups,
        topology="ddpm",
        num_classes=None if class_embeds is None else class_embeds - 1,
    ).validate()


def diffusers_config(config: UNetConfig) -> dict:
    """The ``UNet2DModel`` options that build the same network as ``config``: the inverse of
    :func:`config_from_diffusers`.

    ``UNet2DModel(**diffusers_config(config))`` has our model's architecture, so
    :func:`load_diffusers_weights` can give both the same weights (the benchmarks compare their speed so).

    Args:
        config: a configuration with ``topology="ddpm"`` (the chapter's topology has no diffusers twin).

    Raises:
        ValueError: for the chapter's topology, or for ``num_heads`` that does not give every attention
            block the same head size (diffusers fixes the size of a head, ``attention_head_dim``).
    """
    config = config.validate()
    if config.topology != "ddpm":
        raise ValueError(f"topology={config.topology!r} has no diffusers UNet2DModel twin: diffusers builds the "
                         "DDPM paper's U-Net, use topology='ddpm'.")
    attends = [resolution in config.attention_resolutions for resolution in config.level_resolutions]
    attended_channels = [c for c, attention in zip(config.level_channels, attends) if attention]
    attended_channels.append(config.level_channels[-1])  # the mid block always attends
    head_sizes = {channels // config.num_heads for channels in attended_channels}
    if len(head_sizes) != 1:
        raise ValueError(f"num_heads={config.num_heads} splits the attended channel counts {attended_channels} into "
                         "heads of different sizes; diffusers needs one head size: use num_heads=1.")
    return dict(
        _FIXED_OPTIONS,
        sample_size=config.image_size,
        in_channels=config.in_channels,
        out_channels=config.out_channels,
        block_out_channels=config.level_channels,
        layers_per_block=config.num_res_blocks,
        down_block_types=tuple("AttnDownBlock2D" if attention else "DownBlock2D" for attention in attends),
        up_block_types=tuple("AttnUpBlock2D" if attention else "UpBlock2D" for attention in reversed(attends)),
        dropout=config.dropout,
        act_fn="silu",
        attention_head_dim=None if config.num_heads == 1 else head_sizes.pop(),
        norm_num_groups=config.groups,
        attn_norm_num_groups=None,
        time_embedding_dim=None,
        num_class_embeds=None if config.num_classes is None else config.num_classes + 1,
    )


def _square_size(sample_size) -> int:
    """diffusers allows an int or (height, width); our UNet takes square images."""
    if isinstance(sample_size, int) and not isinstance(sample_size, bool):
        return sample_size
    if isinstance(sample_size, (tuple, list)) and len(sample_size) == 2 and sample_size[0] == sample_size[1]:
        return int(sample_size[0])
    raise ValueError(f"diffusers option sample_size={sample_size!r} is not supported: our UNet needs a square "
                     "image size (an int, or (size, size)).")


def _num_heads(attention_head_dim: int | None, attended_channels: list[int]) -> int:
    """diffusers fixes the size of a head (None: one head of all channels); we fix the number of heads."""
    if attention_head_dim is None:
        return 1
    heads = {channels // attention_head_dim for channels in attended_channels}
    if len(heads) != 1 or any(channels % attention_head_dim for channels in attended_channels):
        raise ValueError(f"diffusers option attention_head_dim={attention_head_dim} is not supported here: it does "
                         f"not split the attended channel counts {attended_channels} into one whole number of "
                         "heads; our UNet has one num_heads for every attention block.")
    return heads.pop()


# The module path of every diffusers block, rewritten to ours (first match wins; see the table above).
_BLOCK_RENAMES = [
    (r"time_embedding\.linear_1", "time_embed.linear1"),
    (r"time_embedding\.linear_2", "time_embed.linear2"),
    (r"conv_in", "init_conv"),
    (r"down_blocks\.(\d+)\.resnets\.(\d+)", r"encoder.levels.\1.res_blocks.\2"),
    (r"down_blocks\.(\d+)\.attentions\.(\d+)", r"encoder.levels.\1.attn_blocks.\2"),
    (r"down_blocks\.(\d+)\.downsamplers\.0", r"encoder.levels.\1.downsample"),
    (r"mid_block\.resnets\.0", "bottleneck.res_block1"),
    (r"mid_block\.attentions\.0", "bottleneck.attn"),
    (r"mid_block\.resnets\.1", "bottleneck.res_block2"),
    (r"up_blocks\.(\d+)\.resnets\.(\d+)", r"decoder.levels.{up}.res_blocks.\2"),  # {up}: L - 1 - i
    (r"up_blocks\.(\d+)\.attentions\.(\d+)", r"decoder.levels.{up}.attn_blocks.\2"),
    (r"up_blocks\.(\d+)\.upsamplers\.0", r"decoder.levels.{up}.upsample"),
    (r"conv_norm_out", "out_norm"),
    (r"conv_out", "out_conv"),
    (r"class_embedding", "class_embed"),
]
# Layers inside a block whose names differ; every other layer name (norm1, conv1, conv, ...) is the same.
_LAYER_RENAMES = {"time_emb_proj": "time_proj", "conv_shortcut": "shortcut", "group_norm": "norm",
                  "to_out.0": "proj"}
_QKV_PARTS = ("to_q", "to_k", "to_v")  # stacked in this order into our qkv conv


def our_name(diffusers_key: str, num_levels: int) -> tuple[str, int | None] | None:
    """Our state-dict key for one diffusers key, and which third of ``qkv`` it fills (0 q, 1 k, 2 v).

    ``num_levels`` (the model's ``len(channel_mults)``) turns diffusers' running order of ``up_blocks`` into
    our decoder's resolution order. ``"mid_block.attentions.0.to_k.weight"`` ->
    ``("bottleneck.attn.qkv.weight", 1)``; ``"conv_in.bias"`` -> ``("init_conv.bias", None)``;
    ``"up_blocks.0.upsamplers.0.conv.bias"`` at 4 levels -> ``("decoder.levels.3.upsample.conv.bias", None)``;
    a key with no counterpart -> ``None``.
    """
    for pattern, replacement in _BLOCK_RENAMES:
        # block path, then the layer inside it (none for conv_in and the like), then weight or bias
        match = re.match(pattern + r"\.(?:(?P<layer>.+)\.)?(?P<kind>weight|bias)$", diffusers_key)
        if match is None:
            continue
        block, layer, kind = match.expand(replacement), match["layer"], match["kind"]
        if "{up}" in block:
            block = block.replace("{up}", str(num_levels - 1 - int(match[1])))
        if layer is None:
            return f"{block}.{kind}", None
        if layer in _QKV_PARTS:
            return f"{block}.qkv.{kind}", _QKV_PARTS.index(layer)
        return f"{block}.{_LAYER_RENAMES.get(layer, layer)}.{kind}", None
    return None


def load_diffusers_weights(model: UNet, diffusers_unet: nn.Module) -> UNet:
    """Copy every weight of a diffusers ``UNet2DModel`` into ``model``; returns ``model``.

    Every diffusers tensor is used exactly once and every tensor of ``model`` is filled exactly once;
    otherwise nothing is copied and a ``ValueError`` lists the keys that have no partner or the wrong
    shape. Then the two configurations are compared, because some differences (the number of attention
    heads, for one) leave every shape unchanged; ``dropout`` may differ, it acts only in training.

    Args:
        model: our UNet, e.g. ``UNet(config_from_diffusers(diffusers_unet.config))``.
        diffusers_unet: a ``diffusers.UNet2DModel``.
    """
    expected_config = config_from_diffusers(diffusers_unet.config)  # raises for what we cannot express
    ours = model.state_dict()
    converted, problems = _convert_state_dict(diffusers_unet.state_dict(), ours, len(model.config.channel_mults))
    if problems:
        raise ValueError("load_diffusers_weights: the diffusers model and this UNet have different architectures; "
                         "nothing was copied.\n" + "\n".join(problems)
                         + "\nBuild the UNet with config_from_diffusers(diffusers_unet.config) to match it.")
    differences = [f"{field}={getattr(model.config, field)!r} here, {getattr(expected_config, field)!r} in the "
                   "diffusers model" for field in UNetConfig.__dataclass_fields__
                   if field != "dropout" and getattr(model.config, field) != getattr(expected_config, field)]
    if differences:
        raise ValueError("load_diffusers_weights: every weight fits, but the two models compute different "
                         "functions: " + "; ".join(differences) + ".")
    model.load_state_dict(converted)
    return model


def _convert_state_dict(theirs: Mapping[str, torch.Tensor], ours: Mapping[str, torch.Tensor], num_levels: int):
    """Rename and reshape a diffusers state dict into ours; returns (converted, list of problem lines)."""
    converted: dict[str, torch.Tensor] = {}
    qkv_thirds: dict[str, dict[int, torch.Tensor]] = {}
    no_counterpart, not_in_model, filled_twice = [], [], []
    for key, tensor in theirs.items():
        target = our_name(key, num_levels)
        if target is None:
            no_counterpart.append(key)
            continue
        name, third = target
        if name not in ours:
            not_in_model.append(f"{key} -> {name}")
        elif third is None:
            if name in converted:
                filled_twice.append(name)
            converted[name] = tensor
        else:
            if third in qkv_thirds.setdefault(name, {}):
                filled_twice.append(f"{name} ({_QKV_PARTS[third]})")
            qkv_thirds[name][third] = tensor
    incomplete = []
    for name, thirds in qkv_thirds.items():
        if len(thirds) == len(_QKV_PARTS):
            converted[name] = torch.cat([thirds[i] for i in range(len(_QKV_PARTS))])  # [3C, C] = q; k; v
        else:
            incomplete.append(f"{name} (has only {[_QKV_PARTS[i] for i in sorted(thirds)]})")

    wrong_shapes = []
    for name, tensor in converted.items():
        target_shape = ours[name].shape
        if tensor.dim() == 2 and len(target_shape) == 4 and tuple(target_shape[2:]) == (1, 1):
            tensor = tensor[:, :, None, None]  # Linear [C_out, C_in] -> 1x1 conv [C_out, C_in, 1, 1]
            converted[name] = tensor
        if tensor.shape != target_shape:
            wrong_shapes.append(f"{name}: diffusers {list(tensor.shape)}, ours {list(target_shape)}")

    problems = []
    for label, keys in (
        ("diffusers weights with no counterpart in our UNet", no_counterpart),
        ("diffusers weights whose counterpart this UNet does not have (diffusers -> ours)", not_in_model),
        ("weights of this UNet that the diffusers model does not fill",
         sorted(set(ours) - set(converted) - set(qkv_thirds)) + incomplete),
        ("filled more than once", filled_twice),
        ("shape mismatches", wrong_shapes),
    ):
        if keys:
            shown = ", ".join(keys[:8]) + (f", ... and {len(keys) - 8} more" if len(keys) > 8 else "")
            problems.append(f"  {label} ({len(keys)}): {shown}")
    return converted, problems


def port_diffusers_unet(diffusers_unet: nn.Module) -> UNet:
    """Build our UNet from a diffusers ``UNet2DModel``'s config and copy its weights in.

    The result computes the same function (to float rounding) and is in the same train/eval mode.
    """
    model = UNet(config_from_diffusers(diffusers_unet.config))
    load_diffusers_weights(model, diffusers_unet)
    return model.train(diffusers_unet.training)


class WeightsUnavailableError(RuntimeError):
    """The published weights could not be had: no network and nothing in the local cache."""


def load_published_ddpm_cifar10(timeout: float = 3.0, cache_dir: str | None = None) -> UNet:
    """Download (or read from the cache) Ho et al.'s trained CIFAR-10 model and port it into our UNet.

    Needs diffusers (``pip install diffusers==0.42.1``) and, the first time, the internet (35.7M float32
    weights, about 143 MB, cached by huggingface_hub afterwards). Returns the model in eval mode. Offline
    (as in CI) it fails within seconds, so the notebook cell looks like this and prints the skip line::

        try:
            published = load_published_ddpm_cifar10()
        except (ImportError, WeightsUnavailableError):
            print("skipped: offline")
        else:
            print(f"{count_parameters(published):,} parameters, the paper's 35.7M")

    Args:
        timeout: seconds to wait for the hub to answer before falling back to the local cache.
        cache_dir: where the download is kept (default: huggingface_hub's cache, ``~/.cache/huggingface``).

    Raises:
        ImportError: diffusers is not installed.
        WeightsUnavailableError: offline and the weights are not in the cache.
    """
    unet_class = _import_diffusers_unet()
    # Without this check an unreachable hub costs ~30 s of retries before from_pretrained gives up.
    reachable = _hub_reachable(timeout)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks.*")  # raised inside diffusers
        try:
            published = unet_class.from_pretrained(
                PUBLISHED_DDPM_CIFAR10, cache_dir=cache_dir, local_files_only=not reachable, low_cpu_mem_usage=False
            )
        except OSError as error:
            where = "from the hub" if reachable else "offline, and not in the local cache"
            raise WeightsUnavailableError(f"could not load {PUBLISHED_DDPM_CIFAR10} ({where}): {error}") from error
    return port_diffusers_unet(published)


def _import_diffusers_unet():
    try:
        from diffusers import UNet2DModel
    except ImportError as error:
        raise ImportError(
            f"diffusers is needed to read diffusers models: pip install diffusers=={DIFFUSERS_VERSION}"
        ) from error
    return UNet2DModel


def _hub_reachable(timeout: float) -> bool:
    """True if the Hugging Face hub answers a TCP connection (and offline mode is off)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    endpoint = urlparse(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
