# Copyright (c) cpn_mm authors. All rights reserved.
"""What the tools and users share: building a model, boxes and crops, batched top-down inference
(PyTorch in float32/bfloat16, or ONNX Runtime), ONNX export with a parity check, complexity."""
from cpn_mm.utils.precision import autocast, cpu_bf16_support, parse_dtype, precision_note
from .complexity import complexity, config_complexity, count_flops, input_shape_of
from .demo import TopdownDemo, run_demo
from .deploy import HeatmapModule, OnnxRuntimeBackend, export_onnx, require_onnx, verify_onnx
from .inference import (InputError, boxes_from_detector, boxes_of_image, check_file, clip_boxes,
                        coco_gt_boxes, coco_results, image_id_of, inference_topdown_batch,
                        init_model, keypoints_of, load_box_json, prepare_batch, prepare_crops,
                        sample_crops, set_inference_dtype)

__all__ = [
    'InputError', 'check_file', 'init_model', 'set_inference_dtype', 'image_id_of',
    'coco_gt_boxes', 'load_box_json', 'boxes_of_image', 'boxes_from_detector', 'clip_boxes',
    'prepare_batch', 'prepare_crops', 'sample_crops', 'inference_topdown_batch',
    'coco_results', 'keypoints_of', 'require_onnx', 'HeatmapModule', 'export_onnx',
    'OnnxRuntimeBackend', 'verify_onnx', 'count_flops', 'complexity', 'config_complexity',
    'input_shape_of', 'autocast', 'parse_dtype', 'cpu_bf16_support', 'precision_note',
    'TopdownDemo', 'run_demo'
]
