#!/usr/bin/env bash
# srun over tools/train.py or tools/test.py, used by slurm_train.sh and slurm_test.sh:
#   bash tools/slurm_launch.sh train.py|test.py PARTITION JOB_NAME [tool arguments]
# srun starts GPUS processes (GPUS_PER_NODE per node); MMEngine's --launcher slurm reads the rank
# and world size from Slurm's variables (on machines without CUDA: gloo, see cpn_mm.utils.launch).
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (extra srun options),
# PYTHON (the interpreter, default python).
set -x

TOOL=$1 PARTITION=$2 JOB_NAME=$3 TOOLS="$(dirname "$0")"
: "${GPUS:=8}" "${GPUS_PER_NODE:=8}" "${CPUS_PER_TASK:=5}" "${SRUN_ARGS:=}" "${PYTHON:=python}"

# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$TOOLS/..":$PYTHONPATH \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$TOOLS/$TOOL" "${@:4}" --launcher=slurm
