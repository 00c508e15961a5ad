"""Multi-grid domain decomposition (the patching of MG-TFNO, Kossaifi et al. 2023).

A field of ``N_j`` points per axis is cut into ``K = 2**levels`` patches per axis of
``P_j = N_j / K`` points, ``K**d`` patches in all for ``d`` spatial axes. Each patch is widened
circularly by ``padding`` points on every side, to a window of ``W_j = P_j + 2 padding``
points. The neural operator sees, for every patch, ``levels + 1`` stacked views of the field:

* level 0: the fine field on the window (fine index ``k P - padding + i``, ``i < W``);
* level ``l = 1..levels``: the whole field subsampled by ``s = 2**l`` (``N / s`` points),
  cropped circularly to a window of the same ``W`` points roughly centred on the patch.
  Window point ``i`` of patch ``k`` is subsampled point
  ``(floor((k P + P // 2) / s) - W // 2 + i) mod (N / s)``, that is fine point ``s`` times
  that. At level 0 this reduces to the fine window above. The coarser the level, the larger
  the region a window covers (``s W`` fine points), so every patch sees its neighbourhood at
  full resolution and, at the coarsest level, the whole domain (periodically repeated when
  ``s W > N``).

The level-``l`` views are stacked level-major as channels, so a ``(batch, C, *space)`` input
becomes ``(batch * K**d, C (levels + 1), *W)``: channel ``l C + c`` is channel ``c`` at level
``l``. With ``coordinates=True``, ``2 d`` channels follow: the global position of every window
point, ``sin`` and ``cos`` of ``2 pi i_j / N_j`` for its fine index ``i_j`` on each axis
(:func:`window_coordinates`). Without them a patch cannot tell where it lies (a positional
embedding inside the operator is window-local, the same for every patch), so anything that
depends on the absolute position, such as a fixed forcing, is invisible to it.

Patches travel along the batch axis, sample-major and, within a sample, in row-major
(C) order of the patch grid ``(k_1, ..., k_d)``: patch row ``b K**d + k_1 K**(d-1) + ... + k_d``.
The operator runs on all patches; :func:`stitch_patches` drops the padding of its outputs
and puts the patches back in place.

MG-TFNO trains the operator on patches: the loss is measured on the unpadded fine patch of
each window, never on a full field (see :class:`PatchedDataset`). Full fields are evaluated
through :class:`MGPatchedOperator`, which patches, runs the operator on chunks of patches
(bounding the activation memory) and stitches.

Padding is an integer number of fine points per side, the same at every resolution (a
fraction of the patch size would change with the resolution and need rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint as _checkpoint
from torch.utils.data import Dataset

from sciml.core.registry import MODELS
from sciml.core.validation import check_bool, check_int, check_pair_dataset, describe

__all__ = [
    "MGPatchedOperator",
    "PatchedDataset",
    "activation_bytes",
    "make_patches",
    "split_patches",
    "stitch_patches",
    "window_coordinates",
]


# ----------------------------------------------------------------------------- checks
def _check_levels(levels: Any) -> int:
    return check_int("levels", levels, 0)


def _check_padding(padding: Any, n_space: int) -> tuple[int, ...]:
    values = (padding,) * n_space if not isinstance(padding, (list, tuple)) else tuple(padding)
    ok = len(values) == n_space and all(
        isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in values
    )
    if not ok:
        raise ValueError(
            f"padding: expected a non-negative int (points per side) or {n_space} of them, one "
            f"per spatial axis, got {padding!r}"
        )
    return tuple(int(p) for p in values)


def _check_field(argument: str, x: Any) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{argument}: expected a torch.Tensor, got {describe(x)}")
    if not 3 <= x.ndim <= 5:
        raise ValueError(
            f"{argument}: expected shape (batch, channels, *space) with 1 to 3 spatial axes, "
            f"got {tuple(x.shape)}"
        )


def _two_adic(n: int) -> int:
    """Largest ``l`` with ``2**l`` dividing ``n`` (``n >= 1``)."""
    return (n & -n).bit_length() - 1


def _patch_size(argument: str, space: Sequence[int], levels: int) -> tuple[int, ...]:
    k = 2**levels
    if any(n % k for n in space):
        fits = min(_two_adic(n) for n in space)
        near = tuple(-(-n // k) * k for n in space)
        raise ValueError(
            f"{argument}: spatial sizes {tuple(space)} are not all divisible by "
            f"2**levels = {k} (levels={levels}); use sizes that are multiples of {k} "
            f"(e.g. {near}) or levels <= {fits}"
        )
    return tuple(n // k for n in space)


# ----------------------------------------------------------------------------- numerics
def _window_indices(
    n: int, levels: int, padding: int, patches: Sequence[int], device: torch.device
) -> torch.Tensor:
    """Fine indices ``(levels + 1, len(patches), W)`` of every level's window on one axis."""
    k_total = 2**levels
    size = n // k_total
    width = size + 2 * padding
    k = torch.as_tensor(list(patches), dtype=torch.long, device=device).view(-1, 1)
    offsets = torch.arange(width, device=device).view(1, -1)
    rows = []
    for level in range(levels + 1):
        step = 2**level
        start = (k * size + size // 2) // step - width // 2
        rows.append(((start + offsets) % (n // step)) * step)
    return torch.stack(rows)


def _gather(
    x: torch.Tensor,
    levels: int,
    padding: tuple[int, ...],
    patches: Sequence[Sequence[int]],
) -> torch.Tensor:
    """Windows of the patches ``patches[j]`` along each axis j (all combinations).

    Returns ``(batch, *len(patches[j]), C (levels + 1), *W)``.
    """
    channels, space = x.shape[1], x.shape[2:]
    d = len(space)
    index: list[Any] = [slice(None), slice(None)]
    for axis, (n, p, ks) in enumerate(zip(space, padding, patches)):
        idx = _window_indices(n, levels, p, ks, x.device)  # (levels + 1, K_j, W_j)
        # broadcast to (levels + 1, K_1.., K_d, W_1.., W_d) with this axis' K and W in place
        shape = [levels + 1] + [1] * (2 * d)
        shape[1 + axis] = idx.shape[1]
        shape[1 + d + axis] = idx.shape[2]
        index.append(idx.view(shape))
    # one advanced-indexing gather for every level and patch: (B, C, L+1, K.., W..)
    windows = x[tuple(index)]
    perm = [0, *range(3, 3 + d), 2, 1, *range(3 + d, 3 + 2 * d)]
    windows = windows.permute(perm)  # (B, K.., L+1, C, W..)
    return windows.reshape(*windows.shape[: 1 + d], (levels + 1) * channels, *windows.shape[-d:])


def _windows(
    x: torch.Tensor,
    levels: int,
    padding: tuple[int, ...],
    patches: Sequence[Sequence[int]],
    coordinates: bool,
) -> torch.Tensor:
    """:func:`_gather`, followed by the coordinate channels if asked: ``(B, *K, C', *W)``."""
    windows = _gather(x, levels, padding, patches)
    if not coordinates:
        return windows
    coords = _coordinates(x.shape[2:], levels, padding, patches, x.device, x.dtype)
    coords = coords.unsqueeze(0).expand(x.shape[0], *coords.shape)
    return torch.cat([windows, coords], dim=1 + len(patches))


def _coordinates(
    space: Sequence[int],
    levels: int,
    padding: tuple[int, ...],
    patches: Sequence[Sequence[int]],
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Global coordinates of the windows of ``patches[j]`` per axis: ``(*K, 2 d, *W)``."""
    d = len(space)
    channels = []
    for axis, (n, p, ks) in enumerate(zip(space, padding, patches)):
        fine = _window_indices(n, levels, p, ks, device)[0]  # (K_j, W_j) fine indices
        angle = (2 * torch.pi / n) * fine.to(dtype or torch.get_default_dtype())
        shape = [1] * (2 * d)
        shape[axis], shape[d + axis] = fine.shape
        channels += [angle.sin().view(shape), angle.cos().view(shape)]
    sizes = torch.broadcast_shapes(*(c.shape for c in channels))
    return torch.stack([c.expand(sizes) for c in channels], dim=d)  # (K.., 2d, W..)


def window_coordinates(
    space: Sequence[int],
    levels: int,
    padding: int | Sequence[int],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Global periodic coordinates of every patch window (the ``coordinates`` channels).

    Parameters
    ----------
    space : sequence of int
        Spatial sizes ``(N_1, ..., N_d)`` of the fields, each divisible by ``2**levels``.
    levels : int
        ``L >= 0``.
    padding : int or sequence of int
        Points added on each side of a patch (per axis if a sequence).
    device, dtype : optional
        Of the result (default: CPU, the default float dtype).

    Returns
    -------
    torch.Tensor
        ``(2**(L d), 2 d, *(space // 2**L + 2 padding))``, patches in the order of
        :func:`make_patches`: channels ``2 j`` and ``2 j + 1`` are ``sin`` and ``cos`` of
        ``2 pi i_j / N_j`` for the fine index ``i_j`` of each window point on axis ``j``.
        Periodic like the circular padding, so they are smooth across the window edges
        that wrap around the domain.
    """
    space = tuple(int(n) for n in space)
    if not 1 <= len(space) <= 3 or any(n < 1 for n in space):
        raise ValueError(f"space: expected 1 to 3 positive sizes, got {space!r}")
    levels = _check_levels(levels)
    pad = _check_padding(padding, len(space))
    _patch_size("space", space, levels)
    every = [range(2**levels)] * len(space)
    coords = _coordinates(space, levels, pad, every, torch.device(device or "cpu"), dtype)
    return coords.reshape(-1, *coords.shape[len(space) :])


def make_patches(
    x: torch.Tensor, levels: int, padding: int | Sequence[int],
    coordinates: bool = False,
) -> torch.Tensor:
    """Cut fields into circularly padded patches with multi-grid context channels.

    Parameters
    ----------
    x : torch.Tensor
        ``(batch, C, *space)``, 1 to 3 spatial axes, each size divisible by ``2**levels``.
    levels : int
        ``L >= 0``: ``2**L`` patches per axis and ``L`` coarser context levels.
    padding : int or sequence of int
        Points added circularly on each side of a patch (per axis if a sequence).
    coordinates : bool
        Append the ``2 d`` global coordinate channels of :func:`window_coordinates`.

    Returns
    -------
    torch.Tensor
        ``(batch * 2**(L d), C (L + 1) + 2 d [coordinates], *(space // 2**L + 2 padding))``;
        patch order and channel layout as in the module docstring. Differentiable with
        respect to ``x``.

    Raises
    ------
    ValueError
        If ``levels`` or ``padding`` is invalid, or a spatial size is not divisible by
        ``2**levels`` (the message says which sizes and levels would work).
    """
    _check_field("x", x)
    levels = _check_levels(levels)
    space = tuple(x.shape[2:])
    pad = _check_padding(padding, len(space))
    _patch_size("x", space, levels)
    every = [range(2**levels)] * len(space)
    windows = _windows(x, levels, pad, every, check_bool("coordinates", coordinates))
    return windows.reshape(-1, *windows.shape[1 + len(space) :])


def _crop(y: torch.Tensor, padding: tuple[int, ...]) -> torch.Tensor:
    index = [slice(None), slice(None)]
    index += [slice(p, n - p) for p, n in zip(padding, y.shape[2:])]
    return y[tuple(index)]


def stitch_patches(
    y: torch.Tensor, levels: int, padding: int | Sequence[int], batch: int
) -> torch.Tensor:
    """Drop the padding of patch outputs and reassemble the fields (inverse of the patching).

    Parameters
    ----------
    y : torch.Tensor
        ``(batch * 2**(L d), C_out, *(P + 2 padding))``, patches in the order of
        :func:`make_patches`; ``padding=0`` for patches already cropped.
    levels : int
        ``L``, as given to :func:`make_patches`.
    padding : int or sequence of int
        Points to drop on each side of every patch.
    batch : int
        Number of fields.

    Returns
    -------
    torch.Tensor
        ``(batch, C_out, *(P 2**L))``.
    """
    _check_field("y", y)
    levels = _check_levels(levels)
    batch = check_int("batch", batch, 1)
    d = y.ndim - 2
    pad = _check_padding(padding, d)
    k = 2**levels
    if y.shape[0] != batch * k**d:
        raise ValueError(
            f"y: got {y.shape[0]} patches, but batch={batch} fields with levels={levels} in "
            f"{d}-D need batch * 2**(levels * {d}) = {batch * k**d}"
        )
    small = [w - 2 * p for w, p in zip(y.shape[2:], pad)]
    if any(s < 1 for s in small):
        raise ValueError(
            f"padding: {pad} per side leaves no interior in patches of shape "
            f"{tuple(y.shape[2:])}; padding must be less than half the patch width"
        )
    core = _crop(y, pad)
    channels = y.shape[1]
    grid = core.reshape(batch, *([k] * d), channels, *small)  # (B, K.., C, P..)
    # interleave (K_j, P_j) so that the fine index on axis j is k_j P_j + i_j
    perm = [0, 1 + d] + [a for j in range(d) for a in (1 + j, 2 + d + j)]
    return grid.permute(perm).reshape(batch, channels, *(k * s for s in small))


def split_patches(y: torch.Tensor, levels: int) -> torch.Tensor:
    """Unpadded fine patches of fields, in the order of :func:`make_patches`.

    ``split_patches(y, L)`` is ``make_patches(y, L, 0)[:, :C]`` without the context levels,
    and ``stitch_patches(split_patches(y, L), L, 0, batch)`` returns ``y``.

    Parameters
    ----------
    y : torch.Tensor
        ``(batch, C, *space)``, each size divisible by ``2**levels``.
    levels : int

    Returns
    -------
    torch.Tensor
        ``(batch * 2**(L d), C, *(space // 2**L))``.
    """
    _check_field("y", y)
    levels = _check_levels(levels)
    batch, channels, *space = y.shape
    d = len(space)
    small = _patch_size("y", space, levels)
    k = 2**levels
    split = [batch, channels] + [s for p in small for s in (k, p)]
    grid = y.reshape(split)  # (B, C, K_1, P_1, ..., K_d, P_d)
    perm = [0, *(2 + 2 * j for j in range(d)), 1, *(3 + 2 * j for j in range(d))]
    return grid.permute(perm).reshape(batch * k**d, channels, *small)


# ----------------------------------------------------------------------------- memory probe
def activation_bytes(fn: Callable[..., Any], *args: Any, exclude: nn.Module | None = None) -> int:
    """Bytes of the tensors autograd saves for backward while ``fn(*args)`` runs.

    This is the activation memory a forward pass holds until its backward pass, counted
    deterministically (unlike allocator statistics): each storage is counted once, and
    storages of ``exclude``'s parameters and buffers are not activations and are skipped.

    Parameters
    ----------
    fn : callable
        Run with gradients enabled; its result is discarded.
    *args
        Arguments of ``fn``.
    exclude : nn.Module, optional
        Module whose parameters and buffers are left out.

    Returns
    -------
    int
    """
    skip = set()
    if exclude is not None:
        skip = {t.untyped_storage().data_ptr() for t in (*exclude.parameters(), *exclude.buffers())}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in skip:
            seen[ptr] = max(seen.get(ptr, 0), storage.nbytes())
        return t

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*args)
    del out
    return sum(seen.values())


# ----------------------------------------------------------------------------- model
def _broadcast(padding: tuple[int, ...], d: int) -> tuple[int, ...]:
    # one padding given for an inner model of unknown dimension applies to every axis
    return padding if len(padding) == d else padding[:1] * d


class _CroppedPatchModel(nn.Module):
    """The inner model followed by dropping the window padding: what MG-TFNO trains."""

    def __init__(self, model: nn.Module, padding: tuple[int, ...]) -> None:
        super().__init__()
        self.model = model
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _crop(self.model(x), _broadcast(self.padding, x.ndim - 2))


@MODELS.register()
class MGPatchedOperator(nn.Module):
    """A neural operator applied patch by patch with multi-grid context (MG-TFNO).

    ``forward(x)`` cuts ``x`` with :func:`make_patches`, runs the inner model on the patches
    (``patch_batch`` at a time), drops the padding and stitches (:func:`stitch_patches`).

    Parameters
    ----------
    model : str
        Registered model name (``sciml.core.registry.MODELS``), e.g. ``"FNO"`` or ``"TFNO"``.
    model_config : dict
        Constructor arguments of the inner model. Its ``in_channels`` is ``C (levels + 1)``
        for fields of ``C`` channels, plus ``2 d`` with ``coordinates``; its output keeps the
        spatial shape of its input.
    levels : int
        ``L >= 0``: ``2**L`` patches per axis and ``L`` coarse context levels.
    padding : int or sequence of int
        Circular padding of each patch, in fine points per side (per axis if a sequence).
    patch_batch : int, optional
        Patches per inner forward call; default all patches of the batch at once. Bounds
        the activation memory at inference (``torch.no_grad``) and, with ``checkpoint``,
        during training on full fields.
    checkpoint : bool
        Recompute each chunk's activations in the backward pass
        (``torch.utils.checkpoint``), so a forward pass with gradients holds only the
        patch inputs plus one chunk's activations at a time.
    coordinates : bool
        Give every window its global position as ``2 d`` extra channels
        (:func:`window_coordinates`). Use it when the solution operator depends on the
        absolute position (a fixed forcing or coefficient that is not an input channel):
        otherwise every patch sees the same window-local coordinates and cannot tell where
        it lies. Leave it off for translation-invariant problems, where it only costs
        equivariance. Requires an inner model with a ``dim`` attribute (FNO, TFNO, ...).

    Attributes
    ----------
    patch_model : nn.Module
        Maps windows ``(n, C (L + 1) [+ 2 d], *W)`` to unpadded patch outputs
        ``(n, C_out, *P)``; train it on :class:`PatchedDataset` built with the same
        ``levels``, ``padding`` and ``coordinates`` (it shares its weights with this model).
    model : nn.Module
        The inner model.
    in_channels, out_channels : int
        ``C`` and the inner model's output channels.
    dim : int or None
        Spatial dimension, from the inner model's ``dim`` (``NeuralOperatorSolver.predict``
        reads it).

    Notes
    -----
    The inner model sees each window as a periodic field of its own: a positional embedding
    (FNO's default) gives window-local coordinates, identical for every patch (hence
    ``coordinates``). The padding is what softens the false periodicity at the window edges.
    """

    def __init__(
        self,
        model: str,
        model_config: dict[str, Any],
        levels: int = 1,
        padding: int | Sequence[int] = 4,
        patch_batch: int | None = None,
        checkpoint: bool = False,
        coordinates: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(model, str):
            raise ValueError(
                f"model: expected a registered model name such as 'FNO', got {describe(model)}"
            )
        cls = MODELS.get(model)
        if not isinstance(model_config, dict):
            raise ValueError(
                f"model_config: expected a dict of {model} constructor arguments, "
                f"got {describe(model_config)}"
            )
        self.levels = _check_levels(levels)
        self.coordinates = check_bool("coordinates", coordinates)
        inner_in = model_config.get("in_channels")
        if not isinstance(inner_in, int) or inner_in < 1:
            raise ValueError(
                f"model_config['in_channels']: expected a positive int, got {inner_in!r}"
            )
        if patch_batch is not None:
            patch_batch = check_int("patch_batch", patch_batch, 1)
        checkpoint = check_bool("checkpoint", checkpoint)
        inner = cls(**model_config)
        self.dim = getattr(inner, "dim", None)
        if self.coordinates and self.dim is None:
            raise ValueError(
                f"coordinates: {model} has no `dim` attribute, so the number of coordinate "
                f"channels (2 per spatial axis) is unknown; use a model with `dim` (FNO, TFNO) "
                f"or coordinates=False"
            )
        extra = 2 * self.dim if self.coordinates else 0
        field_in = inner_in - extra
        if field_in < 1 or field_in % (self.levels + 1):
            sees, plus = "C (levels + 1)", ""
            if extra:
                sees, plus = f"C (levels + 1) + {extra} (coordinates)", f"{extra} plus "
            raise ValueError(
                f"model_config['in_channels']: got {inner_in}; the inner model sees {sees} "
                f"channels for C field channels, so with levels={self.levels} it must be "
                f"{plus}a positive multiple of {self.levels + 1}"
            )
        n_pad = self.dim if self.dim is not None else (
            len(padding) if isinstance(padding, (list, tuple)) else 1
        )
        self.padding = _check_padding(padding, n_pad)
        self.patch_batch = patch_batch
        self.checkpoint = checkpoint
        self.in_channels = field_in // (self.levels + 1)
        self.out_channels = getattr(inner, "out_channels", None)
        inner_config = getattr(inner, "config", None)
        self._config: dict[str, Any] = {
            "model": model,
            "model_config": dict(inner_config) if isinstance(inner_config, dict)
            else dict(model_config),
            "levels": self.levels,
            "padding": padding if isinstance(padding, int) else list(self.padding),
            "patch_batch": patch_batch,
            "checkpoint": checkpoint,
            "coordinates": self.coordinates,
        }
        self.patch_model = _CroppedPatchModel(inner, self.padding)

    @property
    def model(self) -> nn.Module:
        """The inner model."""
        return self.patch_model.model

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable); ``MGPatchedOperator(**config)``
        rebuilds the model."""
        config = dict(self._config)
        config["model_config"] = dict(config["model_config"])
        return config

    def patch_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """:func:`make_patches` with this model's levels, padding and coordinates."""
        return make_patches(x, self.levels, _broadcast(self.padding, x.ndim - 2),
                            self.coordinates)

    def patch_targets(self, y: torch.Tensor) -> torch.Tensor:
        """Unpadded fine patches of targets ``(batch, C_out, *space)``, in the order of
        :meth:`patch_inputs`: what :attr:`patch_model` is trained to output."""
        return split_patches(y, self.levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the operator patch by patch.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, in_channels, *space)``, sizes divisible by ``2**levels``.

        Returns
        -------
        torch.Tensor
            ``(batch, out_channels, *space)``.
        """
        _check_field("x", x)
        if x.shape[1] != self.in_channels or (self.dim is not None and x.ndim - 2 != self.dim):
            raise ValueError(
                f"x: expected shape (batch, {self.in_channels}, *space) with "
                f"{self.dim} spatial axes, got {tuple(x.shape)}"
            )
        windows = self.patch_inputs(x)
        chunk = self.patch_batch or windows.shape[0]
        outputs = []
        for part in torch.split(windows, chunk):
            if self.checkpoint and torch.is_grad_enabled():
                outputs.append(_checkpoint(self.patch_model, part, use_reentrant=False))
            else:
                outputs.append(self.patch_model(part))
        return stitch_patches(torch.cat(outputs), self.levels, 0, x.shape[0])


# ----------------------------------------------------------------------------- data
class PatchedDataset(Dataset):
    """Training pairs on patches: what MG-TFNO trains on.

    Item ``i`` is patch ``i mod 2**(L d)`` (order of :func:`make_patches`) of sample
    ``i // 2**(L d)`` of ``dataset``: the input window with its context levels (and
    coordinates), ``(C (L + 1) [+ 2 d], *(P + 2 padding))``, and the unpadded fine patch of
    the target,
    ``(C_out, *P)``. Train :attr:`MGPatchedOperator.patch_model` on it with a plain
    :class:`~sciml.train.Trainer`; evaluate full fields through the
    :class:`MGPatchedOperator` itself.

    Parameters
    ----------
    dataset : Dataset
        Map-style ``(x, y)`` pairs shaped ``(C, *space)`` and ``(C_out, *space)``.
    levels : int
    padding : int or sequence of int
    coordinates : bool
        Append the global coordinate channels (:func:`window_coordinates`); must match the
        :class:`MGPatchedOperator` trained on it.
    """

    def __init__(
        self,
        dataset: Dataset,
        levels: int,
        padding: int | Sequence[int],
        coordinates: bool = False,
    ) -> None:
        self.n_samples = check_pair_dataset("dataset", dataset)
        self.dataset = dataset
        self.levels = _check_levels(levels)
        self.coordinates = check_bool("coordinates", coordinates)
        x, y = dataset[0]
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        _check_field("dataset[0][0]", x.unsqueeze(0))
        self.d = x.ndim - 1
        self.padding = _check_padding(padding, self.d)
        _patch_size("dataset[0][0]", x.shape[1:], self.levels)
        if y.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"dataset: input space {tuple(x.shape[1:])} and output space "
                f"{tuple(y.shape[1:])} differ; patching needs them equal"
            )
        self.per_sample = 2 ** (self.levels * self.d)

    def __len__(self) -> int:
        return self.n_samples * self.per_sample

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} patches")
        sample, patch = divmod(i % len(self), self.per_sample)
        x, y = self.dataset[sample]
        x, y = torch.as_tensor(x).unsqueeze(0), torch.as_tensor(y).unsqueeze(0)
        k = 2**self.levels
        ks = [(patch // k ** (self.d - 1 - j)) % k for j in range(self.d)]
        window = _windows(x, self.levels, self.padding, [[kj] for kj in ks], self.coordinates)
        size = _patch_size("dataset item", y.shape[2:], self.levels)
        core = y[(0, slice(None), *(slice(kj * p, (kj + 1) * p) for kj, p in zip(ks, size)))]
        return window.reshape(window.shape[1 + self.d :]), core
