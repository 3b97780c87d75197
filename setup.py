# Copyright (c) cpn_mm authors. All rights reserved.
"""Installs cpn_mm. Like MMPose's setup.py, it links (editable/develop) or copies (wheel/sdist)
``configs/``, ``tools/`` and ``model-index.yml`` into ``cpn_mm/.mim`` so that ``mim`` finds them."""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'cpn_mm', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Reads a requirements file, skipping comments (the pins are in requirements/runtime.txt)."""
    reqs = []
    with open(osp.join(HERE, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Adds configs/tools/model-index.yml to ``cpn_mm/.mim``: symlinks for editable installs, copies
    for wheels and sdists (the same scheme as MMPose's setup.py)."""
    if 'develop' in sys.argv or any(a.startswith('editable') for a in sys.argv):
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv or 'install' in sys.argv:
        mode = 'copy'
    else:
        return
    filenames = ['tools', 'configs', 'data', 'model-index.yml']
    mim_path = osp.join(HERE, 'cpn_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for filename in filenames:
        src = osp.join(HERE, filename)
        if not osp.exists(src):
            continue
        tar = osp.join(mim_path, filename)
        if osp.isfile(tar) or osp.islink(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), tar)
        else:
            if osp.isfile(src):
                shutil.copyfile(src, tar)
            else:
                shutil.copytree(src, tar)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='cpn_mm',
        version=get_version(),
        description='Cascaded Pyramid Network (CPN) for MMPose',
        long_description=readme(),
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        # cpn_mm alone: tests/ and benchmarks/ hold packages too, which must not be installed
        packages=find_packages(include=('cpn_mm', 'cpn_mm.*')),
        include_package_data=True,
        package_data={
            'cpn_mm': [
                '.mim/configs/**/*', '.mim/tools/**/*', '.mim/data/**/*', '.mim/model-index.yml'
            ]
        },
        # the supported range (README "Install"): tested on Python 3.11 with torch 2.1.2 +
        # NumPy 1.26.4 and torch 2.14.1 + NumPy 2.3
        python_requires='>=3.10',
        classifiers=[
            'Development Status :: 4 - Beta',
            'Operating System :: POSIX :: Linux',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.10',
            'Programming Language :: Python :: 3.11',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        # torch, mmcv (compiled ops), mmpose and xtcocotools come with the user's MMPose
        # environment (or tools/setup_env.sh): listing them would let pip replace the torch that
        # mmcv was built against, or fetch an unbuildable chumpy or a NumPy-1 xtcocotools wheel.
        install_requires=['mmengine>=0.10.0,<1.0.0', 'numpy>=1.26,<2.4', 'opencv-python'],
        extras_require={'tests': parse_requirements('requirements/tests.txt'),
                        'openvino': parse_requirements('requirements/openvino.txt')},
        zip_safe=False)
