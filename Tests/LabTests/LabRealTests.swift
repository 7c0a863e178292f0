import Foundation
import PGHACore
import Testing

@testable import Lab

#if canImport(Glibc)
    import Glibc
#endif

/// Boots the real lab (root, systemd-nspawn, debootstrap). Runs with PGHA_LAB_TESTS=1 and always
/// in CI, where a missing prerequisite fails instead of skipping.
///
/// It uses its own lab (NetworkPlan.test: bridge pgha-test0, 10.77.200.0/24, hosts tnode1,
/// tnode2, twitness, state in /var/lib/pgha-play/lab-test) sharing only the image cache, so it
/// can run while the standard lab is in use.
@Suite(.serialized, .enabled(if: LabTestEnvironment.realTestsEnabled))
struct LabRealTests {
    let controller: LabController = {
        let standard = LabPaths.standard()
        let paths = LabPaths(
            stateDir: "/var/lib/pgha-play/lab-test", cacheDir: standard.cacheDir, recipeDir: standard.recipeDir)
        return LabController(paths: paths, plan: .test, log: { print("lab: \($0)") })
    }()
    var paths: LabPaths { controller.paths }

    @Test func fullLifecycle() throws {
        try LabController.preflight()
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh"), "apt-get install openssh-client")
        // up, twice: the second is a no-op.
        let first = try controller.up()
        #expect(first.hosts.map(\.name) == ["tnode1", "tnode2", "twitness"])
        print("lab: up took \(first.seconds) s")
        let again = try controller.up()
        #expect(again.booted.isEmpty)

        // Every host answers SSH as deploy with strict host key checking, sudo works, and
        // systemd has booted cleanly.
        for host in first.hosts {
            let state = try waitForSystemState(host.address)
            #expect(state == "running", "\(host.name): systemctl is-system-running said \(state)")
            let hostname = try ssh(host.address, "hostname").stdout
            #expect(hostname == host.name + "\n")
            #expect(try ssh(host.address, "id -un", user: "root").stdout == "root\n")
        }
        // Offline apt: the lists refresh from the image's local repository and roles' packages install.
        let apt = try ssh(
            first.hosts[2].address,
            "sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq && jq --version")
        #expect(apt.succeeded, "\(apt.stdout)\(apt.stderr)")
        #expect(apt.stdout.contains("jq-1.6"))
        #expect(!apt.stdout.contains("Failed to fetch") && !apt.stderr.contains("Failed to fetch"))

        // Each host has its own host key.
        let known = try String(contentsOfFile: paths.knownHosts, encoding: .utf8).split(separator: "\n")
        #expect(known.count == 3)
        #expect(Set(known.map { $0.split(separator: " ")[2] }).count == 3)
        // Hosts reach each other by name on the bridge.
        #expect(try ssh(first.hosts[0].address, "ping -c1 -W2 \(first.hosts[2].name)").succeeded)

        // Power loss and restart keep the disk.
        let node2 = first.hosts[1]
        let name2 = node2.name
        let token = UUID().uuidString
        #expect(try ssh(node2.address, "echo \(token) | sudo tee /var/lib/pgha-lab-token >/dev/null && sync").succeeded)
        try controller.kill(name2)
        #expect(try row(name2).state == .stopped)
        #expect(!SSHProbe.answers(node2.address, timeout: 2))
        #expect(!(try ssh(node2.address, "true").succeeded))
        try controller.start(name2)
        #expect(try row(name2).state == .running)
        #expect(try ssh(node2.address, "cat /var/lib/pgha-lab-token").stdout == token + "\n")
        #expect(try waitForSystemState(node2.address) == "running")

        // Partition cuts the host off (from the controller and from its peers), heal restores it.
        let witness = first.hosts[2]
        try controller.partition(witness.name)
        #expect(try row(witness.name).state == .partitioned)
        #expect(!SSHProbe.answers(witness.address, timeout: 2))
        #expect(!(try ssh(first.hosts[0].address, "ping -c1 -W2 \(witness.address)").succeeded))
        // A partition outlives a power cycle.
        try controller.kill(witness.name)
        try controller.start(witness.name)
        #expect(try row(witness.name).state == .partitioned)
        #expect(!SSHProbe.answers(witness.address, timeout: 3))
        try controller.heal(witness.name)
        #expect(waitUntil(20) { SSHProbe.answers(witness.address, timeout: 1) })
        #expect(try row(witness.name).state == .running)
        #expect(try ssh(first.hosts[0].address, "ping -c1 -W2 \(witness.address)").succeeded)

        // down leaves no nspawn, link, mount or disk behind, and keeps the image.
        let image = paths.image(first.imageHash)
        try controller.down()
        #expect(labProcesses().isEmpty, "nspawn still running: \(labProcesses())")
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(controller.bridge)"))
        let veths = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
            .filter { name in first.hosts.contains { Network.port(for: $0.name) == name } }
        #expect(veths.isEmpty)
        #expect(Filesystem.mounts(under: paths.stateDir).isEmpty)
        #expect(Filesystem.mounts(under: image).isEmpty)
        let cgroups = Cgroups(bridge: controller.bridge)
        for root in cgroups.roots {
            #expect(!FileManager.default.fileExists(atPath: "\(root)/\(cgroups.labDir)"), "cgroup left in \(root)")
        }
        #expect(!FileManager.default.fileExists(atPath: paths.stateDir + "/hosts"))
        #expect(try controller.status().isEmpty)
        #expect(FileManager.default.fileExists(atPath: image + "/" + ImageBuilder.marker))
    }

