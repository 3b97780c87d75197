# Copyright (c) cpn_mm authors. All rights reserved.
"""ONNX Runtime's ``CalibrationDataReader`` over calibration crops (imported by
:func:`cpn_mm.runtime.quantize_onnx` only: ``onnxruntime`` is optional)."""
from typing import Dict, Optional

import numpy as np
from onnxruntime.quantization import CalibrationDataReader


class CropReader(CalibrationDataReader):
    """Preprocessed crops (N, 3, h, w) float32 as the graph's ``input``, ``batch_size`` at a
    time."""

    def __init__(self, crops: np.ndarray, batch_size: int = 8) -> None:
        self.batches = [crops[i:i + batch_size] for i in range(0, len(crops), batch_size)]
        self.index = 0

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        if self.index >= len(self.batches):
            return None
        self.index += 1
        return {'input': self.batches[self.index - 1]}

    def rewind(self) -> None:
        self.index = 0
