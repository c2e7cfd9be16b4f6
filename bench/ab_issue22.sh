#!/usr/bin/env bash
# Issue 22's before/after, on one machine in one go: BASE is a worktree of the old code, NEW this one; both run
# with NEW's venv (the same packages), the code chosen by PYTHONPATH. Usage: bash bench/ab_issue22.sh BASE NEW OUT
set -u
BASE=$1 NEW=$2 OUT=$3
PY=$NEW/.venv/bin/python
mkdir -p "$OUT"
stamp() { echo "== $* | $(date -u +%H:%M:%S) | $(uptime | sed 's/.*load average/load average/')"; }
lscpu | grep 'Model name'
stamp start
farm-bench -n 5 --vs "env PYTHONPATH=$BASE/src $PY -m nnlab --help" -- env PYTHONPATH=$NEW/src $PY -m nnlab --help
stamp "help done"
for side in BASE NEW; do
  src=$([ $side = BASE ] && echo "$BASE" || echo "$NEW")
  stamp "$side small data"
  (cd "$OUT" && PYTHONPATH=$src/src nice -n 10 $PY "$NEW/bench/small_data.py" "$OUT/small-$side")
done
for side in BASE NEW; do
  src=$([ $side = BASE ] && echo "$BASE" || echo "$NEW")
  stamp "$side demo"
  start=$(date +%s.%N)
  (cd "$OUT" && PYTHONPATH=$src/src nice -n 10 $PY -m nnlab demo --out "$OUT/demo-$side" | grep -E '%|runs in')
  echo "$side demo wall: $(echo "$(date +%s.%N) - $start" | bc) s"
done
for side in BASE NEW; do
  src=$([ $side = BASE ] && echo "$BASE" || echo "$NEW")
  stamp "$side pytest"
  (cd "$src" && PYTHONPATH=$src/src nice -n 10 $PY -m pytest -q -p no:cacheprovider 2>&1 | tail -2)
done
stamp end
