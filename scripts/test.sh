#!/usr/bin/env bash
# Install everything (Python packages from the lock file and Debian's chromium for the browser test), then run
# the whole test suite. Set TEST_DATABASE_URL to run every database test on PostgreSQL as well as SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will be skipped" >&2
  else
    echo "warning: chromium is not installed (sudo apt-get install chromium); the browser test will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
