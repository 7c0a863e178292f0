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
    set +f  # the globs below (/sys/block/*/slaves/*, facts.d/*.fact)
    echo "fips=$(cat /proc/sys/crypto/fips_enabled 2>/dev/null)"
    [ -e /sys/kernel/security/apparmor ] && echo apparmor=enabled || echo apparmor=disabled
    echo "@@cmdline"; cat /proc/cmdline 2>/dev/null
    echo "@@proc1"
    grep -E '/docker(/|-[0-9a-f]+\.scope)|/lxc/|/machine\.slice/machine-lxc|/system\.slice/containerd\.service' /proc/1/cgroup 2>/dev/null | sed 's/^/cgroup /'
    tr '\000' '\n' < /proc/1/environ 2>/dev/null | grep '^container=' | sed 's/^/environ /'
    echo "@@end"
    py=${PGHA_PYTHON:-$(command -v python3 || command -v python)}
    [ -n "$py" ] && echo "python=$py $("$py" -V 2>&1 | head -n 1)"
    # A small file's text as $(cat FILE) gives it, read by the shell: the device section reads about
    # ten attributes of every block device (loop devices included), and a cat for each was most of
    # the script's time.
    rd() { rv=; rs=; while IFS= read -r rl || [ -n "$rl" ]; do rv="$rv$rs$rl"; rs='
    '; done < "$1"; } 2>/dev/null
    d=/sys/devices/virtual/dmi/id
    echo "@@dmi"
    if [ -e $d/product_name ]; then
      for k in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor board_version \
          chassis_asset_tag chassis_serial chassis_vendor chassis_version chassis_type product_name product_serial \
          product_uuid product_version sys_vendor; do
        [ -r $d/$k ] && rd $d/$k && printf '%s=%s\n' $k "$rv"
      done
    elif command -v dmidecode >/dev/null 2>&1; then
      echo "dmidecode=1"
      for k in bios-release-date bios-vendor bios-version baseboard-asset-tag baseboard-product-name baseboard-serial-number \
          baseboard-manufacturer baseboard-version chassis-asset-tag chassis-serial-number chassis-manufacturer \
          chassis-version chassis-type system-product-name system-serial-number system-uuid system-version \
          system-manufacturer; do
        v=$(dmidecode -s $k 2>/dev/null) && printf '%s=%s\n' $k "$(printf '%s\n' "$v" | grep -v '^#' | tr -d '\n')"
      done
    fi
    echo "@@end"
    echo "@@devlinks"
    for t in by-id by-uuid by-label; do
      for e in $(ls -U /dev/disk/$t 2>/dev/null); do
        l=$(readlink /dev/disk/$t/$e) && echo "$t $e ${l##*/}"
      done
    done
    for s in /sys/block/*/slaves/*; do [ -e "$s" ] && echo "$s"; done | awk -F/ '{ print "masters", $4, $6 }'
    echo "@@end"
    echo "@@lspci"; command -v lspci >/dev/null 2>&1 && lspci -D 2>/dev/null
    echo "@@devices"
    for b in $(ls -U /sys/block 2>/dev/null); do
      l=$(readlink "/sys/block/$b") && sd="/sys/block/$l" || sd="/sys/block/$b"
      echo "dev $b $sd"
      for k in vendor model sas_address sas_device_handle serial; do
        [ -r "$sd/device/$k" ] && rd "$sd/device/$k" && printf 'device/%s %s\n' $k "$rv"
      done
      for f in removable queue/discard_max_hw_bytes queue/discard_granularity queue/rotational queue/scheduler \
          queue/logical_block_size queue/hw_sector_size size; do
        [ -r "$sd/$f" ] && rd "$sd/$f" && printf '%s %s\n' $f "$rv"
      done
      for h in $(ls -U "$sd/holders" 2>/dev/null); do rd "$sd/holders/$h/dm/name"; printf 'holder %s %s\n' "$h" "$rv"; done
      for p in $(ls -U "$sd"); do
        case "$p" in "$b"*[0-9]) ;; *) continue ;; esac
        [ -d "$sd/$p" ] || continue
        echo "part $p"
        for f in start queue/logical_block_size queue/hw_sector_size size; do
          [ -r "$sd/$p/$f" ] && rd "$sd/$p/$f" && printf 'part/%s %s\n' $f "$rv"
        done
        for h in $(ls -U "$sd/$p/holders" 2>/dev/null); do rd "$sd/$p/holders/$h/dm/name"; printf 'part/holder %s %s\n' "$h" "$rv"; done
      done
    done
    echo "@@end"
    fp=${PGHA_FACT_PATH:-/etc/ansible/facts.d}
    if [ -d "$fp" ]; then
      echo "local_dir=1"
      for f in $(ls "$fp"/*.fact 2>/dev/null | LC_ALL=C sort); do
        n=${f##*/}; n=${n%.fact}
        if [ -x "$f" ]; then
          out=$("$f" 2>/tmp/.pgha-fact-err.$$); rc=$?
          echo "@@local exec $rc $n"; printf '%s' "$out" | base64 -w0; echo
          echo "@@localerr $n"; base64 -w0 < /tmp/.pgha-fact-err.$$; echo; rm -f /tmp/.pgha-fact-err.$$
        else
          echo "@@local file 0 $n"; base64 -w0 < "$f"; echo
        fi
      done
      echo "@@end"
    fi
    exit 0
    """#
}
