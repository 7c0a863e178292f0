#!/bin/bash
# Prints a host's state for ModuleBreadthLabTests, one sorted section at a time, as root. Only what
# two fresh hosts cannot share is left out (host keys, machine ids, logs, caches, the tools' own
# temporary directories); host names and addresses are normalized by the test.
export LC_ALL=C
section() { printf '=== %s\n' "$1"; }

section files
# Type, mode, owner and group of everything under the trees the playbook touches, with size and
# link count for files and the target for links, then every regular file's checksum. Left out:
# what the lab makes per host, and files that record when or where they were made (the linker
# cache, locale archives, apt's lists and logs, PostgreSQL's data).
tree() {
  find /etc /srv /opt /usr/local /root -xdev \( -path '/etc/ssh/ssh_host_*' \
    -o -path /etc/machine-id -o -path /etc/hostname -o -path /etc/hosts -o -path /etc/ld.so.cache \
    -o -path /etc/ssl/private/ssl-cert-snakeoil.key -o -path /etc/ssl/certs/ssl-cert-snakeoil.pem \
    -o -lname ssl-cert-snakeoil.pem -o -path /etc/systemd/network/10-host0.network \
    -o -path /etc/adjtime -o -name .ansible -o -path /root/.cache -o -name .git -o -path /srv/breadth/origin.git \
    -o -path /srv/breadth/pam.d \) -prune -o "$@"
}
tree \( -type d -printf '%p %y %m %u %g\n' \) -o -printf '%p %y %m %u %g %s %n %l\n' | sort
section checksums
# gpg's keybox and trust database (which apt_key's gpg creates in /root/.gnupg) record when they
# were made: listed above, not compared by content.
tree -type f -print0 | grep -zv '^/root/.gnupg/' | xargs -0 sha256sum | sort -k2

section contents
for f in $(find /srv/breadth -path /srv/breadth/pam.d -prune -o -name .git -prune -o -path /srv/breadth/origin.git -prune -o \
    -type f -size -200k -print 2>/dev/null | grep -v '\.tar\.gz$' | sort; find /etc/sysctl.d/90-breadth.conf /etc/locale.gen /etc/timezone /etc/issue /etc/issue.net \
    /etc/systemd/system/breadth.service /etc/ansible/facts.d /etc/apt/sources.list.d /etc/apt/keyrings -type f 2>/dev/null | sort); do
  echo "--- $f"
  cat "$f"
done

section apt-keys
# apt_key's view: every trusted keyring, with expiry and user ids (gpg's notes on stderr left out).
apt-key adv --list-public-keys --keyid-format=long 2>/dev/null | grep -v "apt-key-gpghome"

section packages
dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' | sort

section services
systemctl list-unit-files --no-legend --no-pager | awk '{ print $1, $2 }' | sort
systemctl list-units --type=service --all --no-legend --no-pager --plain | awk '{ print $1, $2, $3, $4 }' \
  | grep -v '^user@\|^user-runtime-dir@' | sort
ls -la /run/systemd/system.control /run/systemd/transient 2>/dev/null | grep -v '^total' | awk '{ print $1, $NF }'

section iptables
for t in filter nat mangle raw; do echo "-- $t"; iptables -t "$t" -S 2>&1; echo "-- $t v6"; ip6tables -t "$t" -S 2>&1; done

section timezone
timedatectl show -p Timezone -p LocalRTC 2>&1
readlink /etc/localtime

section locales
locale -a | sort

section diversions
dpkg-divert --list | sort

section acls
getfacl -R --absolute-names /srv/breadth 2>&1

section sysctls
sysctl net.ipv4.tcp_fin_timeout 2>&1

section git
for d in /srv/breadth/app /srv/breadth/app-tag /srv/breadth/app-shallow; do
  echo "--- $d"
  git -C "$d" rev-parse HEAD 2>&1
  git -C "$d" branch -a --no-color 2>&1
  git -C "$d" remote -v 2>&1
  git -C "$d" status --porcelain 2>&1
  git -C "$d" rev-list --count HEAD 2>&1
done

section pam
# pamd writes "# Updated by Ansible - <time>" as the second line: the time is not compared.
ls -l /srv/breadth/pam.d 2>&1 | awk '{ print $1, $3, $4, $NF }'
sed 's/^# Updated by Ansible - .*/# Updated by Ansible - TIME/' /srv/breadth/pam.d/login 2>&1

section postgres
runuser -u postgres -- psql -X -A -t -c "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('app', 'readers') ORDER BY 1" \
  -c "SELECT datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datacl FROM pg_database WHERE datname = 'appdb'" \
  -c "SELECT r.rolname, m.rolname, admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = 'readers'" 2>&1
runuser -u postgres -- psql -X -A -t -d appdb -c "SELECT nspname, nspacl FROM pg_namespace WHERE nspname = 'inventory'" \
  -c "SELECT relname, relkind, relacl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'inventory' ORDER BY 1" \
  -c "SELECT defaclobjtype, defaclacl FROM pg_default_acl ORDER BY 1" 2>&1
