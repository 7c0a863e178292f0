import Foundation
import PGHACore
import Testing

@testable import Engine

@Suite("Native fact gathering")
struct FactParserTests {
    /// Runs the real fact script on this machine (a Debian 12 host, as CI is) and checks the shape.
    @Test func parsesThisMachine() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", FactScript.text]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let facts = FactParser.parse(String(decoding: data, as: UTF8.self))
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        if osRelease.contains("ID=debian") {
            #expect(facts["distribution"] == "Debian")
            #expect(facts["os_family"] == "Debian")
            #expect(facts["pkg_mgr"] == "apt")
            #expect(facts["distribution_major_version"]?.stringValue?.isEmpty == false)
        }
        #expect(facts["architecture"]?.stringValue == uname().machine)
        #expect((facts["memtotal_mb"]?.intValue ?? 0) > 0)
        #expect((facts["processor_vcpus"]?.intValue ?? 0) >= 1)
        #expect(facts["interfaces"]?.listValue?.contains("lo") == true)
        #expect(facts["user_uid"]?.intValue == Int(getuid()))
        #expect(facts["env"]?["PATH"] != nil)
    }

    /// Output of the script on a lab host with a default route; expectations are what
    /// ansible-core 2.19's setup module reported for the same host.
    static let labHost = """
        @@env
        HOME=/home/deploy
        LANG=C.UTF-8
        @@end
        nodename=node1
        fqdn_names= node1
        machine=x86_64
        user_id=deploy
        user_pw=deploy:x:1000:1000::/home/deploy:/bin/bash
        systemd_booted=1
        pkg_tool=apt-get
        @@date
        2026 11 Friday 5 47 27 09 22 34 UTC +0000 1795771354 955946839
        2026 01 Thursday 4 00 01 00 00 00 CET +0100 1767222000 000000000
        2026 07 Wednesday 3 26 01 00 00 00 CEST +0200 1782856800 000000000
        @@ifaces
        host0
        lo
        @@ifextra
        @@files
        /etc/os-release:PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        /etc/os-release:ID=debian
        /etc/os-release:VERSION_ID="12"
        /etc/os-release:VERSION_CODENAME=bookworm
        /proc/meminfo:MemTotal:        4014200 kB
        /proc/meminfo:MemFree:          907616 kB
        /proc/cpuinfo:processor\t: 0
        /proc/cpuinfo:vendor_id\t: GenuineIntel
        /proc/cpuinfo:cpu family\t: 6
        /proc/cpuinfo:model name\t: Intel(R) Xeon(R) Processor
        /proc/cpuinfo:cpu MHz\t\t: 2394.454
        /proc/cpuinfo:physical id\t: 0
        /proc/cpuinfo:siblings\t: 2
        /proc/cpuinfo:core id\t\t: 0
        /proc/cpuinfo:cpu cores\t: 2
        /proc/cpuinfo:
        /proc/cpuinfo:processor\t: 1
        /proc/cpuinfo:vendor_id\t: GenuineIntel
        /proc/cpuinfo:model name\t: Intel(R) Xeon(R) Processor
        /proc/cpuinfo:physical id\t: 0
        /proc/cpuinfo:siblings\t: 2
        /proc/cpuinfo:core id\t\t: 1
        /proc/cpuinfo:cpu cores\t: 2
        /proc/1/comm:systemd
        /etc/machine-id:0123456789abcdef0123456789abcdef
        /etc/debian_version:12.8
        /proc/uptime:5123.45 9876.54
        /proc/sys/kernel/osrelease:6.1.0-27-amd64
        /proc/sys/kernel/version:#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)
        /proc/sys/kernel/ostype:Linux
        /run/systemd/container:systemd-nspawn
        /proc/self/status:Name:\tgrep
        /proc/self/status:Cpus_allowed_list:\t0-1
        /sys/class/net/host0/address:7e:03:f0:d1:79:05
        /sys/class/net/host0/mtu:1500
        /sys/class/net/host0/operstate:up
        /sys/class/net/host0/type:1
        /sys/class/net/host0/flags:0x1003
        /sys/class/net/host0/speed:10000
        /sys/class/net/lo/address:00:00:00:00:00:00
        /sys/class/net/lo/mtu:65536
        /sys/class/net/lo/operstate:unknown
        /sys/class/net/lo/type:772
        /sys/class/net/lo/flags:0x9
        @@route4
        8.8.8.8 via 10.77.0.1 dev host0 src 10.77.0.11 uid 1000 
            cache 
        @@route6
        @@ipaddr
        1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
        1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever
        2: host0    inet 10.77.0.11/16 brd 10.77.255.255 scope global host0\\       valid_lft forever preferred_lft forever
        2: host0    inet6 fe80::7c03:f0ff:fed1:7905/64 scope link \\       valid_lft forever preferred_lft forever
        @@bind
        /                     overlay
        /run/host/os-release  /dev/vda[/usr/lib/os-release]
        @@lsblk
        /dev/vda   
        @@mounts
        /dev/vda /run/host/os-release ext4 ro,nosuid,relatime 0 0
        /dev/vda /run/host/os-release ext4 rw,relatime 0 0
        /dev/my\\040disk /mnt/a\\040b xfs rw 0 2
        @@statfs
        4096 4096 100 40 1000 900|/run/host/os-release
        512 4096 10 5 20 10|/mnt/a b
        @@end
        """

    @Test func defaultRouteAndInterfacesAsAnsible() {
        let facts = FactParser.parse(Self.labHost)
        #expect(facts["hostname"] == "node1")
        #expect(facts["fqdn"] == "node1")
        #expect(facts["domain"] == "")
        #expect(facts["all_ipv4_addresses"] == ["10.77.0.11"])
        // Ansible keeps link-local addresses and drops only ::1.
        #expect(facts["all_ipv6_addresses"] == ["fe80::7c03:f0ff:fed1:7905"])
        #expect(facts["interfaces"] == ["host0", "lo"])
        #expect(facts["default_ipv4"] == [
            "gateway": "10.77.0.1", "interface": "host0", "address": "10.77.0.11", "broadcast": "10.77.255.255",
            "netmask": "255.255.0.0", "network": "10.77.0.0", "prefix": "16", "macaddress": "7e:03:f0:d1:79:05",
            "mtu": 1500, "type": "ether", "alias": "host0",
        ])
        #expect(facts["default_ipv6"] == .emptyDict)
        #expect(facts["host0"]?["ipv4"] == [
            "address": "10.77.0.11", "broadcast": "10.77.255.255", "netmask": "255.255.0.0", "network": "10.77.0.0",
            "prefix": "16",
        ])
        #expect(facts["host0"]?["active"] == true)
        #expect(facts["host0"]?["speed"] == 10000)
        #expect(facts["host0"]?["promisc"] == false)
        #expect(facts["lo"]?["macaddress"] == nil)
        #expect(facts["lo"]?["type"] == "loopback")
        #expect(facts["lo"]?["active"] == true)
        #expect(facts["lo"]?["ipv4"]?["broadcast"] == "")
        #expect(facts["lo"]?["ipv6"] == [["address": "::1", "prefix": "128", "scope": "host"]])
    }

    @Test func withoutADefaultRouteBothDefaultsAreEmpty() {
        let output = Self.labHost.replacingOccurrences(
            of: "8.8.8.8 via 10.77.0.1 dev host0 src 10.77.0.11 uid 1000 \n    cache \n", with: "")
        let facts = FactParser.parse(output)
        #expect(facts["default_ipv4"] == .emptyDict)
        #expect(facts["all_ipv4_addresses"] == ["10.77.0.11"])
    }

    @Test func processorsUserVirtualizationAndTimeAsAnsible() {
        let facts = FactParser.parse(Self.labHost)
        #expect(facts["processor"] == [
            "0", "GenuineIntel", "Intel(R) Xeon(R) Processor", "1", "GenuineIntel", "Intel(R) Xeon(R) Processor",
        ])
        #expect(facts["processor_count"] == 1)
        #expect(facts["processor_cores"] == 2)
        #expect(facts["processor_threads_per_core"] == 1)
        #expect(facts["processor_vcpus"] == 2)
        #expect(facts["processor_nproc"] == 2)
        #expect(facts["user_dir"] == "/home/deploy")
        #expect(facts["user_uid"] == 1000)
        #expect(facts["user_gecos"] == "")
        #expect(facts["virtualization_type"] == "systemd-nspawn")
        #expect(facts["virtualization_role"] == "guest")
        #expect(facts["env"] == ["HOME": "/home/deploy", "LANG": "C.UTF-8"])
        #expect(facts["kernel"] == "6.1.0-27-amd64")
        #expect(facts["system"] == "Linux")
        #expect(facts["machine_id"] == "0123456789abcdef0123456789abcdef")
        #expect(facts["distribution_version"] == "12.8")
        #expect(facts["distribution_release"] == "bookworm")
        #expect(facts["uptime_seconds"] == 5123)
        #expect(facts["memtotal_mb"] == 3920)
        #expect(facts["service_mgr"] == "systemd")
        let time = facts["date_time"]
        #expect(Set(time?.dictValue?.keys.map { $0 } ?? []) == [
            "year", "month", "weekday", "weekday_number", "weeknumber", "day", "hour", "minute", "second", "epoch",
            "epoch_int", "date", "time", "iso8601_micro", "iso8601", "iso8601_basic", "iso8601_basic_short", "tz",
            "tz_dst", "tz_offset",
        ])
        #expect(time?["weeknumber"] == "47")
        #expect(time?["iso8601_micro"] == "2026-11-27T09:22:34.955946Z")
        #expect(time?["iso8601_basic"] == "20261127T092234955946")
        #expect(time?["tz_dst"] == "CEST")
    }

    @Test func mountsAsAnsible() {
        let mounts = FactParser.parse(Self.labHost)["mounts"]?.listValue ?? []
        #expect(mounts.count == 2)
        // One entry per mount point, the last mtab line wins, findmnt's bind mounts get ",bind".
        #expect(mounts.first?["options"] == "rw,relatime,bind")
        #expect(mounts.first?["size_total"] == 409600)
        #expect(mounts.first?["size_available"] == 163840)
        #expect(mounts.first?["block_used"] == 60)
        #expect(mounts.first?["inode_used"] == 100)
        #expect(mounts.first?["uuid"] == "N/A")
        #expect(mounts.last?["mount"] == "/mnt/a b")
        #expect(mounts.last?["device"] == "/dev/my disk")
        #expect(mounts.last?["passno"] == 2)
        #expect(mounts.last?["size_total"] == 5120)
    }

    private func uname() -> (machine: String, Void) {
        var info = utsname()
        Glibc.uname(&info)
        let machine = withUnsafePointer(to: &info.machine) {
            $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) }
        }
        return (machine, ())
    }
}
