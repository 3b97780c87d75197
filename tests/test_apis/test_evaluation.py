# Copyright (c) cpn_mm authors. All rights reserved.
"""``cpn_mm.apis.evaluate``: one MMEngine runner per call, each with its own log."""
import time

from cpn_mm.apis.evaluation import evaluate


def test_evaluations_in_one_second_keep_their_own_logs(sample_checkpoint, tmp_path, monkeypatch):
    """MMEngine names a runner's logger after its config and its start time in seconds and reuses
    a logger of the same name: two evaluations of one config started in the same second (the
    sample's takes less than a second on a fast CPU) wrote into the first one's log. The second
    is pinned here by giving both runners the same timestamp."""
    config, ckpt = sample_checkpoint
    real = time.strftime
    monkeypatch.setattr(time, 'strftime', lambda fmt, t=None: '20260101_000000'
                        if fmt == '%Y%m%d_%H%M%S' else real(fmt, *(() if t is None else (t, ))))
    runs = [evaluate(config, ckpt, str(tmp_path / name), gt_boxes=True) for name in 'ab']
    for name, run in zip('ab', runs):
        assert run['log_file'].startswith(str(tmp_path / name)), run['log_file']
        with open(run['log_file']) as f:  # absent when the second run logged into the first's
            log = f.read()
        assert 'coco/AP' in log
    assert runs[0]['AP'] == runs[1]['AP']
