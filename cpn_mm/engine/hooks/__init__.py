# Copyright (c) cpn_mm authors. All rights reserved.
from .progress_bar_hook import TrainProgressBarHook

__all__ = ['TrainProgressBarHook']
