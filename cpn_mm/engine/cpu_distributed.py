# Copyright (c) cpn_mm authors. All rights reserved.
"""Distributed training and testing on machines without CUDA (gloo).

MMEngine 0.10.7's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and its runner
passes ``device_ids=[LOCAL_RANK]`` to DistributedDataParallel, both of which fail without CUDA.
:func:`cpn_mm.utils.adapt_to_device` (used by ``tools/train.py`` and ``tools/test.py``)
therefore initialises the gloo process group itself and selects this wrapper.
"""
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS  # the runner looks wrappers up here


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` for CPU modules: ``device_ids`` must be ``None``."""

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs) -> None:
        kwargs['device_ids'] = None
        kwargs.pop('output_device', None)
        super().__init__(module, detect_anomalous_params=detect_anomalous_params, **kwargs)
