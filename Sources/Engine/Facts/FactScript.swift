/// The shell script that gathers facts in one round trip, without Python on the host.
///
/// It prints `key=value` lines and tagged blocks (`@@name`) that `FactParser` turns into Ansible's
/// fact names. Each block reads the same sources as ansible-core's Linux collectors (sysfs for
/// interfaces, `ip route get` for the default route, /etc/mtab plus statvfs for mounts), so the
/// values come out the same. Only POSIX sh, coreutils, util-linux and iproute2 are assumed.
enum FactScript {
    static let text = #"""
    echo "@@env"; env
    export LC_ALL=C
    echo "@@end"
    IP=$(command -v ip || echo /sbin/ip)
    h=$(uname -n)
    echo "nodename=$h"
    a=$(getent ahosts "$h" 2>/dev/null | awk 'NR==1{print $1}')
    [ -n "$a" ] && echo "fqdn_names=$(getent hosts "$a" 2>/dev/null | awk 'NR==1{$1=""; print}')"
    echo "kernel=$(uname -r)"
    echo "kernel_version=$(uname -v)"
    echo "machine=$(uname -m)"
    echo "system=$(uname -s)"
    u=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-$(id -un)}}}}
    echo "user_id=$u"
    echo "user_pw=$(getent passwd "$u" 2>/dev/null || getent passwd "$(id -u)")"
    echo "nproc=$(nproc 2>/dev/null)"
    echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
    [ -d /run/systemd/system ] && echo "systemd_booted=1"
    echo "virt=$(systemd-detect-virt 2>/dev/null || echo none)"
    echo "virt_container=$(systemd-detect-virt --container 2>/dev/null || echo none)"
    echo "systemd_container=$(cat /run/systemd/container 2>/dev/null)"
    echo "pid1_container=$(tr '\0' '\n' < /proc/1/environ 2>/dev/null | sed -n 's/^container=//p' | head -n 1)"
    echo "machine_id=$(cat /etc/machine-id 2>/dev/null)"
    echo "debian_version=$(cat /etc/debian_version 2>/dev/null)"
    set -- $(date '+%s %N')
    echo "date_local=$(date -d "@$1" '+%Y %m %A %w %W %d %H %M %S %Z %z') $1 $2"
    echo "date_utc=$(date -u -d "@$1" '+%Y-%m-%dT%H:%M:%S')"
    y=$(date -d "@$1" +%Y)
    echo "tz_jan=$(date -d "$y-01-01 00:00" '+%z %Z')"
    echo "tz_jul=$(date -d "$y-07-01 00:00" '+%z %Z')"
    echo "uptime=$(cut -d. -f1 /proc/uptime 2>/dev/null)"
    for tool in apt-get dnf yum zypper apk pacman; do
      if command -v $tool >/dev/null 2>&1; then echo "pkg_tool=$tool"; break; fi
    done
    echo "@@os-release"; cat /etc/os-release 2>/dev/null
    echo "@@meminfo"; cat /proc/meminfo 2>/dev/null
    echo "@@cpuinfo"
    grep -E '^(processor|model name|vendor_id|Processor|cpu|Vendor|physical id|core id|cpu cores|siblings|flags)[[:space:]]*:' /proc/cpuinfo 2>/dev/null
    echo "@@route4"; "$IP" -4 route get 8.8.8.8 2>/dev/null
    echo "@@route6"; "$IP" -6 route get 2404:6800:400a:800::1012 2>/dev/null
    for d in /sys/class/net/*; do
      [ -d "$d" ] || continue
      echo "@@if ${d##*/}"
      for f in address mtu operstate type flags speed; do
        [ -e "$d/$f" ] && v=$(cat "$d/$f" 2>/dev/null) && echo "$f=$v"
      done
      if [ -d "$d/bridge" ]; then
        echo "bridge_id=$(cat "$d/bridge/bridge_id" 2>/dev/null)"
        echo "stp_state=$(cat "$d/bridge/stp_state" 2>/dev/null)"
        echo "brif=$(ls "$d/brif" 2>/dev/null | tr '\n' ' ')"
      fi
      [ -e "$d/device/driver/module" ] && echo "module=$(basename "$(readlink -f "$d/device/driver/module")")"
      [ -e "$d/device" ] && echo "pciid=$(basename "$(readlink "$d/device")")"
      "$IP" addr show primary dev "${d##*/}" 2>/dev/null | sed 's/^/P /'
      "$IP" addr show secondary dev "${d##*/}" 2>/dev/null | sed 's/^/S /'
    done
    echo "@@bind"; findmnt -l -n -o TARGET,SOURCE 2>/dev/null | awk '$2 ~ /\]/ {print $1}'
    echo "@@lsblk"; lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null
    echo "@@mounts"
    { cat /etc/mtab 2>/dev/null || cat /proc/mounts; } | while read -r dev mnt fs opts dump pass rest; do
      case "$dev" in /*|\\*|*:/*) ;; *) continue;; esac
      [ "$fs" = none ] && continue
      echo "$dev $mnt $fs $opts ${dump:-0} ${pass:-0}|$(stat -f -c '%S %s %b %a %c %d' "$(printf '%b' "$mnt")" 2>/dev/null)"
    done
    echo "@@end"
    """#
}
