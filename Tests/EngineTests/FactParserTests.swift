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
        user_id=deploy
        user_pw=deploy:x:1000:1000::/home/deploy:/bin/bash
        nproc=2
        virt=systemd-nspawn
        virt_container=systemd-nspawn
        systemd_container=systemd-nspawn
        machine=x86_64
        date_local=2026 11 Friday 5 47 27 09 22 34 UTC +0000 1795771354 955946839
        date_utc=2026-11-27T09:22:34
        tz_jan=+0100 CET
        tz_jul=+0200 CEST
        @@cpuinfo
        processor\t: 0
        vendor_id\t: GenuineIntel
        model name\t: Intel(R) Xeon(R) Processor
        physical id\t: 0
        siblings\t: 2
        core id\t\t: 0
        cpu cores\t: 2
        processor\t: 1
        vendor_id\t: GenuineIntel
        model name\t: Intel(R) Xeon(R) Processor
        physical id\t: 0
        siblings\t: 2
        core id\t\t: 1
        cpu cores\t: 2
        @@route4
        8.8.8.8 via 10.77.0.1 dev host0 src 10.77.0.11 uid 1000 
            cache 
        @@route6
        @@if host0
        address=7e:03:f0:d1:79:05
        mtu=1500
        operstate=up
        type=1
        flags=0x1003
        speed=10000
        P 2: host0@if332: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
        P     link/ether 7e:03:f0:d1:79:05 brd ff:ff:ff:ff:ff:ff link-netnsid 0
        P     inet 10.77.0.11/16 brd 10.77.255.255 scope global host0
        P        valid_lft forever preferred_lft forever
        P     inet6 fe80::7c03:f0ff:fed1:7905/64 scope link
        P        valid_lft forever preferred_lft forever
        @@if lo
        address=00:00:00:00:00:00
        mtu=65536
        operstate=unknown
        type=772
        flags=0x9
        P 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
        P     inet 127.0.0.1/8 scope host lo
        P     inet6 ::1/128 scope host noprefixroute 
        @@bind
        /run/host/os-release
        @@lsblk
        /dev/vda   
        @@mounts
        /dev/vda /run/host/os-release ext4 ro,nosuid,relatime 0 0|4096 4096 100 40 1000 900
        /dev/vda /run/host/os-release ext4 rw,relatime 0 0|4096 4096 100 40 1000 900
        /dev/my\\040disk /mnt/a\\040b xfs rw 0 2|512 4096 10 5 20 10
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
