# Copyright (c) cpn_mm authors. All rights reserved.
"""The limits an inference path is held against, per precision (f32, bf16, int8):

- the best measured GEMM of the providers present (an n x n x n matrix product in the same
  process and threads): PyTorch (``torch.mm``, oneDNN/MKL), oneDNN through OpenVINO (a MatMul;
  int8: FakeQuantize on both inputs, which its CPU plugin runs as an int8 GEMM) and ONNX
  Runtime (``MatMul``; int8: ``MatMulInteger`` u8 x s8), each named;
- the ISA's theoretical rate: FMA units x lanes (multiply-adds per unit and cycle for the
  precision: AVX-512/AVX2 float32 lanes, x2 for AVX512-BF16's ``vdpbf16ps``, x4 for VNNI's
  ``vpdpbusd``; AMX tiles where the CPU has them) x clock x cores in use. The micro-architecture
  is read from ``/proc/cpuinfo`` (vendor, family, model, flags), the clock from cpufreq's
  maximum, else ``cpu MHz``, or the higher clock that a measured GEMM implies (a boosting CPU
  in a virtual machine shows only its nominal clock); the line says which.

A measured GEMM is a floor of the limit, not the limit: a convolution kernel of one provider
can beat another provider's GEMM. The ISA rate is the ceiling of multiply-adds; only a path
that multiplies less than it counts (Winograd convolutions, OpenVINO's ``WINOGRAD``
capability) can pass it.
"""
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch


def median_time(fn: Callable, repeats: int, min_seconds: float = 0.) -> float:
    times = []
    while len(times) < repeats or sum(times) < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# ---------------------------------------------------------------------------- measured GEMMs
def _torch_gemm(n: int, threads: int, precision: str) -> Optional[Callable]:
    if precision == 'int8':
        return None
    torch.set_num_threads(threads)
    dtype = torch.float32 if precision == 'f32' else torch.bfloat16
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    return lambda: torch.mm(a, b)


