#!/usr/bin/env bash
# The evidence archive at size (docs/benchmarks.md): the completeness view
# of a 150-standard framework with 100,000 materials, the filing package of
# 10,000 materials (over 2 GB) against a raw stored-zip copy of the same
# files with the server's resident memory throughout, and the monthly case
# statistics material over 1,000,000 cases against a raw GROUP BY. Release
# build, as the benchmark table; loopback only; each part on a fresh demo
# city in a scratch folder. One part: evidence.sh completeness|package|statistics.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p wenming -p wenming-bench
bin=$PWD/target/release
scratch=$(mktemp -d)
trap 'for p in "$scratch"/*/pid; do kill "$(cat "$p")" 2>/dev/null || true; done; rm -rf "$scratch"' EXIT

serve() { # folder port
  (cd "$1" && exec "$bin/wenming" serve --listen "127.0.0.1:$2" >server.log 2>&1) &
  echo $! >"$1/pid"
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return; sleep 0.5; done
  echo "the server did not start" >&2; exit 1
}

part=${1:-all}
if [ "$part" = all ] || [ "$part" = completeness ]; then
echo "== completeness: 150 standards, 100,000 materials"
d="$scratch/c"; mkdir -p "$d"
(cd "$d" && "$bin/wenming" demo >/dev/null)
out=$(cd "$d" && "$bin/wenming-bench" evidence --standards 150 --materials 100000)
fw=$(awk '/^framework/ {print $2}' <<<"$out"); tok=$(awk '/^token/ {print $2}' <<<"$out")
serve "$d" 18091
url="http://127.0.0.1:18091/api/v1/frameworks/$fw/completeness"
for _ in 1 2 3; do
  code=$(curl -s -o "$d/first.json" -w '%{http_code}' -H "Authorization: Bearer $tok" "$url")
  [ "$code" = 200 ] || { echo "completeness answered $code: $(head -c 300 "$d/first.json")" >&2; tail -5 "$d/server.log" >&2; exit 1; }
done
for _ in $(seq 1 30); do
  curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $tok" "$url"
done | sort -n | awk '{t[NR]=$1} END {printf "completeness p50 %.0f ms, p90 %.0f ms, max %.0f ms (n=%d)\n", t[int(NR/2)+1]*1000, t[int(NR*0.9)]*1000, t[NR]*1000, NR}'
kill "$(cat "$d/pid")"
fi

if [ "$part" = all ] || [ "$part" = package ]; then
echo "== filing package: 10,000 materials of 215 KB"
d="$scratch/p"; mkdir -p "$d"
(cd "$d" && "$bin/wenming" demo >/dev/null)
out=$(cd "$d" && "$bin/wenming-bench" evidence --materials 10000 --file-bytes 215000)
echo "$out" | grep raw
fw=$(awk '/^framework/ {print $2}' <<<"$out"); tok=$(awk '/^token/ {print $2}' <<<"$out")
serve "$d" 18092
pid=$(cat "$d/pid")
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "server resident before: $(( $(rss) / 1024 )) MB"
( peak=0; while kill -0 "$pid" 2>/dev/null; do r=$(rss 2>/dev/null || true); r=${r:-0}; if [ "$r" -gt "$peak" ]; then peak=$r; echo "$peak" >"$d/peak"; fi; sleep 0.2; done ) &
curl -sf -o /dev/null -w 'streamed: %{size_download} bytes in %{time_total} s\n' \
  -H "Authorization: Bearer $tok" http://127.0.0.1:18092/api/v1/evidence/package
start=$(date +%s.%N)
job=$(curl -sf -H "Authorization: Bearer $tok" -H 'content-type: application/json' \
  -d "{\"framework_id\": \"$fw\"}" http://127.0.0.1:18092/api/v1/evidence/packages)
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$job")
while :; do
  state=$(curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:18092/api/v1/evidence/packages/$id")
  s=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["size"] or 0)' <<<"$state")
  [ "${s%% *}" != running ] && break
  sleep 0.5
done
end=$(date +%s.%N)
echo "background job: $s in $(python3 -c "print(round($end - $start, 2))") s"
curl -sf -o /dev/null -w 'stored package downloaded: %{size_download} bytes in %{time_total} s\n' \
  -H "Authorization: Bearer $tok" "http://127.0.0.1:18092/api/v1/evidence/packages/$id/file"
sleep 0.5
echo "server resident peak: $(( $(cat "$d/peak") / 1024 )) MB; VmHWM $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )) MB"
kill "$pid"
fi

if [ "$part" = all ] || [ "$part" = statistics ]; then
echo "== case statistics material: ${STAT_CASES:=1000000} cases"
d="$scratch/s"; mkdir -p "$d"
(cd "$d" && "$bin/wenming-bench" gen --cases "$STAT_CASES" >/dev/null)
out=$(cd "$d" && "$bin/wenming-bench" evidence --materials 0 --statistics)
echo "$out" | grep raw
req=$(awk '/^statistics_requirement/ {print $2}' <<<"$out"); tok=$(awk '/^token/ {print $2}' <<<"$out")
serve "$d" 18093
url="http://127.0.0.1:18093/api/v1/evidence/requirements/$req/generate"
code=$(curl -s -o "$d/first.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" "$url")
[ "$code" = 201 ] || { echo "generate answered $code: $(head -c 300 "$d/first.json")" >&2; exit 1; }
for _ in $(seq 1 10); do
  curl -sf -o /dev/null -X POST -w '%{time_total}\n' -H "Authorization: Bearer $tok" "$url"
done | sort -n | awk '{t[NR]=$1} END {printf "statistics material generated: p50 %.0f ms, max %.0f ms (n=%d)\n", t[int(NR/2)+1]*1000, t[NR]*1000, NR}'
kill "$(cat "$d/pid")"
fi
