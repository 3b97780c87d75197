# Copyright (c) cpn_mm authors. All rights reserved.
"""Visualizers: MMPose's 3D pose visualizer on matplotlib >= 3.10."""
from .pose3d_visualizer import Pose3dAggVisualizer

__all__ = ['Pose3dAggVisualizer']
