#!/usr/bin/env bash
# Builds the documentation site: the API reference from the docstrings
# (pdoc, Google style) and the guides (README, docs/scaling.md, one page per
# reproduced paper; scripts/build_guides.py, which fails on a broken link):
#
#   bash scripts/build_docs.sh [OUTPUT_DIR]     # default docs/api
#
# then open OUTPUT_DIR/index.html (or serve it: python -m http.server -d docs/api).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh all
export TF_CPP_MIN_LOG_LEVEL=2 PDOC_ALLOW_EXEC=1
out="${1:-docs/api}"
python -m pdoc keras_xai --docformat google --output-directory "$out"
python scripts/build_guides.py "$out"
echo "API reference written to $out/index.html, guides to $out/guides/overview.html"
