#!/usr/bin/env bash
# Install everything, start the services the tests need, run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/services.sh
.venv/bin/ruff check gemmachat tests bench
.venv/bin/ruff format --check gemmachat tests bench
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here." >&2
  exit 1
fi
exit "$status"
