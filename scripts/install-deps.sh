#!/usr/bin/env bash
# Installs what building and testing pgha-play needs on Debian 12 (run as root). Idempotent.
set -euo pipefail
packages=(libssh2-1-dev pkg-config openssh-server openssh-client sudo python3-venv iproute2 nftables
          systemd-container debootstrap openssl tcpdump postgresql-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
  for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$dir/swift" ] && export PATH="$dir:$PATH"
  done
  command -v swift >/dev/null 2>&1 || { echo "swift 6.3 is required on PATH" >&2; exit 1; }
fi
