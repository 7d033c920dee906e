#!/usr/bin/env bash
# How soon `wenming serve --demo` answers on a new data folder, and how long
# the demo city takes to load behind it (docs/benchmarks.md). Debug build,
# as the README's first command runs it; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
dir=$(mktemp -d)
trap 'kill $(cat "$dir/pid") 2>/dev/null || true; rm -rf "$dir"' EXIT
start=$(date +%s.%N)
(cd "$dir" && "$OLDPWD/target/debug/wenming" serve --demo --listen 127.0.0.1:18090 \
  >"$dir/server.log" 2>&1 & echo $! >"$dir/pid")
until curl -sf -o /dev/null http://127.0.0.1:18090/login; do sleep 0.05; done
first=$(date +%s.%N)
until grep -q "Loaded the demo city" "$dir/server.log"; do sleep 0.1; done
loaded=$(date +%s.%N)
printf 'sign-in page answers after %.2f s\n' "$(echo "$first - $start" | bc)"
printf 'demo city loaded after %.1f s\n' "$(echo "$loaded - $start" | bc)"
grep "demo:" "$dir/server.log"
