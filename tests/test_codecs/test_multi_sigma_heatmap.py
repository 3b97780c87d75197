# Copyright (c) cpn_mm authors. All rights reserved.
import cv2
import numpy as np
import pytest
from mmpose.registry import KEYPOINT_CODECS

from cpn_mm.codecs import MultiSigmaHeatmap

IN, HM = (192, 256), (48, 64)


def reference_map(kx, ky, k, W, H):
    """tf-cpn's joints_heatmap_gen for one keypoint: delta, cv2 blur, / max * 255."""
    m = np.zeros((H, W), np.float32)
    m[ky, kx] = 1
    m = cv2.GaussianBlur(m, (k, k), 0)
    return m / m.max() * 255


def random_keypoints(rng, n_kpt=40):
    W, H = HM
    kpts = rng.uniform([-20, -20], [IN[0] + 20, IN[1] + 20], size=(1, n_kpt, 2))
    # border cells on every side, and just-outside points
    border = [(0, 0), (W - 1, H - 1), (0, H - 1), (W - 1, 0), (1, 30), (46, 2), (3.9, 62),
              (-0.1, 10), (10, 64.0), (48.0, 5)]
    kpts[0, :len(border)] = np.array(border) * 4 + rng.uniform(0, 3.99, (len(border), 2)) * (
        np.array(border) >= 0) * (np.array(border) < [W, H])
    return kpts.astype(np.float32)


@pytest.mark.parametrize('seed', [0, 1])
def test_encode_matches_cv2_per_keypoint(seed):
    rng = np.random.default_rng(seed)
    codec = KEYPOINT_CODECS.build(dict(type='MultiSigmaHeatmap', input_size=IN, heatmap_size=HM))
    kpts = random_keypoints(rng)
    K = kpts.shape[1]
    labelled = (rng.uniform(size=(1, K)) > 0.2).astype(np.float32)
    visible = labelled * (rng.uniform(size=(1, K)) > 0.3)
    enc = codec.encode(kpts, labelled, visible)
    assert len(enc['heatmaps']) == 5 and len(enc['keypoint_weights']) == 5
    W, H = HM
    for level, k in enumerate((15, 11, 9, 7, 7)):
        for j in range(K):
            kx = int(np.floor(kpts[0, j, 0] * W / IN[0]))
            ky = int(np.floor(kpts[0, j, 1] * H / IN[1]))
            inside = 0 <= kx < W and 0 <= ky < H
            flag = visible[0, j] if level < 4 else labelled[0, j]
            got = enc['heatmaps'][level][j]
            if inside and flag:
                np.testing.assert_allclose(got, reference_map(kx, ky, k, W, H), atol=1e-3)
                assert got.max() == pytest.approx(255, abs=1e-3)
                assert enc['keypoint_weights'][level][0, j] == 1
            else:
                assert not got.any()
                assert enc['keypoint_weights'][level][0, j] == 0


def test_encode_decode_roundtrip_within_one_cell():
    rng = np.random.default_rng(3)
    codec = MultiSigmaHeatmap(input_size=IN, heatmap_size=HM)
    kpts = rng.uniform([0, 0], IN, size=(1, 17, 2)).astype(np.float32)
    enc = codec.encode(kpts)
    decoded, scores = codec.decode(enc['heatmaps'][-1])
    assert decoded.shape == (1, 17, 2) and scores.shape == (1, 17)
    # back in heatmap cells (decoding maps cell x to x * 4 + 2): within one cell of the
    # keypoint's cell; interior keypoints land within the 0.25-cell shift
    dec_cells = (decoded - 2) / 4
    cells = np.floor(kpts / 4)
    assert np.abs(dec_cells - cells).max() <= 1 + 1e-5
    interior = ((cells > 1) & (cells < np.array(HM) - 2)).all(-1)
    assert np.abs(dec_cells - cells)[interior].max() <= 0.25 + 1e-5
    np.testing.assert_allclose(scores[interior], 255 / 255 + 0.5, atol=1e-3)


def test_decode_quarter_shift_toward_second_maximum():
    codec = MultiSigmaHeatmap(input_size=IN, heatmap_size=HM)
    hm = np.zeros((2, 64, 48), np.float32)
    hm[0, 20, 10], hm[0, 20, 11] = 200, 150  # second maximum to the right
    hm[1, 30, 30], hm[1, 29, 30] = 200, 150  # second maximum above
    kpts, scores = codec.decode(hm)
    # x * stride + stride / 2 with x = 10 + 0.25
    np.testing.assert_allclose(kpts[0, 0], [(10 + 0.25) * 4 + 2, 20 * 4 + 2], atol=1e-4)
    np.testing.assert_allclose(kpts[0, 1], [30 * 4 + 2, (30 - 0.25) * 4 + 2], atol=1e-4)
    np.testing.assert_allclose(scores[0], [200 / 255 + 0.5, 200 / 255 + 0.5], atol=1e-6)


