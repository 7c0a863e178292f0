#!/bin/bash
# Prints a host's state for ModuleDifferentialLabTests, one sorted section at a time, as root.
# Only what two fresh hosts cannot share is left out here (host keys, machine ids, logs, caches,
# the tools' own temporary directories); host names and addresses are normalized by the test.
export LC_ALL=C
section() { printf '=== %s\n' "$1"; }

section files
# Type, mode, owner and group of everything in the trees a playbook can touch, with size and link
# count for files and the target for links; then the checksum of every regular file; contents in
# full for the small text files under the playbook's own paths. Left out: what the lab makes per
# host (host keys, machine id, names, network config, the snakeoil certificate), and crontab
# spool files' size and checksum (crontab(1) stamps them with a temporary name and the time; the
# crontabs section compares their entries).
tree() {
  find /etc /srv /home /usr/local /var/spool/cron /mnt /root -xdev \( -path '/etc/ssh/ssh_host_*' \
    -o -path /etc/machine-id -o -path /etc/hostname -o -path /etc/hosts -o -path /etc/ld.so.cache \
    -o -path /etc/ssl/private/ssl-cert-snakeoil.key -o -path /etc/ssl/certs/ssl-cert-snakeoil.pem \
    -o -lname ssl-cert-snakeoil.pem -o -path /etc/systemd/network/10-host0.network \
    -o -name .ansible -o -path /root/.cache \) -prune -o "$@"
}
tree \( -type d -printf '%p %y %m %u %g\n' \) -o \( -path '/var/spool/cron/crontabs/*' -printf '%p %y %m %u %g\n' \) \
  -o -printf '%p %y %m %u %g %s %n %l\n' | sort
section checksums
tree -type f ! -path '/var/spool/cron/crontabs/*' -print0 | xargs -0 sha256sum | sort -k2

section contents
for f in $(find /etc/difftest /srv/difftest /etc/motd /etc/fstab /etc/security/limits.conf \
    /etc/sysctl.d/90-difftest.conf /etc/modules-load.d /etc/cron.d/difftest /etc/apt/sources.list.d \
    /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw /home/alice/.ssh \
    /etc/postgresql/15/main/pg_hba.conf /etc/systemd/system/difftest.service /usr/local/bin -type f 2>/dev/null | sort); do
  echo "--- $f"
  cat "$f"
done

section users
getent passwd | sort
section groups
getent group | sort
section shadow
# The day of the last password change is a date: the same day on both hosts, unless the test
# straddles midnight, so it is dropped.
awk -F: 'BEGIN { OFS = ":" } { $3 = ""; print }' /etc/shadow | sort
section gshadow
sort /etc/gshadow

section packages
dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' | sort

section services
# Enablement of every unit file, and the state of every loaded service.
systemctl list-unit-files --no-legend --no-pager | awk '{ print $1, $2 }' | sort
systemctl list-units --type=service --all --no-legend --no-pager --plain | awk '{ print $1, $2, $3, $4 }' \
  | grep -v '^user@\|^user-runtime-dir@' | sort

section sysctls
sysctl -a 2>/dev/null | grep '^net\.' | grep -v 'nf_conntrack_count\|^net\.ipv4\.tcp_fastopen_key\|stable_secret\|^net\.netfilter\.nf_conntrack_events\b' | sort

section ufw
ufw status verbose

section crontabs
for u in $(getent passwd | cut -d: -f1 | sort); do
  if crontab -l -u "$u" >/dev/null 2>&1; then echo "--- $u"; crontab -l -u "$u"; fi
done

section postgres
runuser -u postgres -- psql -X -A -t -c "SELECT rolname, rolsuper, rolcreatedb, rolcanlogin, rolconnlimit, rolpassword IS NOT NULL FROM pg_authid ORDER BY 1" \
  -c "SELECT datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database ORDER BY 1" 2>&1
runuser -u postgres -- psql -X -A -t -d appdb -c "SELECT * FROM kv ORDER BY 1" 2>&1
