#!/bin/bash
# The case tables the model's instruction tests include
# (tests/unit/model_exec_cases.inc, model_vs_kvm_cases.inc) must be exactly
# what tests/gen/gen_model_tests.py writes from tests/gen/*.cases, with the
# expected values taken from this CPU. A stale or hand-edited table fails here
# with the diff; `make gen-tests` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 tests/gen/gen_model_tests.py --check
echo "gen_tests_check: the model test tables match tests/gen/ on this CPU"
