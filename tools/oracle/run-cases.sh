#!/usr/bin/env bash
# Runs the kernel oracle on workloads and compares with the simulator.
#
#   tools/oracle/run-cases.sh [--save] [--ksmsim PATH] [WORKLOAD.json ...]
#
# Without workloads: every tools/oracle/cases/*.json and cases-6.12/*.json (Linux 6.12
# workloads: `ksmsim oracle` boots the 6.12 kernel for them). For each workload W:
#   --save      boot the real kernel (ksmsim oracle) and store W's result as W.result.json
#               (W without .json, plus .result.json), the recorded kernel truth;
#   otherwise   compare `ksmsim run W` with the stored W.result.json (no VM needed), or,
#               when there is no stored result, with a fresh oracle run.
# Exit status: 0 when every comparison is equal, 1 otherwise, 2 on a tool failure.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ksmsim=""
save=0
cases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --save) save=1 ;;
    --ksmsim) shift; ksmsim="$1" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) cases+=("$1") ;;
  esac
  shift
done
if [ -z "$ksmsim" ]; then
  for c in "$repo"/build/*/tools/ksmsim; do
    [ -x "$c" ] && ksmsim="$c" && break
  done
fi
if [ -z "$ksmsim" ] || [ ! -x "$ksmsim" ]; then
  echo "run-cases: no ksmsim binary found under build/; give --ksmsim PATH" >&2
  exit 2
fi
if [ ${#cases[@]} -eq 0 ]; then
  for c in "$here"/cases/*.json "$here"/cases-6.12/*.json; do
    case "$c" in *.result.json) ;; *) cases+=("$c") ;; esac
  done
fi
has_run=0
"$ksmsim" run --help >/dev/null 2>&1 && has_run=1

status=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for w in "${cases[@]}"; do
  stored="${w%.json}.result.json"
  name="$(basename "$w")"
  if [ $save -eq 1 ]; then
    start=$(date +%s)
    "$ksmsim" oracle "$w" --out "$stored" --keep-console "$tmp/console.log" --force
    rc=$?
    echo "run-cases: $name: oracle exit $rc, $(( $(date +%s) - start )) s -> $stored"
    [ $rc -ge 2 ] && status=2
    continue
  fi
  truth="$stored"
  if [ ! -f "$truth" ]; then
    truth="$tmp/oracle.json"
    rm -f "$truth"
    "$ksmsim" oracle "$w" --out "$truth" || [ $? -eq 1 ] || { status=2; continue; }
  fi
  if [ $has_run -eq 0 ]; then
    echo "run-cases: $name: ksmsim has no 'run' subcommand yet; nothing to compare with"
    continue
  fi
  rm -f "$tmp/sim.json"
  "$ksmsim" run "$w" --out "$tmp/sim.json" >/dev/null
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    echo "run-cases: $name: ksmsim run failed (exit $rc)"
    status=2
    continue
  fi
  if "$ksmsim" compare "$truth" "$tmp/sim.json"; then
    echo "run-cases: $name: equal"
  else
    echo "run-cases: $name: DIFFERENT (kernel first, simulator second)"
    [ $status -eq 0 ] && status=1
  fi
done
exit $status
