#!/usr/bin/env bash
# Sets up keras_xai (TensorFlow backend) and runs the main job:
# scripts/demo.py. Arguments are passed on (see `--help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh tensorflow
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec python scripts/demo.py "$@"
