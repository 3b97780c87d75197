# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

from mmengine.hooks import Hook
from mmengine.utils import ProgressBar
from mmpose.registry import HOOKS


@HOOKS.register_module()
class TrainProgressBarHook(Hook):
    """Shows MMEngine's ``ProgressBar`` over all training iterations (rank 0 only)."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._bar: Optional[ProgressBar] = None

    def before_train(self, runner) -> None:
        if runner.rank == 0:
            self._bar = ProgressBar(runner.max_iters - runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._bar is not None:
            self._bar.update()

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None
