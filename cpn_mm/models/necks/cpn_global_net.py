# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from ..utils import check_resize_mode, resize_bilinear, xavier_init_cfg


@MODELS.register_module()
class CPNGlobalNet(BaseModule):
    """GlobalNet of the Cascaded Pyramid Network (`CPN`_, tf-cpn's ``create_global_net``).

    Top-down from the coarsest level: a lateral 1x1 conv+BN+ReLU brings every backbone level to
    ``out_channels``; below the coarsest level the running map is bilinearly resized to the
    lateral's size, passed through a 1x1 conv *with bias, without BN or ReLU*, and added to the
    lateral. Every pyramid level also predicts heatmaps (1x1 conv+BN+ReLU, 3x3 conv+BN without
    activation), bilinearly resized to the output size.

    The heatmaps feed only the GlobalNet loss (and the cascade pictures): the RefineNet reads
    the pyramid features. So ``forward`` runs the heatmap predictors only where a loss can read
    their output, in training mode or while autograd records, or when asked
    (``with_heatmaps=True``); at inference (eval mode under ``torch.no_grad()``: ``test_step``,
    ``inference_topdown``, ``mode='tensor'`` in the test loop, ONNX export, FLOP counting) they
    are skipped (about 0.4 of CPN-R50's 6.3 GMAC per crop). Parameters and state dict are the
    same either way.

    The merge conv runs before the resize, at the coarser level's resolution: the same result
    with 4x fewer multiply-adds (docs/implementation.md, "Executed in a cheaper order").

    Variants (defaults: tf-cpn's layout with PyTorch's ``align_corners=False`` resizes):

        - ``resize_mode``: the bilinear convention of every resize (``'asymmetric'`` is TF1's
          ``resize_bilinear``, ``'align_corners'`` PyTorch's ``align_corners=True``).
        - ``merge_norm_cfg``: the merge conv has no bias and is followed by this norm, applied
          after the resize (pytorch-cpn's upsample, 1x1 conv, BN). Only the bias-free conv runs
          before the resize, so BN sees the same statistics as in the source when training.
        - ``heatmap_norm_after_resize``: the predictor's last norm runs after the resize to the
          output size (pytorch-cpn's 3x3 conv, upsample, BN). The same function in eval mode;
          in training BN's batch statistics are those of the resized maps, as in the source.

    Note:

        - batch size: B
        - backbone levels: L (C2..C5 for ResNet: L = 4), finest first
        - keypoint number: K
        - heatmap size: [W, H] (input size / 4 for ResNet: the size of C2)

    Args:
        in_channels (Sequence[int]): Channels of the backbone levels, finest first. At least 2.
            Defaults to ResNet-50/101's ``(256, 512, 1024, 2048)``
        out_channels (int): Channels of the pyramid features. Defaults to 256
        num_keypoints (int): K. Defaults to 17
        heatmap_size (tuple, optional): Output heatmap size [W, H]. It must equal the finest
            level's size (the reference predicts at input / 4). ``None`` takes that size.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``
        resize_mode (str): Bilinear convention, ``'half_pixel'`` (PyTorch's
            ``align_corners=False``), ``'align_corners'`` or ``'asymmetric'`` (TF1's legacy
            ``resize_bilinear``). Defaults to ``'half_pixel'``
        merge_norm_cfg (dict, optional): Norm after each merge conv (which then has no bias),
            applied after the resize. Defaults to ``None``: a merge conv with bias and no norm
        heatmap_norm_after_resize (bool): Apply the heatmap predictor's last norm after the
            resize to the output size instead of before it. Defaults to ``False``
        init_cfg (dict | list, optional): Initialisation; defaults to Xavier (tf-cpn's
            initializer) for convs and constant 1 for BN.

    Returns (``forward``):
        tuple: ``(feats, heatmaps)`` where ``feats`` are the L pyramid features
        P2..Pn (B, out_channels, h_i, w_i), finest first, and ``heatmaps`` the L GlobalNet
        heatmaps (B, K, H, W) in the same order, or ``()`` where they are skipped.

    .. _`CPN`: https://arxiv.org/abs/1711.07319
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 out_channels: int = 256,
                 num_keypoints: int = 17,
                 heatmap_size: Optional[Tuple[int, int]] = None,
                 norm_cfg: ConfigType = dict(type='BN'),
                 resize_mode: str = 'half_pixel',
                 merge_norm_cfg: OptConfigType = None,
                 heatmap_norm_after_resize: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(xavier_init_cfg() if init_cfg is None else init_cfg)
        if (not isinstance(in_channels, (tuple, list)) or len(in_channels) < 2
                or not all(isinstance(c, int) and c > 0 for c in in_channels)):
            raise ValueError('`in_channels` must list at least 2 positive channel counts, '
                             f'finest level first, got {in_channels!r}')
        if not isinstance(num_keypoints, int) or num_keypoints <= 0:
            raise ValueError(f'`num_keypoints` must be a positive integer, got {num_keypoints!r}')
        if heatmap_size is not None:
            if (len(heatmap_size) != 2 or not all(isinstance(s, int) and s > 0
                                                  for s in heatmap_size)):
                raise ValueError('`heatmap_size` must be two positive integers [W, H] or None, '
                                 f'got {heatmap_size!r}')
            heatmap_size = tuple(heatmap_size)
        self.in_channels = tuple(in_channels)
        self.out_channels = out_channels
        self.num_keypoints = num_keypoints
        self.num_levels = len(in_channels)
        self.heatmap_size = heatmap_size
        self.resize_mode = check_resize_mode(resize_mode)
        self.heatmap_norm_after_resize = bool(heatmap_norm_after_resize)

        self.lateral_convs = nn.ModuleList(
            ConvModule(c, out_channels, 1, norm_cfg=norm_cfg)
            for c in in_channels)
        # one merge conv per level below the coarsest one; bias, no BN, no ReLU (tf-cpn), or
        # no bias and a norm after the resize (merge_norm_cfg)
        if merge_norm_cfg is None:
            self.merge_convs = nn.ModuleList(
                nn.Conv2d(out_channels, out_channels, 1, bias=True)
                for _ in range(self.num_levels - 1))
        else:
            self.merge_convs = nn.ModuleList(
                ConvModule(out_channels, out_channels, 1, norm_cfg=merge_norm_cfg, act_cfg=None)
                for _ in range(self.num_levels - 1))
        self.predict_layers = nn.ModuleList(
            nn.Sequential(
                ConvModule(out_channels, out_channels, 1, norm_cfg=norm_cfg),
                ConvModule(
                    out_channels,
                    num_keypoints,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=None,
                    inplace=False)) for _ in range(self.num_levels))

    def forward(self,
                inputs: Sequence[Tensor],
                with_heatmaps: Optional[bool] = None
                ) -> Tuple[Tuple[Tensor, ...], Tuple[Tensor, ...]]:
        """Forward the GlobalNet.

        Args:
            inputs (Sequence[Tensor]): Backbone levels C2..Cn, finest first, in shape
                (B, in_channels[i], h_i, w_i)
            with_heatmaps (bool, optional): Run the heatmap predictors. ``None`` (what the
                estimator passes): in training mode or when autograd records
                (``self.training or torch.is_grad_enabled()``)

        Returns:
            tuple: ``(feats, heatmaps)``, see the class docstring; ``heatmaps`` is ``()``
            when the predictors do not run.
        """
        if len(inputs) != self.num_levels:
            raise ValueError(f'{self.__class__.__name__} expects {self.num_levels} backbone '
                             f'levels (len(in_channels)), got {len(inputs)}; check the '
                             'backbone\'s `out_indices`')
        out_size = tuple(inputs[0].shape[-2:])  # (H, W)
        if self.heatmap_size is not None and self.heatmap_size[::-1] != out_size:
            raise ValueError(
                f'`heatmap_size` {list(self.heatmap_size)} of {self.__class__.__name__} does not '
                f'match the finest backbone level [W, H] = {list(out_size[::-1])}: set it to '
                'input_size / 4 (the codec\'s `heatmap_size`)')
        if with_heatmaps is None:
            with_heatmaps = self.training or torch.is_grad_enabled()
        feats = [None] * self.num_levels
        heatmaps = [None] * self.num_levels
        last = None
        for i in range(self.num_levels - 1, -1, -1):
            lateral = self.lateral_convs[i](inputs[i])
            if last is None:
                last = lateral
            else:
                # merge_conv(resize(last)) as resize(merge_conv(last)); the result is saved by
                # nothing for backward, so the lateral is added in place
                last = self._merge(self.merge_convs[i], last, lateral.shape[-2:]).add_(lateral)
            feats[i] = last
            if with_heatmaps:
                heatmaps[i] = self._predict(self.predict_layers[i], last, out_size)
        return tuple(feats), tuple(heatmaps) if with_heatmaps else ()

    def _merge(self, merge: nn.Module, x: Tensor, size) -> Tensor:
        """``merge(resize(x))`` with the conv run before the resize (a fresh tensor)."""
        if isinstance(merge, ConvModule):
            # bias-free conv, resize, then the norm at the lateral's resolution
            return merge.norm(resize_bilinear(merge.conv(x), size, self.resize_mode))
        return resize_bilinear(merge(x), size, self.resize_mode)

    def _predict(self, predict: nn.Sequential, x: Tensor, size) -> Tensor:
        """GlobalNet heatmaps (B, K, H, W) of one pyramid level, resized to ``size``."""
        if self.heatmap_norm_after_resize:
            hidden, last = predict
            out = resize_bilinear(last.conv(hidden(x)), size, self.resize_mode)
            return last.norm(out)
        return resize_bilinear(predict(x), size, self.resize_mode)
