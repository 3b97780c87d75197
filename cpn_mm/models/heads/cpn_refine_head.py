# Copyright (c) cpn_mm authors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.structures import PixelData
from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.backbones.resnet import Bottleneck
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import (ConfigType, OptConfigType, OptMultiConfig, OptSampleList,
                                 Predictions)
from torch import Tensor, nn

from ..utils import check_resize_mode, flip_average, resize_bilinear, xavier_init_cfg

# (pyramid features P2..Pn, GlobalNet heatmaps), as returned by CPNGlobalNet
CPNFeatures = Tuple[Sequence[Tensor], Sequence[Tensor]]


@MODELS.register_module()
class CPNRefineHead(BaseHead):
    """RefineNet of the Cascaded Pyramid Network (`CPN`_, tf-cpn's ``create_refine_net``), with
    CPN's two losses.

    Pyramid level ``P_i`` (i = 0 for the finest) goes through ``i`` bottlenecks (``in_channels``
    out, ``mid_channels`` mid, identity shortcut) and is bilinearly resized to the output size
    (the finest level's size); the levels are concatenated, go through one bottleneck with a
    projection shortcut and a 3x3 conv+BN that predicts the K refined heatmaps. The
    bottlenecks are MMPose's ResNet ``Bottleneck`` (``expansion = in_channels / mid_channels``).
    The concatenation is never built: the last bottleneck's 1x1 convs run per level before the
    resize (docs/implementation.md, "Executed in a cheaper order").

    Variants (defaults: tf-cpn's layout with PyTorch's ``align_corners=False`` resizes):
    ``resize_mode`` sets the bilinear convention (see :class:`CPNGlobalNet`), and
    ``cascade_projection_shortcut=True`` gives every cascade bottleneck a 1x1 conv+BN projection
    shortcut although its input and output channels are equal (pytorch-cpn). The order of the
    concatenation (finest first here) is a permutation of the last bottleneck's input channels:
    converters reorder those weights instead.

    Losses (tf-cpn): ``loss_global`` on each GlobalNet level's heatmaps against the targets of
    visible keypoints (averaged over levels; its default ``loss_weight=0.5`` is tf-cpn's /2)
    and ``loss_refine`` (OHKM over labelled keypoints) on the refined heatmaps.

    Note:

        - batch size: B
        - pyramid levels: L
        - keypoint number: K
        - heatmap size: [W, H]

    Args:
        in_channels (int): Channels of the pyramid features. Defaults to 256
        num_levels (int): L, the number of pyramid levels from the neck. Defaults to 4
        num_keypoints (int): K. Defaults to 17
        mid_channels (int): Middle channels of the bottlenecks. Defaults to 128
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``
        resize_mode (str): Bilinear convention of the resizes to the output size:
            ``'half_pixel'``, ``'align_corners'`` or ``'asymmetric'``. Defaults to
            ``'half_pixel'``
        cascade_projection_shortcut (bool): Give the cascade bottlenecks a projection shortcut
            (1x1 conv + norm) instead of the identity. Defaults to ``False``
        loss_global (dict): GlobalNet loss, called per level with (B, K) visible masks.
            Defaults to ``MaskedTargetMSELoss(loss_weight=0.5)``
        loss_refine (dict): RefineNet loss, called with (B, K) labelled masks. Defaults to
            ``OHKMMaskedMSELoss(topk=8)``
        decoder (dict, optional): The codec (:class:`MultiSigmaHeatmap`) used to decode
        init_cfg (dict | list, optional): Initialisation; defaults to Xavier for convs and
            constant 1 for BN.

    .. _`CPN`: https://arxiv.org/abs/1711.07319
    """

    def __init__(self,
                 in_channels: int = 256,
                 num_levels: int = 4,
                 num_keypoints: int = 17,
                 mid_channels: int = 128,
                 norm_cfg: ConfigType = dict(type='BN'),
                 resize_mode: str = 'half_pixel',
                 cascade_projection_shortcut: bool = False,
                 loss_global: ConfigType = dict(type='MaskedTargetMSELoss', loss_weight=0.5),
                 loss_refine: ConfigType = dict(type='OHKMMaskedMSELoss', topk=8),
                 decoder: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(xavier_init_cfg() if init_cfg is None else init_cfg)
        if not isinstance(num_levels, int) or num_levels < 1:
            raise ValueError(f'`num_levels` must be a positive integer, got {num_levels!r}')
        if not isinstance(num_keypoints, int) or num_keypoints <= 0:
            raise ValueError(f'`num_keypoints` must be a positive integer, got {num_keypoints!r}')
        if in_channels % mid_channels != 0:
            raise ValueError(f'`in_channels` ({in_channels}) must be a multiple of '
                             f'`mid_channels` ({mid_channels})')
        self.in_channels = in_channels
        self.num_levels = num_levels
        self.num_keypoints = num_keypoints
        self.out_channels = num_keypoints
        self.resize_mode = check_resize_mode(resize_mode)
        self.cascade_projection_shortcut = bool(cascade_projection_shortcut)

        self.loss_global = MODELS.build(loss_global)
        self.loss_refine = MODELS.build(loss_refine)
        topk = getattr(self.loss_refine, 'topk', None)
        if topk is not None and topk > num_keypoints:
            raise ValueError(f'`loss_refine.topk` ({topk}) must not exceed `num_keypoints` '
                             f'({num_keypoints})')
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None
        n_codec = getattr(self.decoder, 'num_levels', None)
        if n_codec is not None and n_codec != num_levels:
            raise ValueError(
                f'the codec has {n_codec} GlobalNet kernel sizes (`kernel_sizes`) but the head '
                f'has `num_levels`={num_levels} pyramid levels: give one kernel per neck level')

        expansion = in_channels // mid_channels

        def projection(channels: int) -> nn.Module:
            """A 1x1 conv+norm projection shortcut from ``channels`` to ``in_channels``."""
            return nn.Sequential(
                build_conv_layer(None, channels, in_channels, 1, bias=False),
                build_norm_layer(norm_cfg, in_channels)[1])

        self.level_blocks = nn.ModuleList(
            nn.Sequential(*[
                Bottleneck(
                    in_channels,
                    in_channels,
                    expansion=expansion,
                    downsample=projection(in_channels)
                    if self.cascade_projection_shortcut else None,
                    norm_cfg=norm_cfg) for _ in range(i)
            ]) for i in range(num_levels))
        cat_channels = in_channels * num_levels
        self.final_block = Bottleneck(
            cat_channels,
            in_channels,
            expansion=expansion,
            downsample=projection(cat_channels),
            norm_cfg=norm_cfg)
        self.final_layer = ConvModule(
            in_channels, num_keypoints, 3, padding=1, norm_cfg=norm_cfg, act_cfg=None)

    def _split(self, feats: CPNFeatures) -> Tuple[Sequence[Tensor], Sequence[Tensor]]:
        if (not isinstance(feats, (tuple, list)) or len(feats) != 2
                or len(feats[0]) != self.num_levels):
            raise ValueError(
                f'{self.__class__.__name__} expects the neck\'s output (pyramid features, '
                f'heatmaps) with `num_levels`={self.num_levels} levels; use CPNGlobalNet as '
                'the neck with as many `in_channels` as the head\'s `num_levels`')
        pyramid, global_heatmaps = feats
        K = global_heatmaps[0].shape[1] if len(global_heatmaps) else self.num_keypoints
        if K != self.num_keypoints:
            raise ValueError(f'the neck predicts {K} keypoints but the head has '
                             f'`num_keypoints`={self.num_keypoints}')
        return pyramid, global_heatmaps

    def forward(self, feats: CPNFeatures) -> Tensor:
        """Refined heatmaps (what ``mode='tensor'`` and export return).

        Args:
            feats (tuple): ``(feats, heatmaps)`` from :class:`CPNGlobalNet`: L pyramid features
                (B, in_channels, h_i, w_i), finest first, and L heatmaps (B, K, H, W) or
                ``()`` (not read here)

        Returns:
            Tensor: Refined heatmaps in shape (B, K, H, W), (H, W) the finest level's size.
        """
        pyramid, _ = self._split(feats)
        return self._refine(pyramid)

    def _refine(self, pyramid: Sequence[Tensor]) -> Tensor:
        """:meth:`forward` on checked pyramid features."""
        out_size = pyramid[0].shape[-2:]
        return self.final_layer(self._final_block(
            [block(p) for block, p in zip(self.level_blocks, pyramid)], out_size))

    def _final_block(self, levels: Sequence[Tensor], out_size) -> Tensor:
        """``final_block(cat([resize(x, out_size) for x in levels], dim=1))``, computed
        without the (B, L * in_channels, H, W) concatenation.

        The 1x1 convs that read the concatenation (``conv1`` and the projection shortcut's conv,
        both without bias) are sums over levels of 1x1 convs with the matching input-channel
        slice of their weights; each slice runs at its level's resolution and only its output is
        resized and summed. The rest is MMPose's ``Bottleneck.forward``.
        """
        blk = self.final_block
        proj_conv, proj_norm = blk.downsample
        w_mid = blk.conv1.weight.split(self.in_channels, dim=1)
        w_proj = proj_conv.weight.split(self.in_channels, dim=1)
        out = identity = None
        for x, wm, wp in zip(levels, w_mid, w_proj):
            # fresh tensors (conv or resize outputs): summing in place is safe
            o = resize_bilinear(F.conv2d(x, wm), out_size, self.resize_mode)
            i = resize_bilinear(F.conv2d(x, wp), out_size, self.resize_mode)
            out = o if out is None else out.add_(o)
            identity = i if identity is None else identity.add_(i)
        out = blk.relu(blk.norm1(out))
        out = blk.relu(blk.norm2(blk.conv2(out)))
        out = blk.norm3(blk.conv3(out))
        out += proj_norm(identity)
        return blk.relu(out)

    def _check_flip_indices(self, batch_data_samples: OptSampleList) -> Optional[List[int]]:
        if not batch_data_samples:
            return None
        flip_indices = batch_data_samples[0].metainfo.get('flip_indices', None)
        if flip_indices is not None and len(flip_indices) != self.num_keypoints:
            raise ValueError(
                f'the dataset has {len(flip_indices)} keypoints (metainfo `flip_indices`) but '
                f'the head has `num_keypoints`={self.num_keypoints}')
        return flip_indices

    def predict(self,
                feats: CPNFeatures,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Predict keypoints; with ``test_cfg.flip_test`` the refined heatmaps of the flipped
        image are flipped back (channels swapped with the dataset's ``flip_indices``, no shift
        unless ``shift_heatmap=True``) and averaged, as in tf-cpn
        (:func:`cpn_mm.models.utils.flip_average`, which the inference backends share). The
        heatmaps are cast to float32 first (a no-op in float32): under autocast
        (``test_cfg.dtype='bfloat16'``) the flip average and the decoding read float32.

        Args:
            feats: The neck's output, or ``[feats, feats_flipped]`` for flip test
            batch_data_samples (list[PoseDataSample]): The data samples
            test_cfg (dict): ``flip_test``, ``shift_heatmap``, ``output_heatmaps``

        Returns:
            list[InstanceData] (and list[PixelData] of (K, H, W) heatmaps with
            ``output_heatmaps``): ``keypoints`` (1, K, 2) in the input image space and
            ``keypoint_scores`` (1, K).
        """
        flip_indices = self._check_flip_indices(batch_data_samples)
        if test_cfg.get('flip_test', False):
            if not (isinstance(feats, list) and len(feats) == 2):
                raise ValueError('flip test expects [feats, feats_flipped]')
            if flip_indices is None:
                raise ValueError('flip test needs `flip_indices` in the data samples\' metainfo')
            _feats, _feats_flip = feats
            batch_heatmaps = flip_average(self.forward(_feats), self.forward(_feats_flip),
                                          flip_indices, test_cfg)
        else:
            batch_heatmaps = self.forward(feats).float()

        preds = self.decode(batch_heatmaps)
        if test_cfg.get('output_heatmaps', False):
            pred_fields = [PixelData(heatmaps=hm) for hm in batch_heatmaps.detach()]
            return preds, pred_fields
        return preds

    def loss(self,
             feats: CPNFeatures,
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """CPN's losses from the neck's output and the :class:`MultiSigmaHeatmap` targets.

        The targets are ``gt_fields`` (MultilevelPixelData) with L + 1 levels of (K, H, W)
        heatmaps (GlobalNet levels, then RefineNet) and ``gt_instance_labels.keypoint_weights``
        in shape (L + 1, 1, K).

        Returns:
            dict: ``loss_global``, ``loss_refine`` and, unless ``train_cfg.compute_acc`` is
            False (as in MMPose's heads), ``acc_pose`` (PCK of the refined heatmaps, read in
            float32).
        """
        self._check_flip_indices(batch_data_samples)
        pyramid, global_heatmaps = self._split(feats)
        if len(global_heatmaps) != self.num_levels:
            raise ValueError(
                'the neck returned no GlobalNet heatmaps, which `loss_global` needs: '
                'CPNGlobalNet computes them in training mode or while autograd records; '
                'call the neck with `with_heatmaps=True` to get them in eval mode under '
                'torch.no_grad()')
        refined = self._refine(pyramid)

        n_targets = len(batch_data_samples[0].gt_fields.heatmaps) if hasattr(
            batch_data_samples[0].gt_fields, 'nlevel') else 1
        if n_targets != self.num_levels + 1:
            raise ValueError(
                f'expected {self.num_levels + 1} target levels ({self.num_levels} GlobalNet '
                f'levels + RefineNet) but the codec made {n_targets}: the codec\'s '
                '`kernel_sizes` must have one entry per neck level (use MultiSigmaHeatmap)')
        # (L + 1, B, K)
        weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in batch_data_samples],
                            dim=1)
        targets = [
            torch.stack([d.gt_fields[level].heatmaps for d in batch_data_samples])
            for level in range(self.num_levels + 1)
        ]
        if targets[-1].shape != refined.shape:
            raise ValueError(
                f'target heatmaps {tuple(targets[-1].shape)} do not match the predicted '
                f'{tuple(refined.shape)} (B, K, H, W): the codec\'s `heatmap_size` must be the '
                'neck\'s output size (input_size / 4) and its keypoint count the head\'s '
                '`num_keypoints`')

        loss_global = sum(
            self.loss_global(hm, tgt, w)
            for hm, tgt, w in zip(global_heatmaps, targets, weights)) / self.num_levels
        loss_refine = self.loss_refine(refined, targets[-1], weights[-1])

        losses = dict(loss_global=loss_global, loss_refine=loss_refine)
        if train_cfg.get('compute_acc', True):
            _, avg_acc, _ = pose_pck_accuracy(
                output=to_numpy(refined.float()),
                target=to_numpy(targets[-1]),
                mask=to_numpy(weights[-1]) > 0)
            losses['acc_pose'] = torch.tensor(avg_acc, device=refined.device)
        return losses
