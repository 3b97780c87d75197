# Copyright (c) cpn_mm authors. All rights reserved.
"""The library's error for a bad argument or input file, and the plain file check."""
import os.path as osp
from typing import Dict, Optional


class InputError(ValueError):
    """A bad argument or input file. The message names the parameter in backquotes
    (e.g. ``bboxes`` in backquotes); a command-line tool prints it with its own
    option names (:meth:`for_command_line`) and without a traceback."""

    def for_command_line(self, flags: Dict[str, str]) -> str:
        """The message with every ```parameter``` of ``flags`` replaced by its option.

        Args:
            flags (dict): parameter name -> what the command line calls it, e.g.
                ``{'onnx_file': '--onnx'}``
        """
        message = str(self)
        for name, flag in flags.items():
            message = message.replace(f'`{name}`', flag)
        return message


def check_file(path: Optional[str], name: str) -> None:
    """Raise :class:`InputError` naming the parameter ``name`` unless ``path`` is ``None`` or a
    file."""
    if path is not None and not osp.isfile(path):
        raise InputError(f'`{name}` {path!r} does not exist or is not a file')


__all__ = ['InputError', 'check_file']
