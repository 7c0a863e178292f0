#!/usr/bin/env bash
# Installs what building, testing and the demo need on a Debian 12 controller (run as root):
# every package in scripts/controller-packages.txt. Idempotent; installs only what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t packages < <(sed -e 's/#.*//' "$here/controller-packages.txt" | awk 'NF {print $1}')
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # prometheus and prometheus-alertmanager are here for promtool and amtool; their services are not
  # wanted on a controller that runs systemd.
  if [ -d /run/systemd/system ]; then
    for unit in prometheus prometheus-alertmanager; do
      case " ${missing[*]} " in *" $unit "*) systemctl disable --now "$unit" >/dev/null 2>&1 || true ;; esac
    done
  fi
fi
. "$here/toolchain.sh"
command -v swift >/dev/null 2>&1 || { echo "swift 6.3 is required on PATH" >&2; exit 1; }
