# Copyright (c) cpn_mm authors. All rights reserved.
"""The tools' side of the library's errors: a parameter's name as the tool's option.

The library names its parameters in backquotes (:class:`cpn_mm.utils.InputError`); a tool
prints ``error.for_command_line(flags_of(parser))`` instead of a traceback. Imported by the
tools next to it (``tools/`` is on ``sys.path`` when a tool runs as a script).
"""
import argparse
from typing import Dict


def flags_of(parser: argparse.ArgumentParser, **extra: str) -> Dict[str, str]:
    """Parameter name -> option of an ``argparse`` parser (an optional argument by its last
    option string, a positional one by its name), plus ``extra`` parameters of the library's
    own that the command line calls otherwise.

    argparse has no public list of a parser's arguments: its ``_actions`` is read here, the one
    place that does so.
    """
    flags = {a.dest: a.option_strings[-1] if a.option_strings else a.dest
             for a in parser._actions}
    flags.update(extra)
    return flags
