# Copyright (c) cpn_mm authors. All rights reserved.
"""The one bfloat16 probe answers as the CPU's flags do, on every torch (torch 2.1 has no
``torch.cpu._is_avx512_bf16_supported``), and as OpenVINO does where it is installed."""
import sys

import pytest
import torch

from cpn_mm.utils import precision
from cpn_mm.utils.precision import (PRECISIONS, cpu_bf16_support, parse_dtype, parse_precision,
                                    precision_note)

needs_linux = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                 reason='reads /proc/cpuinfo')


def _from_flags() -> str:
    flags = precision._cpuinfo_flags()
    return 'AMX' if 'amx_bf16' in flags else (
        'AVX512-BF16' if 'avx512_bf16' in flags else 'none')


@needs_linux
def test_probe_agrees_with_the_cpu_flags():
    assert cpu_bf16_support() == _from_flags()


@needs_linux
def test_probe_without_torch_probes(monkeypatch):
    """As on torch 2.1: no ``torch.cpu._is_*_supported``; the flags answer."""
    monkeypatch.setattr(torch, 'cpu', object())
    assert cpu_bf16_support() == _from_flags()
    note = precision_note(torch.bfloat16, 'cpu')
    assert (note is None) == (_from_flags() != 'none'), note


def test_probe_agrees_with_openvino():
    pytest.importorskip('openvino')
    from cpn_mm.runtime import cpu_capabilities
    assert ('BF16' in cpu_capabilities()) == (cpu_bf16_support() != 'none')


def test_one_table_of_precision_names():
    assert parse_precision('bfloat16') == parse_precision(torch.bfloat16) == 'bf16'
    assert parse_precision('FP32') == 'f32' and parse_precision('int8') == 'int8'
    for name, dtype in PRECISIONS.items():
        if dtype is not None:
            assert parse_dtype(name) == dtype and parse_precision(dtype) == name
    with pytest.raises(ValueError, match='^`dtype` must be one of'):
        parse_dtype('int8')
