# Copyright (c) cpn_mm authors. All rights reserved.
from typing import List, Optional

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

    Annotations are checked as they are loaded, in both modes: a non-finite number (NaN, inf) in
    an annotation's ``keypoints`` or ``bbox``, or in a box of ``bbox_file``, raises a
    ``ValueError`` naming the file, the annotation id (or detection index) and the field,
    instead of the keypoint silently vanishing from the targets.

    Args: as :class:`mmpose.datasets.CocoDataset`.
    """

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        ann = raw_data_info['raw_ann_info']
        for field in ('keypoints', 'bbox'):
            if field not in ann:
                continue
            values = np.asarray(ann[field], dtype=np.float64)
            if not np.isfinite(values).all():
                raise ValueError(
                    f'{self.ann_file}: annotation id {ann.get("id")} (image id '
                    f'{ann.get("image_id")}) has non-finite values in "{field}" at positions '
                    f'{np.flatnonzero(~np.isfinite(values)).tolist()}: {ann[field]}; '
                    'expected finite numbers (fix the conversion that wrote the file)')
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None or self.test_mode:
            return data_info
        v = np.array(ann['keypoints'], dtype=np.float32).reshape(1, -1, 3)[..., 2]
        data_info['keypoints_visible'] = np.stack(
            [np.minimum(1, v), (v == 2).astype(np.float32)], axis=-1)
        return data_info

    def _load_detection_results(self) -> List[dict]:
        data_list = super()._load_detection_results()
        for index, item in enumerate(data_list):
            if not np.isfinite(item['bbox']).all():
                raise ValueError(
                    f'{self.bbox_file}: detection {index} (image id {item["img_id"]}) has a '
                    f'non-finite "bbox" (x1, y1, x2, y2 = {item["bbox"].ravel().tolist()}); '
                    'expected finite numbers')
        return data_list
