#!/usr/bin/env bash
# Installs what the kernel oracle (`ksmsim oracle`, docs/ORACLE.md) needs: QEMU, Debian's
# Linux 6.1 and 6.12 kernel images with their modules (zram, zsmalloc), and cpio. Safe to
# run again: apt is skipped when every package is already installed. Uses sudo when not root.
#
# Debian 12 ships 6.1 as linux-image-amd64 (bookworm) and 6.12 as linux-image-6.12-amd64
# (bookworm-security, in a fresh Debian 12's default sources; the 6.12 oracle cases were
# recorded with its 6.12.118-1~deb12u1, linux-image-6.12.118+deb12-amd64). The two install
# side by side in /boot; `ksmsim oracle` boots the one of the workload's "kernel" by version.
set -euo pipefail

packages=(qemu-system-x86 linux-image-amd64 linux-image-6.12-amd64 cpio)

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

# The newest image of a series: vmlinuz-6.1.* never matches 6.12 (the next character after
# the series and its dot is a digit of the sublevel), and -rt-/-cloud- flavours are left out.
find_kernel() {
  ls /boot/vmlinuz-"$1".[0-9]* 2>/dev/null | grep -v -e '-rt-' -e '-cloud-' | sort -V | tail -n 1 || true
}
ready=()
for series in 6.1 6.12; do
  kernel="$(find_kernel "${series}")"
  if [[ -z "${kernel}" ]]; then
    echo "setup-oracle: no /boot/vmlinuz-${series}.* after installing ${packages[*]}" \
         "(is this Debian 12 with bookworm-security in its sources?)" >&2
    exit 1
  fi
  if [[ ! -r "${kernel}" ]]; then
    echo "setup-oracle: ${kernel} is not readable by $(id -un); ksmsim oracle needs to read it" \
         "(e.g. sudo chmod a+r ${kernel})" >&2
    exit 1
  fi
  ready+=("${kernel}")
done
echo "setup-oracle: ready: $(command -v qemu-system-x86_64), ${ready[*]}"
