#!/usr/bin/env bash
# Behaviour-neutrality check for refactors: runs KSMSIM over every example, lab, oracle
# case, difftest case and a corpus of generated workloads, and keeps each run's result
# document, event log, stdout, stderr and exit code under OUT. Two OUT folders from two
# binaries are then compared with `diff -r`.
#
#   tools/dev/outputs.sh KSMSIM OUT [CORPUS]
#
# CORPUS (default build/neutrality-corpus) holds copies of every input (so that paths in
# messages are the same from any checkout) and the generated workloads (gen seeds 1..150
# small, 1..40 medium). It is written once, by the first binary that finds it missing, so
# both binaries run the same files even when the generator changes.
set -uo pipefail
ksmsim="$(realpath "$1")"
out="$2"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="${3:-${repo_root}/build/neutrality-corpus}"
if [[ ! -d "${corpus}" ]]; then
  mkdir -p "${corpus}"
  for d in workloads/examples workloads/labs tools/oracle/cases tests/difftest/cases; do
    for f in "${repo_root}/$d"/*.json; do
      [[ "$f" == *.result.json ]] || cp "$f" "${corpus}/$(basename "$d")-$(basename "$f")"
    done
  done
  for s in $(seq 1 150); do "${ksmsim}" gen --seed "$s" --size small -o "${corpus}/gen-small-$s.json"; done
  for s in $(seq 1 40); do "${ksmsim}" gen --seed "$s" --size medium -o "${corpus}/gen-medium-$s.json"; done
fi
mkdir -p "${out}"
cd "${out}"
files=("${corpus}"/*.json)
for f in "${files[@]}"; do
  n="$(basename "$f" .json)"
  rm -f "$n.result.json" "$n.events.jsonl"
  "${ksmsim}" run "$f" --out "$n.result.json" --events "$n.events.jsonl" --check \
    >"$n.stdout" 2>"$n.stderr"
  echo $? >"$n.rc"
done
echo "outputs.sh: ${#files[@]} workloads -> ${out}"
