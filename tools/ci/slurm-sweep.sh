#!/usr/bin/env bash
# CI's Slurm check (.ci/run): a 12-point sweep run through sbatch on a one-node cluster
# (tools/setup-slurm.sh) and by the local executor must give the same bytes.
#
#   tools/ci/slurm-sweep.sh [KSMSIM]
#
# Starts the cluster's daemons when they are not running, and stops the ones it started
# (by the pids setup-slurm.sh recorded) when it ends.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ksmsim="$(realpath "${1:-${repo_root}/build/release/tools/ksmsim}")"
work="$(mktemp -d "${TMPDIR:-/tmp}/ksmsim-slurm-sweep.XXXXXX")"
chmod 755 "${work}"
pids_file="${work}/daemons.pids"
cleanup() {
  if [[ -s "${pids_file}" ]]; then
    # Stop only the daemons setup-slurm.sh started for this run (slurmd, slurmctld, munged).
    tac "${pids_file}" | while read -r pid; do
      [[ -n "${pid}" ]] && kill "${pid}" 2>/dev/null || true
    done
  fi
  rm -rf "${work}"
}
trap cleanup EXIT

"${repo_root}/tools/setup-slurm.sh" "${pids_file}"

workload="${repo_root}/workloads/examples/two_procs_identical.json"
grid=("${workload}" --set pages_to_scan=100,1000,10000 --set sleep_millisecs=20,200
      --policy fixed,ksmtuned)

echo "--- local executor"
"${ksmsim}" sweep "${grid[@]}" --results "${work}/local" \
  --csv "${work}/local.csv" --json "${work}/local.json" --svg "${work}/local.svg"

echo "--- Slurm: sbatch --wait"
"${ksmsim}" sweep "${grid[@]}" --slurm --slurm-tasks 4 --results "${work}/shared" \
  --sbatch-arg=--wait
"${ksmsim}" sweep collect "${work}/shared" --quiet \
  --csv "${work}/slurm.csv" --json "${work}/slurm.json" --svg "${work}/slurm.svg"

for ext in csv json svg; do
  cmp "${work}/local.${ext}" "${work}/slurm.${ext}"
done
echo "Slurm and the local executor agree byte for byte ($(($(wc -l < "${work}/local.csv") - 1)) rows)"