    /// Hosts route through the bridge address, and the lab's own nftables table (only it) keeps
    /// routed traffic on the bridge; `down` removes the table. PGHA_LAB_KEEP=1 leaves the test lab
    /// up afterwards (for LabFactsTests against hosts with a default route).
    @Test func gatewayAndFirewall() throws {
        let firewall = controller.firewall
        let tablesBefore = try nftTables().filter { $0 != "inet \(firewall.table)" }
        let report = try controller.up()
        let route = try ssh(report.hosts[0].address, "ip -4 route show default").stdout
        #expect(route.hasPrefix("default via \(controller.plan.bridgeAddress) dev host0"), "route: \(route)")
        // Ansible's default_ipv4 comes from this lookup; it resolves locally, no packet is sent.
        let get = try ssh(report.hosts[0].address, "ip -4 route get 8.8.8.8").stdout
        #expect(get.contains("via \(controller.plan.bridgeAddress) dev host0 src \(report.hosts[0].address)"), "\(get)")
        #expect(firewall.isInstalled())
        let rules = try ProcessRunner().check(["nft", "list", "table", "inet", firewall.table]).stdout
        #expect(rules.contains("iifname \"\(controller.bridge)\" oifname != \"\(controller.bridge)\" drop"), "\(rules)")
        #expect(rules.contains("oifname \"\(controller.bridge)\" iifname != \"\(controller.bridge)\" drop"), "\(rules)")
        // Other tables are untouched.
        #expect(try nftTables().filter { $0 != "inet \(firewall.table)" } == tablesBefore)
        if ProcessInfo.processInfo.environment["PGHA_LAB_KEEP"] == "1" { return }
        try controller.down()
        #expect(!firewall.isInstalled())
        #expect(try nftTables() == tablesBefore)
    }

    func nftTables() throws -> [String] {
        try ProcessRunner().check(["nft", "list", "tables"]).stdout.split(separator: "\n")
            .map { $0.replacingOccurrences(of: "table ", with: "") }
    }

    /// `PGHA_LAB_SCALE=50`: boots that many hosts, checks every one answers SSH as deploy with
    /// strict host key checking, and prints boot time and memory figures.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PGHA_LAB_SCALE"] != nil))
    func scale() throws {
        let count = Int(ProcessInfo.processInfo.environment["PGHA_LAB_SCALE"] ?? "") ?? 50
        try controller.down()
        let availableBefore = memAvailableKiB()
        let report = try controller.up(hostCount: count)
        #expect(report.hosts.count == count)
        print("lab: up --hosts \(count): \(report.seconds) s to SSH banners")

        let started = Date()
        let failures = LockedBox([String]())
        let group = DispatchGroup()
        for host in report.hosts {
            group.enter()
            Thread {
                let result = try? ssh(host.address, "systemctl is-system-running --wait || { systemctl --failed --no-legend; sudo journalctl -b --no-pager -n 8 -u \"$(systemctl --failed --no-legend --plain | cut -d\" \" -f1 | head -1)\"; }")
                if result?.stdout != "running\n" {
                    failures.withLock { $0.append("\(host.name): \(result?.stdout ?? "") \(result?.stderr ?? "")") }
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        print("lab: all \(count) hosts ssh-reachable and 'running' \(Date().timeIntervalSince(started)) s later")
        sleep(5)
        let used = availableBefore - memAvailableKiB()
        let pss = report.hosts.map { containerPssKiB($0.name) }
        let average = pss.reduce(0, +) / max(1, pss.count)
        print("lab: MemAvailable dropped \(used / 1024) MiB for \(count) hosts (\(used / 1024 / count) MiB/host); "
            + "container PSS average \(average / 1024) MiB, max \((pss.max() ?? 0) / 1024) MiB")
        try controller.down()
        #expect(labProcesses().isEmpty)
    }

    // MARK: helpers

    func memAvailableKiB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Proportional set size of all processes inside the host's container.
    func containerPssKiB(_ name: String) -> Int {
        guard let initPID = controller.runtime.containerInit(name) else { return 0 }
        return ([initPID] + HostRuntime.descendants(of: initPID)).reduce(0) { total, pid in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)) ?? ""
            let line = text.split(separator: "\n").first { $0.hasPrefix("Pss:") } ?? ""
            return total + (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0)
        }
    }

    func row(_ name: String) throws -> HostStatus {
        guard let row = try controller.status().first(where: { $0.name == name }) else {
            throw PGHAError(.execution, "no status row for \(name)")
        }
        return row
    }

    func ssh(_ address: IPv4Address, _ command: String, user: String = "deploy") throws -> CommandResult {
        try ProcessRunner().run([
            "/usr/bin/ssh", "-i", paths.privateKey, "-o", "UserKnownHostsFile=\(paths.knownHosts)",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5", "\(user)@\(address)", command,
        ])
    }

    /// `systemctl is-system-running` once boot has finished (it says "starting" until then).
    func waitForSystemState(_ address: IPv4Address) throws -> String {
        var state = ""
        _ = waitUntil(60) {
            state = (try? ssh(address, "systemctl is-system-running"))?.stdout
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return !["starting", "initializing", ""].contains(state)
        }
        return state
    }

    func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(250_000)
        }
        return condition()
    }

    /// Live systemd-nspawn processes on this lab's bridge.
    func labProcesses() -> [String] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.compactMap { pid in
            guard HostRuntime.isAlive(pid), let argv = HostRuntime.commandLine(pid),
                argv.first?.hasSuffix("systemd-nspawn") == true,
                argv.contains("--network-bridge=\(controller.bridge)")
            else { return nil }
            return argv.joined(separator: " ")
        }
    }
}
