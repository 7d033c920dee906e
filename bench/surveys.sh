#!/usr/bin/env bash
# Survey results at size (docs/benchmarks.md): a wave of the demo's
# questionnaire over 80 communities with 1,000,000 answers; the results
# API (every rate, every region, weighted and unweighted) against a raw
# GROUP BY of the same answers. Release build; loopback only; a fresh demo
# city in a scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p wenming -p wenming-bench
bin=$PWD/target/release
scratch=$(mktemp -d)
trap '[ -f "$scratch/pid" ] && kill "$(cat "$scratch/pid")" 2>/dev/null; rm -rf "$scratch"' EXIT
answers=${ANSWERS:-1000000}
echo "== survey results: $answers answers over 80 communities"
(cd "$scratch" && "$bin/wenming" demo >/dev/null)
out=$(cd "$scratch" && "$bin/wenming-bench" surveys --answers "$answers" --communities 80)
echo "$out" | grep -E "raw|without the web|public intake"
wave=$(awk '/^wave/ {print $2}' <<<"$out"); tok=$(awk '/^token/ {print $2}' <<<"$out")
(cd "$scratch" && exec "$bin/wenming" serve --listen 127.0.0.1:18094 >server.log 2>&1) &
echo $! >"$scratch/pid"
for _ in $(seq 1 120); do curl -sf http://127.0.0.1:18094/healthz >/dev/null && break; sleep 0.5; done
url="http://127.0.0.1:18094/api/v1/waves/$wave/results"
code=$(curl -s -o "$scratch/first.json" -w '%{http_code}' -H "Authorization: Bearer $tok" "$url")
[ "$code" = 200 ] || { echo "results answered $code: $(head -c 300 "$scratch/first.json")" >&2; exit 1; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("rates in the answer:", len(d["rates"]))' "$scratch/first.json"
timed() {
  for _ in $(seq 1 20); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $tok" "$url"
  done | sort -n | awk -v what="$1" '{t[NR]=$1} END {printf "%s: results p50 %.0f ms, p90 %.0f ms, max %.0f ms (n=%d)\n", what, t[int(NR/2)+1]*1000, t[int(NR*0.9)]*1000, t[NR]*1000, NR}'
}
# Open: computed from the tallies at every request.
timed "open wave (computed each time)"
# Closed: final, computed once and kept.
version=$(curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:18094/api/v1/waves/$wave" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $tok" -H 'content-type: application/json' \
  -d "{\"state\":\"closed\",\"version\":$version}" "http://127.0.0.1:18094/api/v1/waves/$wave/state"
curl -sf -o /dev/null -w 'closed wave, first request: %{time_total}\n' -H "Authorization: Bearer $tok" "$url"
timed "closed wave (kept after the first)"
