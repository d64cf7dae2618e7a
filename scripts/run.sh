#!/usr/bin/env bash
# Install everything, then serve GemmaChat on the embedded Gemma model and
# print a demo API key.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/gemmachat serve --demo "$@"
