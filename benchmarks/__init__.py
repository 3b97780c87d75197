# Copyright (c) cpn_mm authors. All rights reserved.
"""Side-by-side benchmarks of cpn_mm against MMPose (``python benchmarks/run.py``).

- :mod:`benchmarks.contenders`: the models compared, how they are built, their inputs, GMACs
- :mod:`benchmarks.sections`: the measurements; each section returns data (dicts of numbers)
- :mod:`benchmarks.render`: the one renderer, data -> markdown tables
- :mod:`benchmarks.run`: the command line (settings, machine line, ``--json``)
"""
