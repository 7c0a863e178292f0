/// The shell script that gathers facts in one round trip, without Python on the host.
///
/// It prints `key=value` lines and tagged blocks (`@@name`) that `FactParser` turns into Ansible's
/// fact names. Each block reads the same sources as ansible-core's Linux collectors (sysfs for
/// interfaces, `ip route get` for the default route, /etc/mtab plus statvfs for mounts), so the
/// values come out the same. Only POSIX sh, coreutils, util-linux and iproute2 are assumed.
///
/// Every program started costs a busy host milliseconds, so the script starts about ten: one
/// `grep -H` reads every small file (proc, sysfs, os-release) at once, one `ip -o addr` lists every
/// address, one `stat -f` measures every mount, one `date` reads the time and the year's two zone
/// offsets; the rest is shell builtins.
enum FactScript {
    static let text = #"""
    echo "@@env"; env
    export LC_ALL=C
    echo "@@end"
    set -f
    IP=$(command -v ip || echo /sbin/ip)
    read -r h < /proc/sys/kernel/hostname || h=$(uname -n)
    echo "nodename=$h"
    set -- $(getent ahosts "$h" 2>/dev/null)
    # An address's reverse lookup is one line: the address, then its names.
    if [ -n "$1" ]; then
      set -- $(getent hosts "$1" 2>/dev/null)
      [ $# -gt 0 ] && shift
      echo "fqdn_names= $*"
    fi
    echo "machine=$(uname -m)"
    u=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-$(id -un)}}}}
    echo "user_id=$u"
    pw=
    while IFS= read -r l; do case $l in "$u":*) pw=$l; break;; esac; done < /etc/passwd
    [ -n "$pw" ] || pw=$(getent passwd "$u" 2>/dev/null || getent passwd "$(id -u)")
    echo "user_pw=$pw"
    [ -d /run/systemd/system ] && echo "systemd_booted=1"
    # /run/systemd/container names the container and wins over detection, as in Ansible.
    [ -s /run/systemd/container ] || echo "virt=$(systemd-detect-virt 2>/dev/null || echo none)"
    for tool in apt-get dnf yum zypper apk pacman; do
      if command -v $tool >/dev/null 2>&1; then echo "pkg_tool=$tool"; break; fi
    done
    echo "@@date"
    date -f - '+%Y %m %A %w %W %d %H %M %S %Z %z %s %N' <<EOF
    now
    jan 1 00:00
    jul 1 00:00
    EOF
    set +f
    echo "@@ifaces"
    files=
    for d in /sys/class/net/*; do
      [ -d "$d" ] || continue
      echo "${d##*/}"
      files="$files $d/address $d/mtu $d/operstate $d/type $d/flags $d/speed $d/bridge/bridge_id $d/bridge/stp_state"
    done
    echo "@@ifextra"
    for d in /sys/class/net/*; do
      [ -d "$d" ] || continue
      if [ -d "$d/bridge" ]; then
        b=; for m in "$d"/brif/*; do [ -e "$m" ] && b="$b${m##*/} "; done
        echo "${d##*/} brif=$b"
      fi
      [ -e "$d/device/driver/module" ] && m=$(readlink -f "$d/device/driver/module") && echo "${d##*/} module=${m##*/}"
      [ -e "$d/device" ] && m=$(readlink "$d/device") && echo "${d##*/} pciid=${m##*/}"
    done
    set -f
    echo "@@files"
    grep -sH '' /etc/os-release /proc/meminfo /proc/cpuinfo /proc/1/comm /etc/machine-id /etc/debian_version \
      /proc/uptime /proc/sys/kernel/osrelease /proc/sys/kernel/version /proc/sys/kernel/ostype \
      /run/systemd/container /proc/self/status $files
    echo "@@route4"; "$IP" -4 route get 8.8.8.8 2>/dev/null
    echo "@@route6"; "$IP" -6 route get 2404:6800:400a:800::1012 2>/dev/null
    echo "@@ipaddr"; "$IP" -o addr show 2>/dev/null
    echo "@@bind"; findmnt -l -n -o TARGET,SOURCE 2>/dev/null
    echo "@@lsblk"; lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null
    echo "@@mounts"
    m=/etc/mtab; [ -r $m ] || m=/proc/mounts
    set --
    while read -r dev mnt fs opts dump pass rest; do
      case "$dev" in /*|\\*|*:/*) ;; *) continue;; esac
      [ "$fs" = none ] && continue
      echo "$dev $mnt $fs $opts ${dump:-0} ${pass:-0}"
      case $mnt in *\\*) mnt=$(printf '%b' "$mnt");; esac
      set -- "$@" "$mnt"
    done < $m
    echo "@@statfs"
    [ $# -gt 0 ] && stat -f -c '%S %s %b %a %c %d|%n' -- "$@" 2>/dev/null
    echo "@@end"
    exit 0
    """#
}
