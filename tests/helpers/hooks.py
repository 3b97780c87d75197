# Copyright (c) cpn_mm authors. All rights reserved.
"""A test-only hook (imported through ``custom_imports`` in the distributed test): after
training, every rank saves its own model parameters to ``work_dir/rank{r}_params.pth``."""
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class DumpRankParamsHook(Hook):

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()},
                   osp.join(runner.work_dir, f'rank{runner.rank}_params.pth'))
