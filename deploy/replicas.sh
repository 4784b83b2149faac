#!/usr/bin/env bash
# N replicas of the app on this machine behind nginx, one store of corrections for all of them:
#   sudo bash deploy/replicas.sh 2 postgresql://digits:secret@127.0.0.1/digits
# Replica k listens on 127.0.0.1:(7860 + k); nginx serves port 80 with deploy/nginx.conf, its upstream grown
# one line per replica (a visitor's address picks the replica). The readings keep nothing between calls, so
# a replica that dies only moves its visitors to another. Logs and pids in runs/replicas/.
# Stop everything it started: sudo bash deploy/replicas.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/replicas
python=${PYTHON:-.venv/bin/python}
if [ "${1:-}" = stop ]; then
  [ -f "$run/nginx.conf" ] && nginx -s quit -c "$PWD/$run/nginx.conf" 2>/dev/null || true
  for f in "$run"/app-*.pid; do [ -f "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; }; done
  exit 0
fi
n=${1:-2}
store=${2:-data/corrections.sqlite}
mkdir -p "$run"
servers=""
for k in $(seq 0 $((n - 1))); do
  port=$((7860 + k))
  nohup "$python" app.py --port "$port" --corrections "$store" >"$run/app-$port.log" 2>&1 &
  echo $! >"$run/app-$port.pid"
  servers="$servers        server 127.0.0.1:$port max_fails=1 fail_timeout=10s;\n"
done
line='        server 127.0.0.1:7860 max_fails=1 fail_timeout=10s;'
awk -v line="$line" -v servers="$servers" '$0 == line { printf "%s", servers; next } { print }' \
  deploy/nginx.conf >"$run/nginx.conf"
for k in $(seq 0 $((n - 1))); do
  until curl -sf -o /dev/null "http://127.0.0.1:$((7860 + k))/"; do sleep 1; done
done
nginx -c "$PWD/$run/nginx.conf"
echo "$n replicas behind nginx on port 80; corrections in ${store##*@}"
