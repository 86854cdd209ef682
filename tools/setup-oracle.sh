#!/usr/bin/env bash
# Installs what the kernel oracle (`ksmsim oracle`, docs/ORACLE.md) needs: QEMU, Debian's
# Linux 6.1 kernel image with its modules (zram, zsmalloc), and cpio. Safe to run again:
# apt is skipped when every package is already installed. Uses sudo when not root.
set -euo pipefail

packages=(qemu-system-x86 linux-image-amd64 cpio)

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null || true)"
  if [[ "${status}" != "install ok installed" ]]; then
    missing+=("${pkg}")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "setup-oracle: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "setup-oracle: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
fi

kernel="$(ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "${kernel}" ]]; then
  echo "setup-oracle: no /boot/vmlinuz-6.1.* after installing linux-image-amd64" \
       "(is this Debian 12?)" >&2
  exit 1
fi
if [[ ! -r "${kernel}" ]]; then
  echo "setup-oracle: ${kernel} is not readable by $(id -un); ksmsim oracle needs to read it" \
       "(e.g. sudo chmod a+r ${kernel})" >&2
  exit 1
fi
echo "setup-oracle: ready: $(command -v qemu-system-x86_64), ${kernel}"
