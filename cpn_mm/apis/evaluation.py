# Copyright (c) cpn_mm authors. All rights reserved.
"""COCO evaluation of a checkpoint through any inference path, by MMEngine's runner.

The config's test dataloader and evaluator (``CocoMetric``) run with the checkpoint loaded
into the runner's model, which is, for a path other than plain PyTorch, a backend around the
config's model (:func:`cpn_mm.runtime.runtime_config`): the same crops, flip test and
decoding, so AP differences are the path's own.
"""
import copy
import itertools
import os.path as osp
from typing import Dict, Optional

import numpy as np

# MMEngine names a runner's logger, message hub and visualizer ``<experiment>_<timestamp>``
# (seconds) and reuses an instance of the same name: two runners of one config started in the
# same second would share the first one's log file and metrics. Each evaluation gets its own.
_RUNS = itertools.count()


def evaluate(config, checkpoint: str, work_dir: str, gt_boxes: bool = True,
             backend: str = 'pytorch', precision: Optional[str] = None,
             onnx_file: Optional[str] = None, compile: bool = False,
             threads: Optional[int] = None) -> Dict[str, object]:
    """Test ``checkpoint`` on the config's test set.

    Args:
        config (str | Config): The model's config (a ``Config`` is not changed); its
            ``test_dataloader`` is the test set
        checkpoint (str): The checkpoint (.pth)
        work_dir (str): The runner's work directory (logs, exported files)
        gt_boxes (bool): Ground-truth person boxes (``bbox_file=None``); ``False``: the
            config's detected boxes (its ``bbox_file``)
        backend, precision, onnx_file, compile, threads: The inference path
            (:func:`cpn_mm.runtime.runtime_config`)

    Returns:
        dict: ``AP`` (``coco/AP``), ``metrics`` (all of them), ``keypoints`` (N, K, 2) and
        ``scores`` (N, K) of every instance, sorted by image and instance id, and the
        runner's ``log_file``.
    """
    import mmengine
    from mmengine.config import Config
    from mmengine.runner import Runner

    import cpn_mm  # noqa: F401
    from cpn_mm.runtime import runtime_config
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    cfg.work_dir = work_dir
    stem = osp.splitext(osp.basename(cfg.filename))[0] if cfg.filename else 'evaluate'
    cfg.experiment_name = f'{stem}_evaluate{next(_RUNS)}'
    cfg.load_from = checkpoint
    cfg.launcher = 'none'
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    if gt_boxes:
        cfg.test_dataloader.dataset.bbox_file = None
    dump = osp.join(work_dir, 'preds.pkl')
    evaluator = cfg.test_evaluator
    cfg.test_evaluator = (list(evaluator) if isinstance(evaluator, (list, tuple))
                          else [evaluator]) + [dict(type='DumpResults', out_file_path=dump)]
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator'):
        cfg[key] = None
    cfg.train_cfg = cfg.val_cfg = cfg.optim_wrapper = cfg.param_scheduler = None
    if backend != 'pytorch' or precision is not None or onnx_file is not None or compile:
        cfg.model = runtime_config(cfg.model, backend, precision, onnx_file,
                                   osp.join(work_dir, 'deploy'), compile, threads)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    preds = sorted(mmengine.load(dump), key=lambda p: (p['img_id'], p['id']))
    kpts = np.concatenate([p['pred_instances']['keypoints'] for p in preds])
    scores = np.concatenate([p['pred_instances']['keypoint_scores'] for p in preds])
    return dict(AP=float(metrics['coco/AP']), metrics=metrics, keypoints=kpts, scores=scores,
                log_file=osp.join(runner.log_dir, f'{runner.timestamp}.log'))


__all__ = ['evaluate']
