# Copyright (c) cpn_mm authors. All rights reserved.
from typing import List


def xavier_init_cfg() -> List[dict]:
    """CPN's default ``init_cfg``: Xavier-uniform convs (tf-cpn's initializer), norms at 1."""
    return [
        dict(type='Xavier', layer='Conv2d', distribution='uniform'),
        dict(type='Constant', layer=['_BatchNorm', 'GroupNorm'], val=1)
    ]