def reference_decode(res):
    """tf-cpn test loop for one sample, one keypoint at a time."""
    K, H, W = res.shape
    r0 = res.copy() / 255. + 0.5
    res = res.copy()
    out = np.zeros((K, 3))
    for w in range(K):
        res[w] /= np.amax(res[w])
    border = 10
    dr = np.zeros((K, H + 2 * border, W + 2 * border))
    dr[:, border:-border, border:-border] = res
    for w in range(K):
        dr[w] = cv2.GaussianBlur(dr[w], (21, 21), 0)
    for w in range(K):
        lb = dr[w].argmax()
        y, x = np.unravel_index(lb, dr[w].shape)
        dr[w, y, x] = 0
        lb = dr[w].argmax()
        py, px = np.unravel_index(lb, dr[w].shape)
        y -= border
        x -= border
        py -= border + y
        px -= border + x
        ln = (px**2 + py**2)**0.5
        x, y = float(x), float(y)
        if ln > 1e-3:
            x += 0.25 * px / ln
            y += 0.25 * py / ln
        x = max(0, min(x, W - 1))
        y = max(0, min(y, H - 1))
        out[w] = (x * 4 + 2, y * 4 + 2, r0[w, int(round(y) + 1e-10), int(round(x) + 1e-10)])
    return out


def test_batch_decode_matches_reference_loop():
    # 9 x 17 maps: more than one cv2 call (128 channels each)
    rng = np.random.default_rng(5)
    codec = MultiSigmaHeatmap(input_size=IN, heatmap_size=HM)
    # realistic maps: blurred peaks plus noise, including border peaks
    kpts = rng.uniform([-2, -2], [IN[0] + 2, IN[1] + 2], size=(9, 17, 2)).astype(np.float32)
    batch = np.stack([
        codec.encode(kpts[i:i + 1])['heatmaps'][-1] for i in range(9)
    ]) + rng.uniform(0, 30, size=(9, 17, 64, 48)).astype(np.float32)
    got_k, got_s = codec.batch_decode(batch)
    for i in range(9):
        ref = reference_decode(batch[i])
        np.testing.assert_allclose(got_k[i, 0], ref[:, :2], atol=1e-4)
        np.testing.assert_allclose(got_s[i, 0], ref[:, 2], atol=1e-5)


def test_analytic_sigmas():
    codec = MultiSigmaHeatmap(input_size=IN, heatmap_size=HM, sigmas=(4, 3, 2, 1.5, 1))
    enc = codec.encode(np.array([[[50.5, 99.0]]], np.float32))
    hm = enc['heatmaps'][2][0]
    cx, cy = 12, 24
    assert hm[cy, cx] == pytest.approx(255)
    assert hm[cy, cx + 2] == pytest.approx(255 * np.exp(-4 / 8), rel=1e-5)


@pytest.mark.parametrize('kwargs, match', [
    (dict(kernel_sizes=(15, 10, 9, 7)), 'kernel_sizes\\[1\\]'),
    (dict(kernel_sizes=(15, 11, 9, 0)), 'kernel_sizes\\[3\\]'),
    (dict(kernel_sizes=(15, 11, -9, 7)), 'kernel_sizes\\[2\\]'),
    (dict(refine_kernel_size=8), 'refine_kernel_size'),
    (dict(heatmap_size=(48, )), 'heatmap_size'),
    (dict(sigmas=(1, 2)), 'sigmas'),
    (dict(blur_kernel_size=20), 'blur_kernel_size'),
])
def test_bad_arguments(kwargs, match):
    args = dict(input_size=IN, heatmap_size=HM)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MultiSigmaHeatmap(**args)


def test_bad_encode_and_decode_shapes():
    codec = MultiSigmaHeatmap(input_size=IN, heatmap_size=HM)
    with pytest.raises(ValueError, match='keypoints_visible'):
        codec.encode(np.zeros((1, 17, 2)), np.ones((1, 16)))
    with pytest.raises(ValueError, match='heatmap_size'):
        codec.batch_decode(np.zeros((1, 17, 32, 24), np.float32))
