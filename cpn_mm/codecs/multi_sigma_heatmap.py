# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.registry import KEYPOINT_CODECS


def _check_kernel(name: str, k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0 or k % 2 == 0:
        raise ValueError(f'`{name}` must be a positive odd integer, got {k!r}')
    return int(k)


def _check_size(name: str, size) -> Tuple[int, int]:
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size)):
        raise ValueError(f'`{name}` must be two positive integers [w, h], got {size!r}')
    return int(size[0]), int(size[1])


def _blurred_delta_profiles(centers: np.ndarray, length: int, kernel_size: int) -> np.ndarray:
    """1-D profiles of ``cv2.GaussianBlur(delta, (k, k), 0)`` along one axis.

    cv2's Gaussian blur is separable with the kernel ``cv2.getGaussianKernel(k, 0)`` and, by
    default, ``BORDER_REFLECT_101`` borders: a delta at ``c`` near a border also receives the
    mass of its mirror images at ``-c`` and ``2 * (length - 1) - c``.

    Args:
        centers (np.ndarray): Integer delta positions in shape (M,), all in ``[0, length)``
        length (int): Number of cells along the axis
        kernel_size (int): Odd kernel size

    Returns:
        np.ndarray: Profiles in shape (M, length), float64.
    """
    r = kernel_size // 2
    if r >= length:
        raise ValueError(f'kernel size {kernel_size} must be smaller than 2 * heatmap '
                         f'extent ({length}) - 1 for the border reflection to be exact')
    g = cv2.getGaussianKernel(kernel_size, 0).ravel()  # float64, (k,)
    pos = np.arange(length)
    out = np.zeros((centers.shape[0], length), dtype=np.float64)
    mirrors = (centers, -centers, 2 * (length - 1) - centers)
    for i, p in enumerate(mirrors):
        d = pos[None] - p[:, None] + r
        valid = (d >= 0) & (d < kernel_size)
        if i == 1:  # the mirror of 0 about 0 is itself: count it once
            valid &= (centers != 0)[:, None]
        elif i == 2:
            valid &= (centers != length - 1)[:, None]
        out += np.where(valid, g[np.clip(d, 0, kernel_size - 1)], 0.)
    return out


