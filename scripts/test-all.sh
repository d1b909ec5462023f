#!/usr/bin/env bash
# `npm test`: every check, cheapest first, stopping at the first failure. Each suite makes its own fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Chromium for the browser tests (apt-get install -y chromium)…"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: run 'sudo apt-get install -y chromium' (or set CHROMIUM_PATH) and try again." >&2
    exit 1
  fi
fi

if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Redis for the Redis-store tests (apt-get install -y redis-server)…"
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing: run 'sudo apt-get install -y redis-server' and try again." >&2
    exit 1
  fi
fi

# The scale-out suite's clusters: Galera comes with Debian's MariaDB server, and its state transfer uses rsync.
for tool in /usr/lib/galera/libgalera_smm.so /usr/bin/rsync /usr/bin/socat /usr/bin/redis-cli; do
  if [ ! -e "$tool" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "Installing what the Galera and Redis Cluster tests need (galera-4 rsync socat redis-tools)…"
      apt-get update -qq && apt-get install -y -qq galera-4 rsync socat redis-tools >/dev/null
      break
    else
      echo "$tool is missing: run 'sudo apt-get install -y galera-4 rsync socat redis-tools' and try again." >&2
      exit 1
    fi
  fi
done

rm -rf reports && mkdir -p reports
npm run typecheck
npm run lint
npm run build
npx vitest run --reporter=default --reporter=json --outputFile=reports/vitest.json
# The same guarantee on a three-node Galera cluster and a six-node Redis Cluster, started and removed by the suite.
npx vitest run --config vitest.cluster.config.ts --reporter=default --reporter=json \
  --outputFile=reports/vitest-cluster.json
npx playwright test
# A short class in the training lab while shoppers buy on the shop (the full one is `npm run lab:classroom`).
npx tsx scripts/lab-classroom.ts --trainees 6 --seconds 20 --max-seconds 180 | tee reports/classroom.txt
# A short chaos soak per idempotency store (the long ones are `npm run chaos -- --seconds 600`).
npx tsx scripts/chaos.ts --seconds 25 --store both | tee reports/chaos.txt
npx tsx scripts/test-summary.ts
