"""Counting and tracing: where the parameters are and what shape every block sees.

Used throughout the lessons, most of all ``notebooks/04_assembly.ipynb`` and ``05_configs.ipynb``.
Tracing builds the model on the meta device: shapes and counts without allocating a single weight.
The cost measurements at the end are taught in ``03_attention.ipynb`` (one block: FLOPs, attention-matrix
memory) and ``05_configs.ipynb`` (a whole model: FLOPs by component and level, forward-pass memory).
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import MAX_TENSOR_ELEMENTS, UNetConfig, as_config, check_tensor_sizes
from unet_lessons.resblock import Downsample, ResBlock, Upsample
from unet_lessons.time_embedding import TimeEmbedding
from unet_lessons.training import check_count
from unet_lessons.unet import UNet

COMPONENTS = ("time_embed", "init_conv", "encoder", "bottleneck", "decoder", "output")
CONDITIONAL_COMPONENTS = ("time_embed", "class_embed") + COMPONENTS[1:]  # a model with num_classes set

# Block kinds as the lessons name them, keyed by class; init_conv, out_norm and out_conv by attribute.
_KINDS = {TimeEmbedding: "TimeEmbedding", ResBlock: "ResBlock", AttentionBlock: "Attention",
          Downsample: "Downsample", Upsample: "Upsample"}
_NAMED_KINDS = {"class_embed": "ClassEmbedding", "init_conv": "InitConv", "out_norm": "OutNorm",
                "out_conv": "OutConv"}


def components(config: UNetConfig) -> tuple[str, ...]:
    """The components a model of ``config`` has: ``COMPONENTS``, with ``class_embed`` if it is conditional."""
    return COMPONENTS if config.num_classes is None else CONDITIONAL_COMPONENTS


def count_parameters(model: nn.Module) -> int:
    """Total number of parameters (works on the meta device too)."""
    return sum(p.numel() for p in model.parameters())


def count_parameters_by_component(model: UNet) -> dict[str, int]:
    """Parameters of ``time_embed, [class_embed,] init_conv, encoder, bottleneck, decoder, output`` (see
    :func:`components`); sums to the total."""
    return {name: count_parameters(model.out_norm) + count_parameters(model.out_conv) if name == "output"
            else count_parameters(getattr(model, name)) for name in components(model.config)}


def count_parameters_by_level(model: UNet) -> list[dict]:
    """One row per resolution level (0 = full resolution): its encoder and decoder parameters.

    A Downsample belongs to the encoder level it leaves, an Upsample to the decoder level it belongs to.
    The bottleneck, time embedding and input/output layers are not in any level.
    """
    config = model.config
    rows = []
    for level, (resolution, channels) in enumerate(zip(config.level_resolutions, config.level_channels)):
        rows.append({
            "level": level,
            "resolution": resolution,
            "channels": channels,
            "encoder": count_parameters(model.encoder.levels[level]),
            "decoder": count_parameters(model.decoder.levels[level]),
        })
    return rows


def count_parameters_by_kind(model: nn.Module) -> dict[str, int]:
    """Parameters summed by block kind (ResBlock, Attention, Downsample, ...), e.g. for attention's share.

    The kinds are those of :func:`trace_shapes`; their sums add up to the total.
    """
    totals: dict[str, int] = {}
    for name, module in model.named_modules():
        kind = block_kind(name, module)
        if kind is not None:
            totals[kind] = totals.get(kind, 0) + count_parameters(module)
    return totals


def block_kind(name: str, module: nn.Module) -> str | None:
    """The lesson name of a UNet block (``"ResBlock"``, ``"InitConv"``, ...), or None for anything else.

    Args:
        name: the module's name in ``model.named_modules()`` (``init_conv``, ``out_norm`` and ``out_conv``
            are recognised by name).
        module: the module itself (the other kinds are recognised by class).
    """
    return _NAMED_KINDS.get(name) or _KINDS.get(type(module))


@dataclass(frozen=True)
class TraceRow:
    """One block of the forward pass.

    ``stage`` is one of time (the time and class embeddings), input, encoder, bottleneck, decoder, output.
    ``level`` is the resolution level (0 = full resolution) for encoder and decoder blocks, else None. ``skip_from`` is set on every
    decoder ResBlock: the index of the row whose output it concatenates. ``saves_skip`` marks the rows
    whose output the encoder saves.
    """

    index: int
    name: str
    kind: str
    stage: str
    level: int | None
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    skip_from: int | None = None
    saves_skip: bool = False


# Layers that initialise their own weights when built (nn.Conv2d through its base class).
_SELF_INITIALISING_LAYERS = (nn.Linear, nn.Conv2d, nn.GroupNorm)


def meta_unet(config: UNetConfig) -> UNet:
    """``UNet(config)`` built on the meta device, without initialising its weights.

    Meta tensors have a shape and no values, so each layer's ``reset_parameters`` (run by its constructor)
    would initialise nothing; skipping it halves the time to build a model there, which the explorers pay
    for every configuration a learner tries.
    """
    with torch.device("meta"), _weights_not_initialised():
        return UNet(config)


@contextmanager
def _weights_not_initialised() -> Iterator[None]:
    """While active, the layers of ``_SELF_INITIALISING_LAYERS`` skip ``reset_parameters`` (meta device only)."""
    own_methods = {layer: layer.__dict__.get("reset_parameters") for layer in _SELF_INITIALISING_LAYERS}
    for layer in _SELF_INITIALISING_LAYERS:
        layer.reset_parameters = _no_initialisation
    try:
        yield
    finally:
        for layer, method in own_methods.items():
            if method is None:
                del layer.reset_parameters  # inherited it (nn.Conv2d): inherit it again
            else:
                layer.reset_parameters = method


def _no_initialisation(layer: nn.Module) -> None:
    pass


def _check_batch_size(config: UNetConfig, batch_size: int) -> None:
    """A ValueError naming batch_size unless it is a whole number >= 1 whose forward pass fits in tensors."""
    check_count(batch_size, "batch_size", 1)
    check_tensor_sizes(config, batch_size)


def trace_shapes(config_or_model: UNetConfig | UNet, batch_size: int = 1) -> list[TraceRow]:
    """Run one forward pass on the meta device and return one :class:`TraceRow` per block, in order.

    A model on the meta device is traced as it is (and left as it was); any other model is traced through
    its ``config`` (same architecture, rebuilt on meta), so no real weights are touched and even the
    256x256 configurations take milliseconds.
    """
    if isinstance(config_or_model, UNet) and config_or_model.out_conv.weight.is_meta:
        model = config_or_model
    else:
        model = meta_unet(as_config(config_or_model, "config_or_model"))
    config = model.config
    _check_batch_size(config, batch_size)
    x = torch.zeros(batch_size, config.in_channels, config.image_size, config.image_size, device="meta")
    t = torch.zeros(batch_size, dtype=torch.long, device="meta")

    records = []  # (name, kind, module, input, output), in the order blocks finish
    saved_skips: list[torch.Tensor] = []

    def record(name, kind):
        def hook(module, args, output):
            records.append((name, kind, module, args[0], output))
        return hook

    def keep_skips(module, args, output):
        saved_skips.extend(output[1])  # copy now: the decoder empties the list

    handles = [model.encoder.register_forward_hook(keep_skips)]
    for name, module in model.named_modules():
        kind = block_kind(name, module)
        if kind is not None:
            handles.append(module.register_forward_hook(record(name, kind)))
    try:
        with _group_norms_keep_shape(model):
            model(x, t)
    finally:
        for handle in handles:
            handle.remove()

    output_row = {id(output): i for i, (_, _, _, _, output) in enumerate(records)}
    skip_rows = [output_row[id(skip)] for skip in saved_skips]
    consumers = [i for i, (name, kind, *_) in enumerate(records)
                 if kind == "ResBlock" and name.startswith("decoder.")]
    skip_from = dict(zip(consumers, reversed(skip_rows)))  # the decoder takes the last-saved skip first

    rows = []
    for i, (name, kind, module, inp, out) in enumerate(records):
        stage, level = _stage_and_level(name)
        rows.append(TraceRow(
            index=i, name=name, kind=kind, stage=stage, level=level,
            in_shape=tuple(inp.shape), out_shape=tuple(out.shape), params=count_parameters(module),
            skip_from=skip_from.get(i), saves_skip=i in skip_rows,
        ))
    return rows


@contextmanager
def _group_norms_keep_shape(model: nn.Module) -> Iterator[None]:
    """While active, every GroupNorm of ``model`` passes its input straight through.

    GroupNorm never changes a shape, and on the meta device its shape rule runs in Python (half of a
    trace's time).
    """
    norms = [module for module in model.modules() if isinstance(module, nn.GroupNorm)]
    for norm in norms:
        norm.forward = _keep_shape
    try:
        yield
    finally:
        for norm in norms:
            del norm.forward  # the class's forward again


def _keep_shape(x: torch.Tensor) -> torch.Tensor:
    return x


def _stage_and_level(name: str) -> tuple[str, int | None]:
    parts = name.split(".")
    if parts[0] == "encoder":
        return "encoder", int(parts[2])
    if parts[0] == "decoder":
        return "decoder", int(parts[2])
    stage = {"time_embed": "time", "class_embed": "time", "init_conv": "input",
             "bottleneck": "bottleneck"}.get(parts[0], "output")
    return stage, None


# What a block costs: parameters, floating-point operations, and the attention matrix's memory.

def count_flops(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Floating-point operations of one forward pass, counted by ``torch.utils.flop_counter.FlopCounterMode``.

    A multiply-add counts as 2. Only matrix products and convolutions are counted (normalisation,
    softmax and activations are cheap next to them and ignored). Works on the meta device: pass meta
    tensors and a module built under ``torch.device("meta")`` to count a big block for free.
    """
    with FlopCounterMode(display=False) as counter:
        module(*inputs)
    return counter.get_total_flops()


def _check_counts(**counts: int) -> None:
    """A ValueError naming the first argument that is not a whole number >= 1."""
    for argument, value in counts.items():
        check_count(value, argument, 1)


def _check_attention_arguments(channels: int, resolution: int, num_heads: int, batch_size: int) -> None:
    """A ValueError naming the argument: whole numbers >= 1, and attention matrices a tensor can hold."""
    _check_counts(channels=channels, resolution=resolution, num_heads=num_heads, batch_size=batch_size)
    tokens = resolution * resolution
    if batch_size * num_heads * tokens**2 >= MAX_TENSOR_ELEMENTS:
        raise ValueError(f"resolution={resolution}: the attention matrices ({tokens:,} x {tokens:,} numbers per head "
                         "and image) are more than a PyTorch tensor can hold, even on the meta device; lower "
                         "resolution (or batch_size, num_heads).")


def attention_cost(channels: int, resolution: int, num_heads: int = 1, batch_size: int = 1,
                   groups: int = 32, bytes_per_element: int = 4) -> dict[str, int]:
    """What one :class:`AttentionBlock` costs on a ``resolution x resolution`` map of ``channels`` channels.

    Built and run on the meta device, so even 64x64 costs no memory and no time.

    Args:
        channels: channels of the feature map.
        resolution: height and width of the feature map.
        num_heads: attention heads (each head has its own HW x HW matrix).
        batch_size: images per batch.
        groups: GroupNorm groups of the block.
        bytes_per_element: 4 for float32.

    Returns:
        ``resolution``, ``channels``, ``tokens`` (H*W), ``params`` (independent of the resolution),
        ``flops`` (measured for one forward pass of the whole batch) and ``attention_matrix_bytes``
        (``tokens * tokens * bytes_per_element * num_heads * batch_size``: the matrix
        :meth:`AttentionBlock.attention_weights` returns).
    """
    _check_attention_arguments(channels, resolution, num_heads, batch_size)
    with torch.device("meta"):
        block = AttentionBlock(channels, num_heads, groups)
        x = torch.zeros(batch_size, channels, resolution, resolution)
    tokens = resolution * resolution
    return {
        "resolution": resolution,
        "channels": channels,
        "tokens": tokens,
        "params": count_parameters(block),
        "flops": count_flops(block, x),
        "attention_matrix_bytes": tokens * tokens * bytes_per_element * num_heads * batch_size,
    }


def resblock_cost(channels: int, resolution: int, time_emb_dim: int, batch_size: int = 1,
                  groups: int = 32) -> dict[str, int]:
    """What one ``ResBlock(channels, channels)`` costs at ``resolution x resolution`` (meta device).

    Returns:
        ``resolution``, ``channels``, ``params`` and ``flops`` (one forward pass of the batch).
    """
    _check_counts(channels=channels, resolution=resolution, time_emb_dim=time_emb_dim, batch_size=batch_size)
    with torch.device("meta"):
        block = ResBlock(channels, channels, time_emb_dim, groups=groups)
        x = torch.zeros(batch_size, channels, resolution, resolution)
        time_emb = torch.zeros(batch_size, time_emb_dim)
    return {
        "resolution": resolution,
        "channels": channels,
        "params": count_parameters(block),
        "flops": count_flops(block, x, time_emb),
    }


def attention_costs_by_level(config: UNetConfig) -> list[dict]:
    """For each encoder level of ``config``: an attention block's cost next to a ResBlock's, at that level.

    Returns:
        One row per level: ``level``, ``resolution``, ``channels``, ``has_attention`` (the level is in
        ``attention_resolutions``), ``attention_params``, ``attention_flops``,
        ``attention_matrix_bytes``, ``resblock_params``, ``resblock_flops``.
    """
    rows = []
    for level, (resolution, channels) in enumerate(zip(config.level_resolutions, config.level_channels)):
        attention = attention_cost(channels, resolution, config.num_heads, groups=config.groups)
        resblock = resblock_cost(channels, resolution, config.time_emb_dim, groups=config.groups)
        rows.append({
            "level": level,
            "resolution": resolution,
            "channels": channels,
            "has_attention": resolution in config.attention_resolutions,
            "attention_params": attention["params"],
            "attention_flops": attention["flops"],
            "attention_matrix_bytes": attention["attention_matrix_bytes"],
            "resblock_params": resblock["params"],
            "resblock_flops": resblock["flops"],
        })
    return rows


# What one forward pass costs: floating-point operations and memory, measured on the meta device.

@lru_cache(maxsize=64)
def _meta_forward_flops(config: UNetConfig, batch_size: int) -> dict[str, int]:
    """FLOPs of one meta-device forward pass, per module name ("" is the whole model, "encoder.levels.0", ...).

    ``FlopCounterMode`` attributes each operation to every module it runs inside, so a parent's count
    includes its children's. Modules that run no counted operation (GroupNorm, Identity) are absent.
    Cached per configuration (``UNetConfig`` is frozen and hashable); callers must not modify the dict.
    """
    _check_batch_size(config, batch_size)
    model = meta_unet(config)
    x = torch.zeros(batch_size, config.in_channels, config.image_size, config.image_size, device="meta")
    t = torch.zeros(batch_size, dtype=torch.long, device="meta")
    with FlopCounterMode(display=False) as counter:
        model(x, t)
    root = type(model).__name__  # the counter names modules "UNet", "UNet.encoder", ...
    flops = {}
    for name, per_operation in counter.get_flop_counts().items():
        if name == root or name.startswith(root + "."):
            flops[name[len(root) + 1:]] = sum(per_operation.values())
    return flops


def count_forward_flops(config_or_model: UNetConfig | UNet, batch_size: int = 1) -> int:
    """Floating-point operations of one forward pass, counted by ``torch.utils.flop_counter.FlopCounterMode``.

    A multiply-add counts as 2 FLOPs. Only convolutions and matrix products (linear layers, the two
    products inside attention) are counted; normalisation, activations, softmax and additions are
    cheap next to them and left out. The model runs on the meta device: exact counts for any size,
    no weights allocated (the counts equal those of a real CPU run).

    Args:
        config_or_model: a :class:`UNetConfig`, or a :class:`UNet` (counted through its config).
        batch_size: images per forward pass; the count is proportional to it.
    """
    return _meta_forward_flops(as_config(config_or_model, "config_or_model"), batch_size)[""]


def count_forward_flops_by_component(config_or_model: UNetConfig | UNet, batch_size: int = 1) -> dict[str, int]:
    """FLOPs of one forward pass for ``time_embed, [class_embed,] init_conv, encoder, bottleneck, decoder,
    output``.

    The same components as :func:`count_parameters_by_component` (a class embedding is a table lookup:
    0 FLOPs); the values sum to :func:`count_forward_flops`.
    """
    config = as_config(config_or_model, "config_or_model")
    flops = _meta_forward_flops(config, batch_size)
    return {name: flops.get("out_norm", 0) + flops.get("out_conv", 0) if name == "output" else flops.get(name, 0)
            for name in components(config)}


def count_forward_flops_by_level(config_or_model: UNetConfig | UNet, batch_size: int = 1) -> list[dict]:
    """One row per resolution level (0 = full resolution): the FLOPs its encoder and decoder blocks run.

    Rows as in :func:`count_parameters_by_level` (``level, resolution, channels, encoder, decoder``), so
    parameters and compute can be set side by side: the same block costs 4x the FLOPs one level up.
    """
    config = as_config(config_or_model, "config_or_model")
    flops = _meta_forward_flops(config, batch_size)
    return [
        {
            "level": level,
            "resolution": resolution,
            "channels": channels,
            "encoder": flops.get(f"encoder.levels.{level}", 0),
            "decoder": flops.get(f"decoder.levels.{level}", 0),
        }
        for level, (resolution, channels) in enumerate(zip(config.level_resolutions, config.level_channels))
    ]


def forward_memory(config_or_model: UNetConfig | UNet, batch_size: int = 1,
                   bytes_per_element: int = 4) -> dict[str, int]:
    """Bytes one forward pass holds, from the shapes of :func:`trace_shapes` (see :func:`trace_memory`).

    Args:
        config_or_model: a :class:`UNetConfig` or a :class:`UNet`.
        batch_size: images per forward pass (activations scale with it, parameters do not).
        bytes_per_element: 4 for float32, 2 for float16/bfloat16.
    """
    return trace_memory(trace_shapes(as_config(config_or_model, "config_or_model"), batch_size), bytes_per_element)


def trace_memory(rows: list[TraceRow], bytes_per_element: int = 4) -> dict[str, int]:
    """Bytes of the parameters and of the block outputs of a traced forward pass.

    What is counted, exactly:

    * ``parameters``: every parameter (the traced blocks hold them all), ``x bytes_per_element``.
    * ``activations``: the output tensor of every traced block (time embedding, init conv, each
      ResBlock, Attention, Downsample, Upsample, the output norm and conv), summed. Not counted: the
      tensors inside a block (GroupNorm and conv intermediates, q, k, v, the attention matrix) and the
      concatenations in the decoder. Training keeps those too for the backward pass, so this is a
      floor for training, not its peak.
    * ``skips``: the part of ``activations`` the encoder saves for the decoder; these stay alive from
      the moment they are saved until the decoder consumes them.

    Args:
        rows: the rows of :func:`trace_shapes` (any batch size).
        bytes_per_element: 4 for float32, 2 for float16/bfloat16.
    """
    return {
        "parameters": sum(row.params for row in rows) * bytes_per_element,
        "activations": sum(math.prod(row.out_shape) for row in rows) * bytes_per_element,
        "skips": sum(math.prod(row.out_shape) for row in rows if row.saves_skip) * bytes_per_element,
    }


def peak_resident_memory(pid: int | str = "self") -> int:
    """The most RAM a running process has held so far, in bytes (Linux only: ``VmHWM`` in ``/proc/<pid>/status``).

    What :func:`forward_memory` estimates from shapes, this measures: the high-water mark of the process's
    resident set, e.g. of a notebook's kernel (Binder restarts a kernel above 2 GB).

    Args:
        pid: the process id; ``"self"`` (the default) is the calling process.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # the kernel writes kB
    raise ValueError(f"/proc/{pid}/status has no VmHWM line: is {pid} a running process (not a zombie)?")