@KEYPOINT_CODECS.register_module()
class MultiSigmaHeatmap(BaseKeypointCodec):
    """CPN's multi-kernel heatmap targets and test-time decoding (tf-cpn).

    One ``encode`` call produces the targets of every GlobalNet level (P2..Pn, one kernel each,
    CPN uses 15, 11, 9, 7 for P2, P3, P4, P5) and of the RefineNet (kernel 7). Each map is
    ``cv2.GaussianBlur`` of a delta at ``floor(coord * heatmap_size / input_size)`` with sigma 0,
    divided by its maximum and multiplied by 255, exactly as tf-cpn's ``joints_heatmap_gen``,
    computed in closed form (separable kernel with cv2's reflected borders), without a
    per-keypoint loop.

    Note:

        - instance number: N (1 for top-down training)
        - keypoint number: K
        - GlobalNet levels: L (``len(kernel_sizes)``)
        - image size: [w, h]
        - heatmap size: [W, H]

    Visibility: ``keypoints_visible`` is MMPose's labelled flag (COCO v >= 1). The "visible"
    flag (COCO v == 2), which alone gives a GlobalNet target in CPN, is read from
    ``keypoints_visible_weights``, which :class:`cpn_mm.datasets.CPNCocoDataset` fills and
    MMPose's ``GenerateTarget`` splits off a ``(N, K, 2)`` ``keypoints_visible``. Without it every
    labelled keypoint counts as visible.

    Encoded:

        - heatmaps (list[np.ndarray]): L + 1 arrays in shape (K, H, W), float32, peak 255:
            the GlobalNet levels in ``kernel_sizes`` order, then the RefineNet target
        - keypoint_weights (list[np.ndarray]): L + 1 arrays in shape (N, K): for the GlobalNet
            levels 1 where the keypoint is visible (v == 2) and inside the heatmap, for the
            RefineNet 1 where it is labelled (v >= 1) and inside the heatmap; 0 otherwise

    A keypoint that is unlabelled or whose cell ``floor(coord * W / w)`` falls outside the
    heatmap (e.g. pushed out of the crop by augmentation) gets an all-zero map and weight 0.

    Args:
        input_size (tuple): Image size in [w, h]
        heatmap_size (tuple): Heatmap size in [W, H]
        kernel_sizes (Sequence[int]): Odd Gaussian kernel sizes of the GlobalNet levels, finest
            (P2) first. Defaults to ``(15, 11, 9, 7)``
        refine_kernel_size (int): Odd kernel size of the RefineNet target. Defaults to 7
        sigmas (Sequence[float], optional): If given, L + 1 standard deviations (in heatmap
            cells) of analytic Gaussians ``255 * exp(-d^2 / (2 sigma^2))`` that replace the
            blurred deltas (GlobalNet levels then RefineNet). Defaults to ``None``
        blur_kernel_size (int): Kernel of the test-time Gaussian blur. Defaults to 21
        blur_border (int): Zero padding added before the test-time blur. Defaults to 10
        shift (float): Distance (heatmap cells) moved toward the second maximum. Defaults to 0.25

    .. _`CPN`: https://arxiv.org/abs/1711.07319
    """

    auxiliary_encode_keys = {'keypoints_visible_weights'}
    label_mapping_table = dict(keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')

    def __init__(self,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 kernel_sizes: Sequence[int] = (15, 11, 9, 7),
                 refine_kernel_size: int = 7,
                 sigmas: Optional[Sequence[float]] = None,
                 blur_kernel_size: int = 21,
                 blur_border: int = 10,
                 shift: float = 0.25) -> None:
        super().__init__()
        self.input_size = _check_size('input_size', input_size)
        self.heatmap_size = _check_size('heatmap_size', heatmap_size)
        if not isinstance(kernel_sizes, (tuple, list)) or len(kernel_sizes) < 1:
            raise ValueError('`kernel_sizes` must be a non-empty sequence of odd integers, '
                             f'got {kernel_sizes!r}')
        self.kernel_sizes = tuple(
            _check_kernel(f'kernel_sizes[{i}]', k) for i, k in enumerate(kernel_sizes))
        self.refine_kernel_size = _check_kernel('refine_kernel_size', refine_kernel_size)
        self.num_levels = len(self.kernel_sizes)
        if sigmas is not None:
            if len(sigmas) != self.num_levels + 1 or not all(s > 0 for s in sigmas):
                raise ValueError(
                    f'`sigmas` must hold {self.num_levels + 1} positive values (one per '
                    f'GlobalNet level, then the RefineNet), got {sigmas!r}')
            sigmas = tuple(float(s) for s in sigmas)
        self.sigmas = sigmas
        self.blur_kernel_size = _check_kernel('blur_kernel_size', blur_kernel_size)
        if not isinstance(blur_border, (int, np.integer)) or blur_border < 0:
            raise ValueError(f'`blur_border` must be a non-negative integer, got {blur_border!r}')
        self.blur_border = int(blur_border)
        self.shift = float(shift)
        W, H = self.heatmap_size
        if sigmas is None:
            for i, k in enumerate(self.kernel_sizes + (self.refine_kernel_size, )):
                if k // 2 >= min(W, H):
                    raise ValueError(f'kernel size {k} (level {i}) is too large for '
                                     f'`heatmap_size` {self.heatmap_size}: its radius must be '
                                     'smaller than the heatmap width and height')
        # per-cell windows around each keypoint: values (L + 1, cells, window) and flat
        # offsets (cells, window); the window spans the largest kernel (an analytic Gaussian:
        # the whole axis)
        kmax = max(self.kernel_sizes + (self.refine_kernel_size, ))
        self._win_x, self._off_x = self._make_windows(W, W if sigmas else min(kmax, W))
        self._win_y, self._off_y = self._make_windows(H, H if sigmas else min(kmax, H))
        self._off_y = self._off_y * W
        # input pixels per heatmap cell, [x, y]
        self.scale_factor = (np.array(self.input_size, dtype=np.float32) /
                             np.array(self.heatmap_size, dtype=np.float32))

    def _make_windows(self, length: int, window: int) -> Tuple[np.ndarray, np.ndarray]:
        """Window values (L + 1, length, window) and positions (length, window) per cell."""
        profiles = self._make_profiles(length)
        centers = np.arange(length)
        pos = np.clip(centers - window // 2, 0, length - window)[:, None] + np.arange(window)
        return np.take_along_axis(profiles, pos[None], axis=2), pos

    def _make_profiles(self, length: int) -> np.ndarray:
        """Per-cell 1-D profiles of every level, peak sqrt(255) (float32), in shape
        (L + 1, length, length): ``[level, c]`` is the profile of a keypoint in cell ``c``."""
        centers = np.arange(length)
        levels = []
        for level, k in enumerate(self.kernel_sizes + (self.refine_kernel_size, )):
            if self.sigmas is None:
                p = _blurred_delta_profiles(centers, length, k)
            else:
                s = self.sigmas[level]
                p = np.exp(-(centers[None] - centers[:, None])**2 / (2 * s * s))
            levels.append(p / p.max(axis=1, keepdims=True))
        return np.stack(levels, axis=0).astype(np.float32) * np.float32(
            np.sqrt(255.))  # the product of the x and y profiles peaks at 255

    # ------------------------------------------------------------------ encode
    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               keypoints_visible_weights: Optional[np.ndarray] = None) -> dict:
        """Encode keypoints (input image space, [x, y]) into every level's heatmaps.

        Args:
            keypoints (np.ndarray): Keypoint coordinates in shape (N, K, 2)
            keypoints_visible (np.ndarray, optional): Labelled flags (COCO v >= 1) in shape
                (N, K). Defaults to all labelled
            keypoints_visible_weights (np.ndarray, optional): Visible flags (COCO v == 2) in
                shape (N, K). Defaults to ``keypoints_visible``

        Returns:
            dict: ``heatmaps`` (L + 1 arrays (K, H, W)) and ``keypoint_weights``
            (L + 1 arrays (N, K)); heatmaps are the maximum over the N instances.

        Raises:
            ValueError: if a keypoint coordinate is not finite or a flag array has the wrong
                shape.
        """
        keypoints = np.asarray(keypoints)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f'`keypoints` must have shape (N, K, 2), got {keypoints.shape}')
        N, K, _ = keypoints.shape
        if not np.isfinite(keypoints).all():
            bad = sorted({int(k) for k in np.argwhere(~np.isfinite(keypoints))[:, 1]})
            raise ValueError(f'`keypoints` must be finite; keypoints {bad} hold NaN or inf '
                             '(check the annotation file)')
        if keypoints_visible is None:
            keypoints_visible = np.ones((N, K), dtype=np.float32)
        keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
        if keypoints_visible.shape != (N, K):
            raise ValueError(f'`keypoints_visible` must have shape {(N, K)}, '
                             f'got {keypoints_visible.shape}')
        if keypoints_visible_weights is None:
            keypoints_visible_weights = keypoints_visible
        keypoints_visible_weights = np.asarray(keypoints_visible_weights, dtype=np.float32)
        if keypoints_visible_weights.shape != (N, K):
            raise ValueError(f'`keypoints_visible_weights` must have shape {(N, K)}, '
                             f'got {keypoints_visible_weights.shape}')

        W, H = self.heatmap_size
        # heatmap cell of each keypoint, [x, y]; tf-cpn: int(coord * out / in)
        cells = np.floor(keypoints / self.scale_factor).astype(np.int64)
        inside = ((cells[..., 0] >= 0) & (cells[..., 0] < W) & (cells[..., 1] >= 0)
                  & (cells[..., 1] < H))
        labelled = (keypoints_visible > 0.5) & inside
        visible = labelled & (keypoints_visible_weights > 0.5)

        # (L + 1, N, K) masks: GlobalNet levels take visible keypoints, RefineNet labelled ones
        masks = np.concatenate(
            [np.repeat(visible[None], self.num_levels, axis=0), labelled[None]], axis=0)
        maps = self._paint(cells[0], masks[:, 0])
        for n in range(1, N):  # instances (1 in top-down training); keypoints are vectorised
            np.maximum(maps, self._paint(cells[n], masks[:, n]), out=maps)
        heatmaps = list(maps)
        keypoint_weights = list(masks.astype(np.float32))
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def _paint(self, cells: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """One instance's maps of every level, in shape (L + 1, K, H, W).

        A map is nonzero only within its kernel radius, so only a window of the largest
        kernel's size around each keypoint is written (shifted to stay inside the map; the
        profiles include cv2's reflected mass), for all keypoints and levels in one vectorised
        assignment into a zero array.

        Args:
            cells (np.ndarray): Keypoint cells [x, y] in shape (K, 2), valid where masked
            masks (np.ndarray): Bool masks in shape (L + 1, K)
        """
        W, H = self.heatmap_size
        maps = np.zeros((self.num_levels + 1, cells.shape[0], H, W), dtype=np.float32)
        sel = np.flatnonzero(masks.any(axis=0))  # keypoints with a map on any level
        if sel.size:
            cx, cy = cells[sel, 0], cells[sel, 1]
            vx = self._win_x[:, cx] * masks[:, sel, None]  # (L + 1, n, wx)
            vy = self._win_y[:, cy]  # (L + 1, n, wy)
            # flat index of (level, keypoint, row, column)
            base = (np.arange(self.num_levels + 1)[:, None] * cells.shape[0] + sel) * (H * W)
            idx = base[:, :, None, None] + (self._off_y[cy][:, :, None] +
                                            self._off_x[cx][:, None, :])
            # 1-D indices: numpy's fast path for fancy assignment
            maps.reshape(-1)[idx.ravel()] = (vy[..., :, None] * vx[..., None, :]).ravel()
        return maps

    # ------------------------------------------------------------------ decode
    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Decode one instance's heatmaps, see :meth:`batch_decode`.

        Args:
            encoded (np.ndarray): Heatmaps in shape (K, H, W)

        Returns:
            tuple: keypoints (1, K, 2) in the input image space and scores (1, K).
        """
        keypoints, scores = self.batch_decode(np.asarray(encoded)[None])
        return keypoints[0], scores[0]

    def batch_decode(self, batch_heatmaps) -> Tuple[np.ndarray, np.ndarray]:
        """tf-cpn's test-time decoding, vectorised over samples and keypoints.

        Per map: normalise to maximum 1, zero-pad by ``blur_border``, ``cv2.GaussianBlur``
        (``blur_kernel_size``, sigma 0), take the maximum, move ``shift`` cells toward the second
        maximum (the maximum pixel zeroed), clip to the heatmap, map to the input image as
        ``x * stride + stride / 2``. Score = raw heatmap / 255 + 0.5 at the rounded location.

        Args:
            batch_heatmaps (np.ndarray | Tensor): Heatmaps in shape (B, K, H, W), any float
                dtype (bfloat16 from autocast included); decoded in float32

        Returns:
            tuple:
            - keypoints (np.ndarray): (B, 1, K, 2), [x, y] in the input image space
            - scores (np.ndarray): (B, 1, K)
        """
        if hasattr(batch_heatmaps, 'detach'):
            # float() first: NumPy has no bfloat16
            batch_heatmaps = batch_heatmaps.detach().float().cpu().numpy()
        hm = np.asarray(batch_heatmaps, dtype=np.float32)
        if hm.ndim != 4:
            raise ValueError(f'`batch_heatmaps` must have shape (B, K, H, W), got {hm.shape}')
        B, K, H, W = hm.shape
        if (W, H) != self.heatmap_size:
            raise ValueError(f'heatmaps of size [W, H] = {[W, H]} do not match the codec\'s '
                             f'`heatmap_size` {list(self.heatmap_size)}')
        M = B * K
        raw = hm.reshape(M, H, W)
        amax = raw.reshape(M, -1).max(axis=1)
        # normalising by a positive maximum does not move the argmax; guard non-positive maps
        norm = np.where(amax > 0, amax, 1.).astype(np.float32)
        pad = self.blur_border
        Hp, Wp = H + 2 * pad, W + 2 * pad
        # (Hp, Wp, M): cv2 blurs up to 128 channels (OpenCV 5; 512 in OpenCV 4) in one call
        padded = np.zeros((Hp, Wp, M), dtype=np.float32)
        padded[pad:pad + H, pad:pad + W] = (raw / norm[:, None, None]).transpose(1, 2, 0)
        blurred = np.empty_like(padded)
        ksize = (self.blur_kernel_size, self.blur_kernel_size)
        for s in range(0, M, 128):
            chunk = cv2.GaussianBlur(np.ascontiguousarray(padded[..., s:s + 128]), ksize, 0)
            blurred[..., s:s + 128] = chunk.reshape(Hp, Wp, -1)
        flat = blurred.reshape(Hp * Wp, M).T.copy()  # (M, Hp*Wp)
        rows = np.arange(M)
        first = flat.argmax(axis=1)
        flat[rows, first] = 0
        second = flat.argmax(axis=1)
        y, x = np.divmod(first, Wp)
        py, px = np.divmod(second, Wp)
        dx = (px - x).astype(np.float64)
        dy = (py - y).astype(np.float64)
        ln = np.sqrt(dx * dx + dy * dy)
        move = ln > 1e-3
        step = np.where(move, self.shift / np.where(move, ln, 1.), 0.)
        x = np.clip(x - pad + step * dx, 0, W - 1)
        y = np.clip(y - pad + step * dy, 0, H - 1)
        rx = np.round(x).astype(np.int64)
        ry = np.round(y).astype(np.int64)
        scores = raw[rows, ry, rx] / 255. + 0.5
        stride = self.scale_factor.astype(np.float64)
        keypoints = np.stack([x * stride[0] + stride[0] / 2, y * stride[1] + stride[1] / 2],
                             axis=-1)
        return (keypoints.reshape(B, 1, K, 2).astype(np.float32),
                scores.reshape(B, 1, K).astype(np.float32))
