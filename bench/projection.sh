#!/usr/bin/env bash
# The projection at the city's size (docs/benchmarks.md): the demo city
# with 1,000,000 cases, 10,000,000 findings of daily patrol rounds (those on
# the first of each of the last three months made mock evaluations, which
# the projection counts), 100,000 materials and a wave of 1,000,000 survey
# answers; the projection computed afresh (10,000 draws) against the raw
# GROUP BYs over the rows it reads, and the cockpit page from the kept
# figures. Release
# build; loopback only; a scratch folder (KEEP=DIR keeps and reuses one).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p wenming -p wenming-bench
bin=$PWD/target/release
scratch=${KEEP:-$(mktemp -d)}
mkdir -p "$scratch"
trap '[ -f "$scratch/pid" ] && kill "$(cat "$scratch/pid")" 2>/dev/null; rm -f "$scratch/pid"; [ -n "${KEEP:-}" ] || rm -rf "$scratch"' EXIT
cases=${CASES:-1000000}; findings=${FINDINGS:-10000000}
materials=${MATERIALS:-100000}; answers=${ANSWERS:-1000000}
if [ ! -f "$scratch/filled" ]; then
  echo "== filling: $cases cases, $findings findings, $materials materials, $answers answers"
  (cd "$scratch" && "$bin/wenming" demo >/dev/null)
  (cd "$scratch" && "$bin/wenming-bench" gen --cases "$cases" --findings "$findings" --force | grep -v '^\[')
  (cd "$scratch" && "$bin/wenming-bench" evidence --materials "$materials" | grep -v '^token')
  (cd "$scratch" && "$bin/wenming-bench" surveys --answers "$answers" --communities 80 | grep -E 'raw GROUP BY')
  touch "$scratch/filled"
fi
out=$(cd "$scratch" && "$bin/wenming-bench" scoring --runs 5)
echo "$out" | grep -v '^token'
tok=$(awk '/^token/ {print $2}' <<<"$out")
(cd "$scratch" && exec "$bin/wenming" serve --listen 127.0.0.1:18095 >server.log 2>&1) &
echo $! >"$scratch/pid"
for _ in $(seq 1 120); do curl -sf http://127.0.0.1:18095/healthz >/dev/null && break; sleep 0.5; done
timed() {
  local what=$1 url=$2
  code=$(curl -s -o "$scratch/first" -w '%{http_code}' -H "Authorization: Bearer $tok" "$url")
  [ "$code" = 200 ] || { echo "$what answered $code: $(head -c 300 "$scratch/first")" >&2; exit 1; }
  for _ in $(seq 1 20); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $tok" "$url"
  done | sort -n | awk -v what="$what" '{t[NR]=$1} END {printf "%s: p50 %.0f ms, p90 %.0f ms, max %.0f ms (n=%d)\n", what, t[int(NR/2)+1]*1000, t[int(NR*0.9)]*1000, t[NR]*1000, NR}'
}
# Naming the draws asks for a projection computed afresh, not the kept one.
timed "projection computed afresh, 10,000 draws" "http://127.0.0.1:18095/api/v1/projection?draws=10000"
timed "projection API, the kept one" "http://127.0.0.1:18095/api/v1/projection"
timed "cockpit page" "http://127.0.0.1:18095/cockpit"
