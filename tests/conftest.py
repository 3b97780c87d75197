# Copyright (c) cpn_mm authors. All rights reserved.
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE = osp.join(REPO, 'data', 'coco_sample')


@pytest.fixture(scope='session', autouse=True)
def _register():
    import cpn_mm  # noqa: F401  (registers the modules)
    from mmpose.utils import register_all_modules
    register_all_modules()
