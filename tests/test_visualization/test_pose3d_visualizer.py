# Copyright (c) cpn_mm authors. All rights reserved.
"""Pose3dAggVisualizer: MMPose's 3D visualizer drawing one 3D panel per person on matplotlib
>= 3.10 (MMPose 1.3.2's own fails there, and on any matplotlib with more than one person)."""
import numpy as np
import pytest
from mmengine.structures import InstanceData
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample

from cpn_mm.apis.lifting_formats import h36m_meta


def _draw(num_persons: int, image: np.ndarray) -> np.ndarray:
    vis = VISUALIZERS.build(dict(type='Pose3dAggVisualizer', name=f'test_3d_{num_persons}'))
    vis.set_dataset_meta(h36m_meta())
    rng = np.random.default_rng(num_persons)
    sample = PoseDataSample(pred_instances=InstanceData(
        keypoints=rng.uniform(-0.5, 0.5, (num_persons, 17, 3)).astype(np.float32),
        keypoint_scores=np.ones((num_persons, 17), np.float32)))
    vis.add_datasample('result', image, data_sample=sample, draw_gt=False,
                       num_instances=num_persons, show=False)
    return vis.get_image()


@pytest.mark.parametrize('num_persons', [1, 3])
def test_one_3d_panel_per_person(num_persons):
    image = np.full((120, 160, 3), 64, np.uint8)
    drawn = _draw(num_persons, image)
    one = _draw(1, image) if num_persons > 1 else drawn
    assert drawn.dtype == np.uint8 and drawn.ndim == 3 and drawn.shape[0] == one.shape[0]
    assert drawn.shape[1] == num_persons * one.shape[1]  # one 3D panel per person
    assert (drawn != 255).any()  # the panels are not blank
