#!/usr/bin/env bash
# Install everything, then run the app on the embedded demo database (built on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
