#!/usr/bin/env bash
# Seed corpus of the trace-reader fuzz targets: records every workloads/examples/*.json
# (except the bench_* ones, too large for seeds) with `ksmsim run --record`, in both
# encodings, into OUT/jsonl and OUT/binary.
# Usage: tests/fuzz/make-corpus.sh KSMSIM_BINARY OUT_DIR
set -euo pipefail
ksmsim="$1"
out="$2"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "${out}/jsonl" "${out}/binary"
for w in "${repo_root}"/workloads/examples/*.json; do
  name="$(basename "${w}" .json)"
  case "${name}" in bench_*) continue ;; esac
  # An example whose expects fail still records its trace (exit 1); 2 is an error.
  rc=0
  "${ksmsim}" run --quiet --force "${w}" --record "${out}/jsonl/${name}.jsonl" || rc=$?
  [[ ${rc} -le 1 ]] || { echo "make-corpus: recording ${w} failed (${rc})" >&2; exit 1; }
  "${ksmsim}" trace convert --force "${out}/jsonl/${name}.jsonl" \
    -o "${out}/binary/${name}.ksmt" >/dev/null
done
echo "make-corpus: $(ls "${out}/jsonl" | wc -l) traces in ${out}/{jsonl,binary}"
