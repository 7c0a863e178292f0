import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Engine

/// The facts issue 18 added, parsed from script output shaped as on a lab host. The lab
/// differential (ModuleBreadthLabTests) compares the same facts with ansible-core's setup on real
/// hosts; these pin the parsing rules.
@Suite struct HostFactsTests {
    static func facts(_ body: String) -> OrderedDictionary<String, Value> {
        FactParser.parse("@@env\nHOME=/root\n@@end\nnodename=n1\n" + body)
    }

    @Test func fipsApparmorAndTheKernelCommandLine() {
        let facts = Self.facts("""
            fips=1
            apparmor=enabled
            @@cmdline
            console=ttyS0 quiet root="/dev/vda 1" a=1 a=2 -- --addr 0.0.0.0:2024
            @@end
            """)
        #expect(facts["fips"] == true)
        #expect(facts["apparmor"] == ["status": "enabled"])
        #expect(facts["cmdline"] == [
            "console": "ttyS0", "quiet": true, "root": "\"/dev/vda 1\"", "a": "2", "--": true, "--addr": true, "0.0.0.0:2024": true,
        ])
        #expect(facts["proc_cmdline"]?["a"] == ["1", "2"])
        #expect(Self.facts("@@cmdline\nbroken=\"quote\n@@end\n")["cmdline"] == .dict([:]))
    }

    @Test func containerFromPID1sEnvironmentBeforeRunSystemdContainer() {
        let asRoot = Self.facts("systemd_container=systemd-nspawn\n@@proc1\nenviron container=systemd-nspawn\n@@end\n")
        #expect(asRoot["virtualization_type"] == "container")
        #expect(asRoot["virtualization_role"] == "guest")
        let asUser = Self.facts("systemd_container=systemd-nspawn\n@@proc1\n@@end\n")
        #expect(asUser["virtualization_type"] == "systemd-nspawn")
        let docker = Self.facts("@@proc1\ncgroup 0::/system.slice/docker-0123abcd.scope\nenviron container=podman\n@@end\n")
        #expect(docker["virtualization_type"] == "docker")
    }

    @Test func pythonAndDMI() {
        let facts = Self.facts("python=/usr/bin/python3 Python 3.13.0rc2\n@@dmi\n@@end\n")
        #expect(facts["python"]?["executable"] == "/usr/bin/python3")
        #expect(facts["python"]?["version_info"] == [3, 13, 0, "candidate", 2])
        #expect(facts["python_version"] == "3.13.0")
        #expect(facts["system_vendor"] == "NA" && facts["product_name"] == "NA")
        let sysfs = Self.facts("@@dmi\nsys_vendor=QEMU\nproduct_name=Standard PC\nchassis_type=17\n@@end\n")
        #expect(sysfs["system_vendor"] == "QEMU")
        #expect(sysfs["form_factor"] == "Main Server Chassis")
        #expect(sysfs["bios_vendor"] == "NA")
    }

    @Test func blockDevicesWithPartitionsAndLinks() throws {
        let facts = Self.facts("""
            @@devlinks
            by-uuid 1234-abcd vda1
            by-id virtio-disk0 vda
            @@end
            @@devices
            dev vda /sys/block/../devices/pci0000:00/0000:00:05.0/virtio2/block/vda
            device/vendor 0x1af4
            removable 0
            queue/discard_max_hw_bytes 0
            queue/discard_granularity 512
            queue/rotational 1
            queue/scheduler [none] mq-deadline
            queue/logical_block_size 512
            size 4194304
            part vda1
            part/start 2048
            part/size 2097152
            @@end
            """)
        let vda = try #require(facts["devices"]?["vda"])
        #expect(vda["vendor"] == "0x1af4" && vda["model"] == .null)
        #expect(vda["support_discard"] == "0" && vda["scheduler_mode"] == "none")
        #expect(vda["sectors"] == 4_194_304 && vda["size"] == "2.00 GB" && vda["sectorsize"] == "512")
        #expect(vda["links"]?["ids"] == ["virtio-disk0"])
        let partition = try #require(vda["partitions"]?["vda1"])
        #expect(partition["start"] == "2048" && partition["size"] == "1.00 GB" && partition["uuid"] == "1234-abcd")
        #expect(facts["device_links"]?["uuids"]?["vda1"] == ["1234-abcd"])
    }

    @Test func localFactsAsJSONINIOrAFailedScript() {
        func encoded(_ text: String) -> String { Base64.encode(text) }
        let facts = Self.facts("""
            local_dir=1
            @@local file 0 app
            \(encoded("[general]\nName = breadth\nPort: 8080\nurl = http://%(name)s:%(port)s/\n[DEFAULT]\nshared = yes\n"))
            @@local file 0 json
            \(encoded("{\"release\": \"1.2\", \"features\": [1, 2]}"))
            @@local exec 3 broken
            \(encoded(""))
            @@localerr broken
            \(encoded("boom\n"))
            @@local file 0 garbage
            \(encoded("not = ini without a section"))
            @@end
            """)
        #expect(facts["local"]?["app"] == ["general": ["name": "breadth", "port": "8080", "url": "http://breadth:8080/", "shared": "yes"]])
        #expect(facts["local"]?["json"] == ["release": "1.2", "features": [1, 2]])
        #expect(facts["local"]?["broken"] == "Failure executing fact script (/etc/ansible/facts.d/broken.fact), rc: 3, err: boom\n")
        #expect(facts["local"]?["garbage"]?.stringValue?.hasPrefix("error loading facts as JSON or ini") == true)
        #expect(Self.facts("")["local"] == .dict([:]))
    }
}
