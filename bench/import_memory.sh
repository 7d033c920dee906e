#!/usr/bin/env bash
# Resident memory of a server taking four third-party imports at once,
# each a result sheet and a zip of 40 photos (docs/benchmarks.md). Loopback
# only; needs python3 with requests, pillow and openpyxl.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
dir=$(mktemp -d)
trap 'kill $(cat "$dir/pid") 2>/dev/null || true; rm -rf "$dir"' EXIT
(cd "$dir" && WENMING_ADMIN_PASSWORD=bench-admin-password "$OLDPWD/target/debug/wenming" serve --demo \
  --listen 127.0.0.1:18089 >"$dir/server.log" 2>&1 & echo $! >"$dir/pid")
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:18089/healthz >/dev/null && break; sleep 1; done
# The demo loads behind the running server: wait until it is in.
for _ in $(seq 1 300); do grep -q "Loaded the demo city" "$dir/server.log" && break; sleep 1; done
cp "$dir/pid" bench/.pid
trap 'kill $(cat "$dir/pid") 2>/dev/null || true; rm -rf "$dir" bench/.pid' EXIT
python3 bench/import_memory.py
