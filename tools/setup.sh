#!/usr/bin/env bash
# Installs ksmsim's build dependencies (Debian 12 packages) and builds the release preset.
# Safe to run again: apt is skipped when every package is already installed, and CMake
# only rebuilds what changed. Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

# Each package and why ksmsim needs it is listed in README.md ("Dependencies").
packages=(
  build-essential
  cmake
  ninja-build
  pkg-config
  libabsl-dev
  libxxhash-dev
  nlohmann-json3-dev
  libgtest-dev
  libfmt-dev
  libcli11-dev
  python3
  python3-jsonschema
  help2man
  groff-base
)

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null || true)"
  if [[ "${status}" != "install ok installed" ]]; then
    missing+=("${pkg}")
  fi
done

if (( ${#missing[@]} == 0 )); then
  echo "setup: all ${#packages[@]} build dependencies are installed; skipping apt"
else
  echo "setup: installing ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get not found. ksmsim's setup targets Debian 12; install the" \
      "equivalents of these Debian packages yourself: ${missing[*]}" >&2
    exit 1
  fi
  sudo_cmd=()
  if (( EUID != 0 )); then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: installing packages needs root, and sudo is not available." \
        "Run this script as root, or install: ${missing[*]}" >&2
      exit 1
    fi
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "setup: configuring (cmake --preset release)"
cmake --preset release
echo "setup: building (cmake --build --preset release)"
cmake --build --preset release
echo "setup: done; the command line is build/release/tools/ksmsim"
