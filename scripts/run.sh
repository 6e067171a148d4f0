#!/usr/bin/env bash
# `make run`: migrate, load the demo organization once, print how to call the API, then serve.
#
# Runs on the embedded default (SQLite and documents in $CUSTOMERS_HUB_DATA_DIR, default
# ./.customers-hub; a token secret generated once into <data dir>/jwt-secret) unless
# CUSTOMERS_HUB_DATABASE_URL / CUSTOMERS_HUB_JWT_SECRET say otherwise.
# Optional: CUSTOMERS_HUB_HOST (127.0.0.1), CUSTOMERS_HUB_PORT (3000),
# CUSTOMERS_HUB_DEMO_ORG (org_demo), CUSTOMERS_HUB_DEMO_CUSTOMERS (60).
set -euo pipefail
cd "$(dirname "$0")/.."

CLI="${VENV:-.venv}/bin/customers-hub"
HOST="${CUSTOMERS_HUB_HOST:-127.0.0.1}"
PORT="${CUSTOMERS_HUB_PORT:-3000}"
ORG="${CUSTOMERS_HUB_DEMO_ORG:-org_demo}"
CUSTOMERS="${CUSTOMERS_HUB_DEMO_CUSTOMERS:-60}"
BASE="http://${HOST}:${PORT}"

"$CLI" db upgrade
"$CLI" demo-data --org "$ORG" --customers "$CUSTOMERS"
# The demo admin (see customers_hub.entrypoints.demo), for 24 hours.
TOKEN="$("$CLI" token --user-id demo-admin --role admin --org "$ORG" \
  --name "عبدالله الراشد" --email abdullah.alrashed@demo-realty.sa --ttl 86400)"

cat <<INFO

Customers Hub — demo organization ${ORG}
  API:      ${BASE}/api/v1
  Docs:     ${BASE}/api/v1/docs
  OpenAPI:  ${BASE}/api/v1/openapi.json
  Health:   ${BASE}/health

Admin token (demo-admin, عبدالله الراشد, valid 24 h):
${TOKEN}

Try it:
  export TOKEN='${TOKEN}'
  curl -s -G -H "Authorization: Bearer \$TOKEN" '${BASE}/api/v1/customers' \\
    --data-urlencode 'city=الرياض' --data-urlencode 'stage=negotiation' -d limit=5
  curl -s -H "Authorization: Bearer \$TOKEN" '${BASE}/api/v1/customers/actions?status=pending'
  curl -s -H "Authorization: Bearer \$TOKEN" '${BASE}/api/v1/customers/stats'
  curl -s -H "Authorization: Bearer \$TOKEN" \\
    '${BASE}/api/v1/customers?calendar=hijri&createdFrom=1446-09-01&fields=name,createdAt&limit=3'
More tokens: ${CLI} token --user-id demo-agent-1 --role sales_agent --org ${ORG}

INFO

exec "$CLI" serve --host "$HOST" --port "$PORT"
