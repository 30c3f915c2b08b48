#!/usr/bin/env bash
# Sets up (once) and activates the keras_xai virtual environment.
#
#   source scripts/setup.sh [tensorflow|all]
#
# "tensorflow" installs keras_xai with the TensorFlow (CPU) backend; "all"
# adds JAX, PyTorch (the CPU wheel torch==2.13.0), Ray and the test tools.
# The environment lives in $KERAS_XAI_VENV (default ~/.cache/keras_xai/venv)
# and is reused while pyproject.toml is unchanged. Fashion-MNIST is
# installed from Debian's package dataset-fashion-mnist when possible.
set -euo pipefail

_profile="${1:-tensorflow}"
_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_venv="${KERAS_XAI_VENV:-$HOME/.cache/keras_xai/venv}"
_python="${PYTHON:-python3}"

if [ ! -x "$_venv/bin/python" ]; then
  echo "[setup] creating virtual environment in $_venv"
  "$_python" -m venv "$_venv"
  "$_venv/bin/pip" install --quiet --upgrade pip
fi

_stamp="$_venv/.keras_xai-$_profile-$(sha256sum "$_repo/pyproject.toml" | cut -c1-16)"
if [ ! -f "$_stamp" ]; then
  echo "[setup] installing dependencies ($_profile profile); this takes a few minutes the first time"
  # pyproject's SPDX license string needs setuptools >= 77 (also for the
  # editable reinstall below, which builds without isolation).
  "$_venv/bin/pip" install --quiet --upgrade "setuptools>=77"
  if [ "$_profile" = "all" ]; then
    # The CPU wheel of torch on disk; any other torch spec downloads CUDA builds.
    "$_venv/bin/pip" install --quiet "torch==2.13.0"
    "$_venv/bin/pip" install --quiet -e "$_repo[tensorflow-cpu,jax,torch,test,ray]"
    # keras-hub (extra `hub`) without its tensorflow-text requirement, which
    # would pull a second, full TensorFlow beside tensorflow-cpu; what
    # keras-hub imports besides is small.
    "$_venv/bin/pip" install --quiet --no-deps "keras-hub==0.32.0"
    "$_venv/bin/pip" install --quiet regex kagglehub tokenizers sentencepiece
  else
    "$_venv/bin/pip" install --quiet -e "$_repo[tensorflow-cpu]"
  fi
  touch "$_stamp"
fi
# The environment may be shared by several checkouts: point it at this one.
if ! "$_venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$_repo" >"$_venv/.keras_xai-editable.log" 2>&1; then
  cat "$_venv/.keras_xai-editable.log"; exit 1
fi

_fmnist="${KERAS_XAI_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
if [ ! -e "$_fmnist/train-images-idx3-ubyte.gz" ] && [ ! -e "$_fmnist/train-images-idx3-ubyte" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
    if ! { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; } >/dev/null 2>&1; then
      echo "[setup] could not install dataset-fashion-mnist; scikit-learn digits will be used instead"
    fi
  else
    echo "[setup] Fashion-MNIST not found in $_fmnist and apt-get is not usable here;"
    echo "        install it with: sudo apt-get install dataset-fashion-mnist"
  fi
fi

export PATH="$_venv/bin:$PATH"
export VIRTUAL_ENV="$_venv"
