# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

import numpy as np
from mmpose.datasets.datasets.body import CocoDataset
from mmpose.registry import DATASETS


@DATASETS.register_module()
class CPNCocoDataset(CocoDataset):
    """COCO keypoint dataset that keeps CPN's "visible" flag through the pipeline.

    MMPose's :class:`CocoDataset` stores ``keypoints_visible = min(1, v)`` and so loses the
    difference between COCO ``v = 1`` (labelled, occluded) and ``v = 2`` (visible), which CPN
    needs: GlobalNet targets only visible keypoints, RefineNet every labelled one.

    In training (``test_mode=False``) this dataset stores ``keypoints_visible`` in shape
    (1, K, 2): ``[..., 0] = min(1, v)`` is MMPose's usual flag and ``[..., 1] = (v == 2)``. This
    is MMPose's own two-channel visibility layout, so ``RandomFlip`` swaps both channels with the
    keypoints, ``RandomHalfBody`` reads channel 0, and ``GenerateTarget`` splits it into
    ``keypoints_visible`` and ``keypoints_visible_weights``, which
    :class:`cpn_mm.codecs.MultiSigmaHeatmap` reads as the visible flag. A keypoint pushed out of
    the crop is dropped by the codec (weight 0 for both). In test mode the data are exactly
    :class:`CocoDataset`'s.

    Args: as :class:`mmpose.datasets.CocoDataset`.
    """

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None or self.test_mode:
            return data_info
        v = np.array(raw_data_info['raw_ann_info']['keypoints'],
                     dtype=np.float32).reshape(1, -1, 3)[..., 2]
        data_info['keypoints_visible'] = np.stack(
            [np.minimum(1, v), (v == 2).astype(np.float32)], axis=-1)
        return data_info
