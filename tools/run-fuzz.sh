#!/usr/bin/env bash
# Fuzzes the two trace readers (JSON Lines and binary) and the workload path (parse, validate,
# host budget, a bounded run with the invariant checkers) with libFuzzer for SECONDS each
# (default 60): a separate clang build in build/fuzz (-DKSMSIM_FUZZ=ON; the fuzz targets and
# the layers they test get -fsanitize=fuzzer,address,undefined), seed corpora recorded from
# workloads/examples (traces) and copied from workloads/examples and workloads/labs
# (workloads), then each target with -max_total_time. Exits non-zero on any crash,
# hang (-timeout), leak or sanitizer report; the reproducer is left in build/fuzz/artifacts/.
# Needs the Debian packages clang and libclang-rt-14-dev (libFuzzer), plus the normal build
# dependencies (tools/setup.sh).
# Usage: tools/run-fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-60}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
build="${KSMSIM_FUZZ_BUILD_DIR:-build/fuzz}"
jobs="${KSMSIM_FUZZ_JOBS:-2}"

if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "run-fuzz: clang++ not found; install it with: apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi
probe="$(mktemp -d)"
trap 'rm -rf "${probe}"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"${probe}/p.cc"
if ! clang++ -fsanitize=fuzzer "${probe}/p.cc" -o "${probe}/p" 2>"${probe}/err"; then
  cat "${probe}/err" >&2
  echo "run-fuzz: clang++ cannot link libFuzzer; install it with: apt-get install" \
       "libclang-rt-14-dev (the package holding libclang_rt.fuzzer for your clang)" >&2
  exit 2
fi

CC=clang CXX=clang++ cmake -S . -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKSMSIM_FUZZ=ON -DKSMSIM_BUILD_TESTS=OFF -DKSMSIM_WERROR=OFF >/dev/null
# The seeds are recorded by a ksmsim: the release build's when there is one (.ci/run step 1),
# else one built here with clang.
ksmsim="${KSMSIM_BIN:-build/release/tools/ksmsim}"
targets=(fuzz_jsonl fuzz_binary fuzz_workload)
[[ -x "${ksmsim}" ]] || { ksmsim="${build}/tools/ksmsim"; targets+=(ksmsim); }
cmake --build "${build}" -j "${jobs}" --target "${targets[@]}"

corpus="${build}/corpus"
tests/fuzz/make-corpus.sh "${ksmsim}" "${build}/seeds"
mkdir -p "${build}/seeds/workload"
cp workloads/examples/*.json workloads/labs/*.json "${build}/seeds/workload/"
mkdir -p "${corpus}/jsonl" "${corpus}/binary" "${corpus}/workload" "${build}/artifacts"

status=0
for reader in jsonl binary workload; do
  echo "==== fuzz_${reader}: ${seconds} s"
  # The working corpus grows in ${corpus}; the seeds are read, never written.
  if ! "${build}/tests/fuzz/fuzz_${reader}" "${corpus}/${reader}" "${build}/seeds/${reader}" \
      -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="${build}/artifacts/${reader}-" \
      2>"${build}/fuzz_${reader}.log"; then
    tail -n 60 "${build}/fuzz_${reader}.log" >&2
    echo "run-fuzz: fuzz_${reader} FAILED; reproducer: ls ${build}/artifacts/${reader}-*" >&2
    status=1
  else
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)" \
      "${build}/fuzz_${reader}.log" || true
  fi
done
[[ ${status} -eq 0 ]] && echo "run-fuzz: no crash in the trace readers or the workload path"
exit "${status}"
