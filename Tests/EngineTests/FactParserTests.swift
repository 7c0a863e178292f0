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

    @Test func defaultRouteAndAddresses() {
        let output = """
            hostname_full=node1.lab
            fqdn=node1.lab
            @@route4
            1.1.1.1 via 10.77.0.1 dev host0 src 10.77.0.11 uid 0
            @@addr
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            2: host0    inet 10.77.0.11/16 brd 10.77.255.255 scope global host0\\       valid_lft forever
            @@link
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: host0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 2a:1b:3c:4d:5e:6f brd ff:ff:ff:ff:ff:ff link-netnsid 0
            @@end
            """
        let facts = FactParser.parse(output)
        #expect(facts["hostname"] == "node1")
        #expect(facts["domain"] == "lab")
        #expect(facts["all_ipv4_addresses"] == ["10.77.0.11"])
        let route = facts["default_ipv4"]
        #expect(route?["address"] == "10.77.0.11")
        #expect(route?["gateway"] == "10.77.0.1")
        #expect(route?["interface"] == "host0")
        #expect(route?["netmask"] == "255.255.0.0")
        #expect(route?["network"] == "10.77.0.0")
        #expect(route?["macaddress"] == "2a:1b:3c:4d:5e:6f")
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
