#!/bin/sh
# Builds the pgha-play lab base image (Debian 12) into ROOTFS, an empty or missing directory.
# Needs network (the controller's Debian mirror) only while building.
# Usage: image-recipe.sh ROOTFS PACKAGE_LIST
# The controller (Sources/Lab/ImageBuilder.swift) hashes this file and PACKAGE_LIST: any change
# to either builds a new image. Per-host state (host keys, address, machine-id, authorized keys)
# is NOT baked in here: the controller writes it into each host's overlay upper dir.
set -eu
ROOTFS=$1
PACKAGES=$2

# Use the controller's own Debian mirror so the lab works wherever apt already works.
mirror=${PGHA_LAB_MIRROR:-}
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt; set PGHA_LAB_MIRROR" >&2; exit 1; }
security=${PGHA_LAB_SECURITY_MIRROR:-$(echo "$mirror" | sed 's#/debian/*$#/debian-security#')}

debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,sudo,python3,python3-apt,procps,iputils-ping,less \
    bookworm "$ROOTFS" "$mirror"

cat >"$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES

in_root() { chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
in_root apt-get update -q
# Security updates for what is already installed, so offline installs never need a newer base.
in_root apt-get -y -q dist-upgrade
# apt-utils brings apt-ftparchive for the local repository below.
in_root apt-get install -y -q apt-utils
# shellcheck disable=SC2046
in_root apt-get install -y -q --download-only $(grep -v '^#' "$PACKAGES" | tr '\n' ' ')

# Hosts have no route to a mirror, so they get a local repository made of exactly these .debs:
# `apt-get update` (and Ansible's update_cache) then succeeds offline, and every package of
# packages.txt installs with its dependencies. file: URIs are read in place, never copied.
repo=/var/lib/pgha-lab/repo
mkdir -p "$ROOTFS$repo"
mv "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS$repo/"
in_root sh -c "cd $repo && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release"
{
    echo "# Lab hosts are offline: packages come from the image's local repository."
    echo "deb [trusted=yes] file:$repo ./"
    sed 's/^/# /' "$ROOTFS/etc/apt/sources.list"
} >"$ROOTFS/etc/apt/sources.list.new"
mv "$ROOTFS/etc/apt/sources.list.new" "$ROOTFS/etc/apt/sources.list"
rm -rf "$ROOTFS"/var/lib/apt/lists/*
mkdir -p "$ROOTFS/var/lib/apt/lists/partial"
in_root apt-get update -q

# Ansible-style access: a non-root deploy user with passwordless sudo; keys are per lab, so the
# controller drops them in /etc/ssh/pgha-lab/ of each host's upper dir.
in_root useradd --create-home --shell /bin/bash deploy
echo 'deploy ALL=(ALL) NOPASSWD:ALL' >"$ROOTFS/etc/sudoers.d/deploy"
chmod 0440 "$ROOTFS/etc/sudoers.d/deploy"
mkdir -p "$ROOTFS/etc/ssh/pgha-lab"
cat >"$ROOTFS/etc/ssh/sshd_config.d/pgha-lab.conf" <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/pgha-lab/authorized_keys.%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
SSHD
# The controller takes the SSH banner as "up": only offer it once pam_nologin lets users in.
mkdir -p "$ROOTFS/etc/systemd/system/ssh.service.d"
printf '[Unit]\nAfter=systemd-user-sessions.service\n' >"$ROOTFS/etc/systemd/system/ssh.service.d/pgha-lab.conf"
# Every host needs its own host keys; the controller generates them before first boot.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*

# Networking: systemd-networkd with the static address the controller writes per host.
in_root systemctl enable systemd-networkd.service
# Small hosts: nothing on the console, no periodic jobs, logs in memory only. remount-fs has
# nothing to do on an overlay root, nor has the network generator (no kernel command line here).
in_root systemctl mask systemd-remount-fs.service systemd-network-generator.service console-getty.service container-getty@.service getty@.service \
    serial-getty@.service systemd-networkd-wait-online.service apt-daily.timer \
    apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    systemd-tmpfiles-clean.timer
mkdir -p "$ROOTFS/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$ROOTFS/etc/systemd/journald.conf.d/pgha-lab.conf"

# Lab hosts have no DNS and no route off the lab bridge; per-host identity comes from the upper dir.
: >"$ROOTFS/etc/resolv.conf"
: >"$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/etc/hostname" "$ROOTFS/var/lib/dbus/machine-id"
