/// The shell script that gathers facts in one round trip, without Python on the host.
///
/// It prints `key=value` lines and a few tagged blocks that `FactParser` turns into Ansible's
/// fact names. Only POSIX sh and coreutils/iproute2 are assumed.
enum FactScript {
    static let text = #"""
    export LC_ALL=C
    echo "hostname_full=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
    echo "fqdn=$(hostname -f 2>/dev/null || hostname)"
    echo "kernel=$(uname -r)"
    echo "kernel_version=$(uname -v)"
    echo "machine=$(uname -m)"
    echo "system=$(uname -s)"
    echo "user_id=$(id -un)"
    echo "user_uid=$(id -u)"
    echo "user_gid=$(id -g)"
    echo "user_dir=$HOME"
    echo "user_shell=$(getent passwd "$(id -un)" | cut -d: -f7)"
    echo "nproc=$(nproc 2>/dev/null)"
    echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
    echo "virt=$(systemd-detect-virt 2>/dev/null || echo none)"
    echo "virt_container=$(systemd-detect-virt --container 2>/dev/null || echo none)"
    echo "machine_id=$(cat /etc/machine-id 2>/dev/null)"
    echo "debian_version=$(cat /etc/debian_version 2>/dev/null)"
    echo "epoch=$(date +%s)"
    echo "date_fields=$(date '+%Y %m %d %H %M %S %Z %z %a %A %b %B %j %u %V %w')"
    echo "utc_fields=$(date -u '+%Y-%m-%dT%H:%M:%SZ %Y-%m-%d %H:%M:%S')"
    echo "uptime=$(cut -d. -f1 /proc/uptime 2>/dev/null)"
    for tool in apt-get dnf yum zypper apk pacman; do
      if command -v $tool >/dev/null 2>&1; then echo "pkg_tool=$tool"; break; fi
    done
    echo "@@os-release"; cat /etc/os-release 2>/dev/null
    echo "@@meminfo"; cat /proc/meminfo 2>/dev/null
    echo "@@cpuinfo"; grep -E '^(processor|model name|physical id|core id|cpu cores|siblings)' /proc/cpuinfo 2>/dev/null
    echo "@@route4"; ip -4 route get 1.1.1.1 2>/dev/null || ip -4 route show default 2>/dev/null
    echo "@@route6"; ip -6 route get 2001:4860:4860::8888 2>/dev/null
    echo "@@addr"; ip -o addr show 2>/dev/null
    echo "@@link"; ip -o link show 2>/dev/null
    echo "@@mounts"; cat /proc/mounts 2>/dev/null
    echo "@@df"; df -P -B1 2>/dev/null
    echo "@@env"; env
    echo "@@end"
    """#
}
