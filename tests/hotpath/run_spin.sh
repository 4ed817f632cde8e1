#!/bin/sh
# Checks a Promela model exhaustively: spin -a, compile pan.c, run it; fails unless spin
# reports "errors: 0" with a complete search. Usage: run_spin.sh SPIN CC MODEL WORKDIR
set -eu
spin=$1 cc=$2 model=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$spin" -a "$model"
"$cc" -O2 -DSAFETY -o pan pan.c
# -m: depth bound (the model needs ~1,100 steps); -w24: 2^24-slot hash table, exhaustive.
./pan -m1000000 -w24 > pan.out 2>&1 || true
cat pan.out
grep -q "errors: 0$" pan.out || { echo "run_spin: spin found errors in $model" >&2; exit 1; }
if grep -q "max search depth too small" pan.out; then
  echo "run_spin: search incomplete, raise -m" >&2
  exit 1
fi
