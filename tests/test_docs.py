# Copyright (c) cpn_mm authors. All rights reserved.
"""The README and the docs pages stay runnable: every Python block compiles (the config sketch
builds its model and pipeline), every repository path a command names exists, and every option a
command gives a tool is one the tool's ``--help`` lists. The commands themselves are run by the
tests of each tool (test_runner, test_tools, test_converters)."""
import glob
import os.path as osp
import re
import shlex
from functools import lru_cache

import pytest

from .helpers import REPO, script_main

PAGES = sorted(
    [osp.join(REPO, 'README.md'), osp.join(REPO, 'benchmarks', 'README.md')] +
    glob.glob(osp.join(REPO, 'docs', '*.md')))
PAGES = [p for p in PAGES if osp.isfile(p)]


def blocks(page, lang):
    with open(page, encoding='utf-8') as f:
        text = f.read()
    return re.findall(rf'```{lang}\n(.*?)```', text, flags=re.S)


def commands(page):
    for block in blocks(page, 'bash'):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.split(' # ')[0].strip()
            if line and not line.startswith('#'):
                yield line


@lru_cache(maxsize=None)
def tool_help(tool):
    """What ``python <tool> --help`` prints, run in this process (every tool's command line
    itself runs in its own tests)."""
    return script_main(tool, '--help').stdout


def test_pages_exist():
    assert osp.join(REPO, 'README.md') in PAGES and len(PAGES) >= 3


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, REPO))
def test_python_blocks_compile(page):
    for i, block in enumerate(blocks(page, 'python')):
        compile(block, f'{osp.relpath(page, REPO)} python block {i}', 'exec')


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, REPO))
def test_command_paths_and_options(page):
    for cmd in commands(page):
        tokens = shlex.split(cmd.replace('[', ' ').replace(']', ' '))
        for tok in tokens:
            tok = tok.split('=', 1)[-1]
            if re.match(r'(configs|tools|data|benchmarks|docs|resources)/', tok) and \
                    not re.search(r'[A-Z]{3,}|work_dirs|\*|\{', tok):
                assert osp.exists(osp.join(REPO, tok)), f'{page}: `{cmd}` names missing {tok}'
        tools = [t for t in tokens if re.match(r'(tools|benchmarks)/.*\.py$', t)]
        if tools and re.search(r'python3?$', tokens[tokens.index(tools[0]) - 1]):
            help_text = tool_help(tools[0])
            for flag in re.findall(r'(?<![\w-])(--[a-z][\w-]*)', cmd):
                assert flag in help_text, f'{page}: `{cmd}`: {tools[0]} has no option {flag}'


def test_own_config_sketch_builds():
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmpose.registry import MODELS
    sketch = next(b for b in blocks(osp.join(REPO, 'README.md'), 'python')
                  if 'CPNGlobalNet' in b)
    cfg = Config.fromstring(sketch, '.py')
    model = MODELS.build(cfg.model)
    assert type(model.neck).__name__ == 'CPNGlobalNet'
    Compose(cfg.train_pipeline)
    assert cfg.train_dataset.type == 'CPNCocoDataset'


def test_supported_range_is_the_same_in_setup_py_readme_and_stack_files():
    """setup.py's python_requires and classifiers, the README's supported range and its stack
    table, and requirements/stacks/*.txt say the same."""
    from importlib.metadata import metadata
    meta = metadata('cpn_mm')
    with open(osp.join(REPO, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    low = meta['Requires-Python'].replace('>=', '')
    assert f'Python ≥ {low}' in readme
    versions = [c.rsplit(':: ', 1)[1] for c in meta.get_all('Classifier')
                if c.startswith('Programming Language :: Python :: 3.')]
    assert versions and versions[0] == low
    for stack in ('pinned', 'torch2.1'):
        with open(osp.join(REPO, 'requirements', 'stacks', f'{stack}.txt')) as f:
            pins = dict(line.strip().split('==') for line in f if '==' in line)
        row = next(line for line in readme.splitlines() if line.startswith(f'| `{stack}`'))
        assert f"{pins['torch']} / {pins['torchvision']}" in row, row
        if 'numpy' in pins:
            assert pins['numpy'] in row, row
