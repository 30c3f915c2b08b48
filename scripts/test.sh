#!/usr/bin/env bash
# Sets up everything and runs the keras_xai checks:
#   ruff (lint + format), the whole pytest suite on TensorFlow, and the
#   backend-specific tests (marker `multi_backend`) on JAX and PyTorch.
# Tests run in parallel on every core (pytest-xdist; set
# KERAS_XAI_TEST_WORKERS=0 to run them in one process).
# Extra arguments go to every pytest run (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh all

echo "== ruff =="
ruff check .
ruff format --check .

export TF_CPP_MIN_LOG_LEVEL=2
results="$(mktemp -d)"
status=0
run() {
  local backend="$1"; shift
  echo "== pytest on $backend $* =="
  KERAS_BACKEND="$backend" python -m pytest -q -p no:cacheprovider \
    -n "${KERAS_XAI_TEST_WORKERS:-auto}" --dist worksteal \
    --junitxml="$results/$backend.xml" "$@" || status=1
}
run tensorflow "$@"
run jax -m multi_backend "$@"
run torch -m multi_backend "$@"

python - "$results" <<'PY'
import glob
import sys
import xml.etree.ElementTree as ET

totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    for key in totals:
        totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"total: {passed} passed, {failed} failed, {totals['skipped']} skipped")
PY
exit $status
