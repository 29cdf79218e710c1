"""Neural style transfer costs (Gatys et al.), exactly as in the lecture.

Notation: ``a[l]`` is the activation of hidden layer l for one image, shape ``(n_H, n_W, n_C)`` in the
lecture and ``(B, n_C, n_H, n_W)`` here (PyTorch order; B images are treated independently and their
costs summed).

* Content cost:   ``J_content(C, G) = 1/2 || a[l](C) - a[l](G) ||^2``
  (``normalization="normalized"``: the usual ``1 / (4 n_H n_W n_C)`` instead of 1/2, i.e. a mean; it does
  not grow with the image size, which a coarse-to-fine schedule needs).
* Style matrix:   ``G[l]_kk' = sum_i sum_j a[l]_ijk a[l]_ijk'``   (the Gram matrix, ``(B, n_C, n_C)``).
* Style cost:     ``J_style[l](S, G) = 1 / (2 n_H n_W n_C)^2 sum_k sum_k' (G[l](S)_kk' - G[l](G)_kk')^2``
* Over layers:    ``J_style(S, G) = sum_l lambda[l] J_style[l](S, G)``
* Total:          ``J(G) = alpha J_content(C, G) + beta J_style(S, G)``

The style cost can also be computed from per-position Gram matrices ``G / (n_H n_W)`` (:func:`style_cost_from_grams`):
``1 / (2 n_H n_W n_C)^2 ||G_S - G_G||^2 = 1 / (4 n_C^2) ||G_S / (n_H n_W) - G_G / (n_H n_W)||^2``, identical when S and
G have the same size, and the natural extension when the style image has another size than G.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch

from convapps.errors import InvalidInputError, ShapeError

ContentNormalization = Literal["lecture", "normalized"]


def _check_activation(a: torch.Tensor, name: str) -> None:
    if a.ndim != 4:
        raise ShapeError(f"{name} must be an activation (B, n_C, n_H, n_W), got shape {tuple(a.shape)}")


def gram_matrix(a: torch.Tensor, *, per_position: bool = False) -> torch.Tensor:
    """Style matrix ``G_kk' = sum_i sum_j a_ijk a_ijk'`` of an activation ``(B, n_C, n_H, n_W)`` -> ``(B, n_C, n_C)``.

    With ``per_position=True`` the sum becomes a mean over the ``n_H n_W`` positions (``G / (n_H n_W)``).
    """
    _check_activation(a, "a")
    b, c, h, w = a.shape
    flat = a.reshape(b, c, h * w)
    gram = flat @ flat.transpose(1, 2)
    return gram / (h * w) if per_position else gram


def content_cost(
    a_c: torch.Tensor, a_g: torch.Tensor, *, normalization: ContentNormalization = "lecture"
) -> torch.Tensor:
    """``J_content(C, G)`` for activations ``a[l](C)`` and ``a[l](G)``, both ``(B, n_C, n_H, n_W)``; a scalar.

    ``"lecture"``: ``1/2 ||a_C - a_G||^2``; ``"normalized"``: ``1 / (4 n_H n_W n_C) ||a_C - a_G||^2``.
    """
    _check_activation(a_c, "a_c")
    if a_c.shape != a_g.shape:
        raise ShapeError(f"content activations differ in shape: {tuple(a_c.shape)} vs {tuple(a_g.shape)}")
    squared = (a_c - a_g).pow(2).sum()
    if normalization == "lecture":
        return 0.5 * squared
    if normalization == "normalized":
        _, c, h, w = a_c.shape
        return squared / (4 * h * w * c)
    raise InvalidInputError(f"normalization must be 'lecture' or 'normalized', got {normalization!r}")


def style_cost(a_s: torch.Tensor, a_g: torch.Tensor) -> torch.Tensor:
    """``J_style[l](S, G) = 1/(2 n_H n_W n_C)^2 sum_kk' (G(S)_kk' - G(G)_kk')^2``; inputs ``(B, n_C, n_H, n_W)``.

    S and G must have the same shape (the lecture's setting); for a style image of another size use
    :func:`style_cost_from_grams` with per-position Gram matrices.
    """
    _check_activation(a_s, "a_s")
    if a_s.shape != a_g.shape:
        raise ShapeError(
            f"style activations differ in shape: {tuple(a_s.shape)} vs {tuple(a_g.shape)}; "
            "use style_cost_from_grams for images of different sizes"
        )
    _, c, h, w = a_g.shape
    diff = gram_matrix(a_s) - gram_matrix(a_g)
    return diff.pow(2).sum() / (2 * h * w * c) ** 2


def style_cost_from_grams(gram_s: torch.Tensor, a_g: torch.Tensor) -> torch.Tensor:
    """``J_style[l]`` from a precomputed per-position style Gram ``G(S) / (n_H n_W)`` ``(B or 1, n_C, n_C)``.

    Equals :func:`style_cost` when S and G have the same size:
    ``1 / (4 n_C^2) sum_kk' (G(S)_kk' / (n_H n_W) - G(G)_kk' / (n_H n_W))^2``.
    """
    _check_activation(a_g, "a_g")
    c = a_g.shape[1]
    if gram_s.shape[-2:] != (c, c):
        raise ShapeError(f"style Gram {tuple(gram_s.shape)} does not match {c} channels of a_g")
    diff = gram_s - gram_matrix(a_g, per_position=True)
    return diff.pow(2).sum() / (4 * c * c)


def layered_style_cost(
    grams_s: Mapping[str, torch.Tensor], acts_g: Mapping[str, torch.Tensor], weights: Mapping[str, float]
) -> torch.Tensor:
    """``J_style(S, G) = sum_l lambda[l] J_style[l](S, G)`` over the layers named in ``weights``.

    ``grams_s[l]`` are per-position Gram matrices of S (see :func:`style_cost_from_grams`), ``acts_g[l]``
    the activations of G, ``weights[l]`` the lambda[l].
    """
    missing = [name for name in weights if name not in grams_s or name not in acts_g]
    if missing:
        raise InvalidInputError(f"no style Gram or activation for layers {missing}")
    total = torch.zeros((), dtype=next(iter(acts_g.values())).dtype, device=next(iter(acts_g.values())).device)
    for name, lam in weights.items():
        total = total + lam * style_cost_from_grams(grams_s[name], acts_g[name])
    return total


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Squared total variation of images ``(B, C, H, W)``, as a mean over pixels (resolution independent).

    ``TV(x) = 1/(B C H W) sum (x[i+1, j] - x[i, j])^2 + (x[i, j+1] - x[i, j])^2``: a smoothness prior, not in
    the lecture; it removes the high-frequency noise pixel optimisation can leave.
    """
    if x.ndim != 4:
        raise ShapeError(f"x must be images (B, C, H, W), got shape {tuple(x.shape)}")
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).pow(2).sum()
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).pow(2).sum()
    return (dh + dw) / x.numel()


def total_cost(
    j_content: torch.Tensor,
    j_style: torch.Tensor,
    *,
    alpha: float,
    beta: float,
    j_tv: torch.Tensor | None = None,
    tv_weight: float = 0.0,
) -> torch.Tensor:
    """``J(G) = alpha J_content(C, G) + beta J_style(S, G)`` (+ ``tv_weight * TV(G)`` when given)."""
    total = alpha * j_content + beta * j_style
    if j_tv is not None and tv_weight:
        total = total + tv_weight * j_tv
    return total
