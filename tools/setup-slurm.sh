#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for CI and for trying `ksmsim sweep --slurm`:
# installs Debian's slurm-wlm and munge (apt, with sudo when not root; skipped when they
# are installed), writes a localhost configuration (/etc/slurm/slurm.conf: NodeName=localhost,
# CPUs from nproc, RealMemory below the free memory; a munge key when there is none), and
# starts munged, slurmctld and slurmd unless they answer already. The pids of the daemons it
# started go to the file given as $1 (default: /run/ksmsim-slurm.pids), one a line, so that
# whoever started them can stop exactly those (tools/ci/slurm-sweep.sh does).
set -euo pipefail

pids_file="${1:-/run/ksmsim-slurm.pids}"
sudo_cmd=()
[[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
as_root() { "${sudo_cmd[@]}" "$@"; }

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
   ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends slurm-wlm munge
fi

# munge: a key, and the daemon (its socket answers `munge -n | unmunge`).
if [[ ! -s /etc/munge/munge.key ]]; then
  as_root mkdir -p /etc/munge
  as_root dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
as_root chown munge:munge /etc/munge/munge.key
as_root chmod 400 /etc/munge/munge.key
as_root mkdir -p /run/munge /var/log/munge /var/lib/munge
as_root chown munge:munge /run/munge /var/log/munge /var/lib/munge
: | as_root tee "${pids_file}" >/dev/null

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [[ ${#sudo_cmd[@]} -eq 0 ]]; then
    runuser -u munge -- munged
  else
    sudo -u munge munged
  fi
  for _ in $(seq 50); do
    [[ -s /run/munge/munged.pid ]] && break
    sleep 0.1
  done
  as_root cat /run/munge/munged.pid | as_root tee -a "${pids_file}" >/dev/null
fi

# slurm.conf: one node, localhost, with what this machine has.
cpus="$(nproc)"
free_mib="$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)"
real_mib=$(( free_mib * 3 / 4 ))
(( real_mib >= 256 )) || real_mib=256
as_root mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
as_root chown slurm:slurm /var/spool/slurmctld /var/log/slurm 2>/dev/null || true
as_root tee /etc/slurm/slurm.conf >/dev/null <<CONF
# Written by ksmsim's tools/setup-slurm.sh: a single-node cluster on localhost.
ClusterName=ksmsim
SlurmctldHost=localhost
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmUser=root
SlurmdUser=root
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MaxArraySize=100001
NodeName=localhost CPUs=${cpus} RealMemory=${real_mib} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

if ! scontrol ping 2>/dev/null | grep -q 'is UP'; then
  as_root slurmctld -i
  for _ in $(seq 100); do
    scontrol ping 2>/dev/null | grep -q 'is UP' && break
    sleep 0.2
  done
  as_root cat /run/slurmctld.pid | as_root tee -a "${pids_file}" >/dev/null
fi
if ! sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  as_root slurmd
  for _ in $(seq 100); do
    [[ -s /run/slurmd.pid ]] && break
    sleep 0.2
  done
  as_root cat /run/slurmd.pid | as_root tee -a "${pids_file}" >/dev/null
  for _ in $(seq 150); do
    sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
    sleep 0.2
  done
fi
as_root scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
sinfo