def _ort_gemm(n: int, threads: int, precision: str) -> Optional[Callable]:
    if precision == 'bf16':  # ONNX Runtime's CPU provider has no bfloat16 GEMM
        return None
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return None
    int8 = precision == 'int8'
    types = (TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32) if int8 else \
        (TensorProto.FLOAT, ) * 3
    io = [helper.make_tensor_value_info(x, t, [n, n]) for x, t in zip('aby', types)]
    node = helper.make_node('MatMulInteger' if int8 else 'MatMul', ['a', 'b'], ['y'])
    model = helper.make_model(helper.make_graph([node], 'g', io[:2], io[2:]),
                              opset_imports=[helper.make_opsetid('', 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    feeds = dict(a=rng.integers(0, 255, (n, n), dtype=np.uint8),
                 b=rng.integers(-127, 127, (n, n), dtype=np.int8)) if int8 else \
        dict(a=rng.standard_normal((n, n), np.float32), b=rng.standard_normal((n, n), np.float32))
    return lambda: session.run(None, feeds)


def _openvino_gemm(n: int, threads: int, precision: str) -> Optional[Callable]:
    try:
        import openvino as ov
        import openvino.opset13 as ops
    except ImportError:
        return None
    core = ov.Core()
    if precision == 'bf16' and 'BF16' not in core.get_property('CPU',
                                                               'OPTIMIZATION_CAPABILITIES'):
        return None
    x = ops.parameter([n, n], np.float32, name='x')
    w = ops.constant(np.random.default_rng(0).uniform(-1, 1, (n, n)).astype(np.float32))

    def fq(node, lo, hi, levels=256):
        return ops.fake_quantize(node, np.float32(lo), np.float32(hi), np.float32(lo),
                                 np.float32(hi), levels)

    y = ops.matmul(fq(x, 0, 1), fq(w, -1, 1, 255), False, False) if precision == 'int8' else \
        ops.matmul(x, w, False, False)
    config = {'INFERENCE_NUM_THREADS': threads, 'PERFORMANCE_HINT': 'LATENCY'}
    if precision != 'int8':
        config['INFERENCE_PRECISION_HINT'] = precision
    request = core.compile_model(ov.Model([y], [x]), 'CPU', config).create_infer_request()
    data = np.random.default_rng(1).uniform(0, 1, (n, n)).astype(np.float32)
    return lambda: request.infer({0: data})


PROVIDERS = {'torch.mm': _torch_gemm, 'OpenVINO MatMul': _openvino_gemm,
             'ONNX Runtime MatMul': _ort_gemm}
NAMES = {('ONNX Runtime MatMul', 'int8'): 'ONNX Runtime MatMulInteger u8 x s8',
         ('OpenVINO MatMul', 'int8'): 'OpenVINO int8 MatMul (FakeQuantize)'}


def gemm_rates(threads: int, n: int = 2048, repeats: int = 5) -> Dict[str, List[dict]]:
    """Measured multiply-adds per second of an n x n x n matrix product, per precision and
    provider present: ``{precision: [{gmacs, by}, ...]}``, fastest first."""
    out: Dict[str, List[dict]] = {}
    for precision in ('f32', 'bf16', 'int8'):
        rates = []
        for provider, make in PROVIDERS.items():
            fn = make(n, threads, precision)
            if fn is None:
                continue
            fn()
            rate = n ** 3 / median_time(fn, repeats, 0.5) / 1e9
            by = NAMES.get((provider, precision), f'{provider} {precision}')
            rates.append(dict(gmacs=rate, by=by))
        out[precision] = sorted(rates, key=lambda r: -r['gmacs'])
    return out


# ---------------------------------------------------------------------------- the ISA
def cpu_info() -> dict:
    """``vendor``, ``family``, ``model``, ``flags`` of the first CPU, and its clock in GHz
    with where it was read (``/proc/cpuinfo``, cpufreq)."""
    info = dict(vendor='', family=0, model=0, flags=set(), ghz=None, clock_source='unknown')
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = (x.strip() for x in line.partition(':'))
                if key == 'vendor_id' and not info['vendor']:
                    info['vendor'] = value
                elif key == 'cpu family' and not info['family']:
                    info['family'] = int(value)
                elif key == 'model' and not info['model']:
                    info['model'] = int(value)
                elif key == 'flags' and not info['flags']:
                    info['flags'] = set(value.split())
                elif key == 'cpu MHz' and info['ghz'] is None:
                    info['ghz'], info['clock_source'] = float(value) / 1e3, \
                        'cpu MHz of /proc/cpuinfo (the nominal clock; boost may exceed it)'
    except OSError:
        return info
    try:
        with open('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq') as f:
            info['ghz'], info['clock_source'] = int(f.read()) / 1e6, 'cpufreq maximum'
    except (OSError, ValueError):
        pass
    return info


def microarchitecture(info: dict) -> tuple:
    """``(name, {precision: multiply-adds per core and cycle})`` of a CPU, from its vendor,
    family and flags: FMA units x lanes (float32), x2 with AVX512-BF16, x4 with VNNI (int8);
    AMX tiles: 1024 bf16 and 2048 int8 multiply-adds per cycle."""
    flags, vendor, family = info['flags'], info['vendor'], info['family']
    if 'avx512f' in flags and vendor == 'AuthenticAMD' and family == 25:
        name, units, lanes = 'AMD Zen 4: AVX-512 on 2 FMA pipes of 256 bit', 2, 8
    elif 'avx512f' in flags and vendor == 'AuthenticAMD':
        name, units, lanes = f'AMD family {family} (Zen 5 and later): 2 FMA pipes of 512 bit', \
            2, 16
    elif 'avx512f' in flags:
        name, units, lanes = 'AVX-512: 2 FMA units of 512 bit', 2, 16
    elif 'fma' in flags:
        name, units, lanes = 'AVX2: 2 FMA units of 256 bit', 2, 8
    else:
        return 'no FMA', {}
    per_cycle = {'f32': units * lanes}
    if 'amx_bf16' in flags:
        per_cycle['bf16'] = 1024
        name += ', AMX'
    elif 'avx512_bf16' in flags:
        per_cycle['bf16'] = units * lanes * 2
    if 'amx_int8' in flags:
        per_cycle['int8'] = 2048
    elif 'avx512_vnni' in flags or 'avx_vnni' in flags:
        per_cycle['int8'] = units * lanes * 4
    return name, per_cycle


def isa_peaks(threads: int, measured: Optional[Dict[str, List[dict]]] = None
              ) -> Dict[str, dict]:
    """The ISA's theoretical multiply-adds per second per precision, for ``threads`` cores:
    ``{precision: {gmacs, by}}`` (``by`` spells the product out).

    The clock is the one read (:func:`cpu_info`), or the one a measured GEMM of ``measured``
    (:func:`gemm_rates`) implies where that is higher: a CPU that boosts above its nominal
    clock (a virtual machine shows only that) runs faster than the clock read says, and a
    limit a measurement exceeds is none.
    """
    info = cpu_info()
    name, per_cycle = microarchitecture(info)
    ghz, source = info['ghz'], info['clock_source']
    for p, rates in (measured or {}).items():
        if rates and p in per_cycle:
            implied = rates[0]['gmacs'] / (per_cycle[p] * threads)
            if ghz is None or implied > ghz:
                ghz, source = implied, f'implied by {rates[0]["by"]} at ' \
                    f'{rates[0]["gmacs"]:.0f} GMAC/s; {info["clock_source"]}: ' \
                    f'{info["ghz"] or 0:.2f} GHz'
    if ghz is None:
        return {}
    return {p: dict(gmacs=macs * ghz * threads,
                    by=f'{name}: {macs} {p} multiply-adds/cycle x {ghz:.2f} GHz ({source}) x '
                    f'{threads} cores')
            for p, macs in per_cycle.items()}
