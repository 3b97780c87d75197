# Copyright (c) cpn_mm authors. All rights reserved.
from .channels_last_hook import ChannelsLastHook
from .keep_freed_memory_hook import KeepFreedMemoryHook
from .progress_bar_hook import TrainProgressBarHook

__all__ = [
    'ChannelsLastHook', 'KeepFreedMemoryHook', 'TrainProgressBarHook'
]
