#!/usr/bin/env bash
# Run pytest with the real servers the integration tests need; stop what this run started.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/test-servers.sh start)"
cleanup() {
  if [ "${CUSTOMERS_HUB_TEST_STARTED_PG:-0}" = 1 ]; then scripts/test-servers.sh stop pg; fi
  if [ "${CUSTOMERS_HUB_TEST_STARTED_REDIS:-0}" = 1 ]; then scripts/test-servers.sh stop redis; fi
}
trap cleanup EXIT
.venv/bin/pytest "$@"
