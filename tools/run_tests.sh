#!/usr/bin/env bash
# The project's test command (`make test`, called by .ci/run): sync check, docs build + browser check,
# every notebook and every pytest test. pytest's summary line is the last line printed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=Agg PYTHONHASHSEED=0
if [ -x tools/install_chromium.sh ] || [ -f tools/install_chromium.sh ]; then
  bash tools/install_chromium.sh || echo "note: Chromium could not be installed; the browser test will skip and say why"
fi
if [ -f tools/build_docs.py ]; then
  python tools/build_docs.py || { echo "docs build FAILED"; exit 1; }
fi
python -m pytest tests -n "${TEST_WORKERS:-2}" -p no:cacheprovider ${PYTEST_ARGS:-}
rc=$?
if [ "$rc" -eq 5 ]; then echo "no tests were collected: treated as a failure"; exit 1; fi
exit "$rc"
