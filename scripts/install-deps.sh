#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package Vigil needs to build, test and run. Idempotent; run as root
# (or with sudo) on Debian 12. The one list of packages is in scripts/debian-packages.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages=()
while read -r name cond cmd _; do
  [ -z "$name" ] && continue
  if [ "$cond" = "if-no" ] && command -v "$cmd" >/dev/null 2>&1; then continue; fi
  packages+=("$name")
done < <(sed -e 's/#.*//' "$here/debian-packages.txt")

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} Debian packages already installed"
else
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages for the dashboard's end-to-end tests (versions pinned in web/package.json).
if [ -f "$here/../web/package.json" ] && command -v npm >/dev/null; then
  if [ ! -d "$here/../web/node_modules" ]; then
    echo "install-deps: installing npm packages for web/"
    (cd "$here/../web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "install-deps: done"
