#!/usr/bin/env bash
# Fails, naming the Debian packages to install, when a command that the build or the test suites
# run on the controller is missing (the list: scripts/controller-packages.txt). scripts/test runs
# this first, so a machine that lacks a tool fails here, in one line, not in the middle of a suite.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
missing_packages=()
missing_commands=()
while read -r package commands; do
  for command in $commands; do
    [ "$command" = - ] && continue
    if [[ $command == /* ]]; then [ -x "$command" ] && continue
    elif PATH="$PATH:/usr/sbin:/sbin" command -v "$command" >/dev/null 2>&1; then continue
    fi
    missing_commands+=("$command")
    [[ " ${missing_packages[*]} " == *" $package "* ]] || missing_packages+=("$package")
  done
  # Packages that bring no command (headers, python3-venv) are checked as installed packages.
  if [ "$commands" = - ] && ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing_packages+=("$package")
  fi
done < <(sed -e 's/#.*//' "$here/controller-packages.txt" | awk 'NF')
if ! command -v swift >/dev/null 2>&1 && ! [ -x /opt/swift/usr/bin/swift ]; then
  echo "missing: swift 6.3 (install the toolchain under /opt/swift)" >&2
  exit 1
fi
if [ "${#missing_packages[@]}" -gt 0 ]; then
  echo "missing on the controller: ${missing_commands[*]:-(packages)}" >&2
  echo "install them with: apt-get install ${missing_packages[*]}   (or run scripts/install-deps.sh)" >&2
  exit 1
fi
echo "controller commands: all present" >&2
