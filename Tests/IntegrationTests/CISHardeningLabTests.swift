import Foundation
import PGHACore
import Testing

/// `pgha-play site.yml --tags cis` on a freshly reset lab host (issue 7): the run succeeds, a rerun
/// and an audit (`--check`) change nothing, no cluster package is installed, and the host stays
/// deployable (deploy logs in with the lab key and becomes root; root cannot log in; SSH is
/// allowed through UFW; auditd is not set to halt the node).
///
/// Runs with PGHA_LAB_TESTS=1 (and always under CI=true); it resets the host, so it needs root and
/// the lab up. PGHA_CIS_LAB_HOST="name=address" picks the host (default node6, which no other
/// suite uses); PGHA_LAB_STATE_DIR points at another lab's key and known_hosts.
@Suite(.serialized, .enabled(if: CISLab.enabled))
struct CISHardeningLabTests {
    @Test func tagsCISHardensAFreshHostIdempotentlyAndKeepsItDeployable() throws {
        let lab = CISLab.self
        let started = Date()
        let reset = try TestSupport.run(TestSupport.executable, ["lab", "reset", lab.host.name])
        try #require(reset.status == 0, "lab reset \(lab.host.name) failed (needs root and the lab up):\n\(reset.stderr)")

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-cis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try lab.inventory.write(toFile: work + "/hosts.ini", atomically: true, encoding: .utf8)
        // The project's group_vars (pgha_apt_update_cache, the lab secrets) apply as they do to inventory/lab.ini.
        try FileManager.default.createSymbolicLink(
            atPath: work + "/group_vars", withDestinationPath: TestSupport.repositoryRoot + "/inventory/group_vars")

        // `--tags cis` alone: preflight (which asserts a whole cluster) runs only with the cluster roles.
        let arguments = ["site.yml", "-i", work + "/hosts.ini", "--tags", "cis", "--output", "json"]
        var timings: [String] = []
        func play(_ label: String, _ extra: [String] = []) throws -> CISLab.Run {
            let begin = Date()
            let output = try TestSupport.run(TestSupport.executable, arguments + extra, in: TestSupport.repositoryRoot)
            timings.append("\(label) \(Int(Date().timeIntervalSince(begin)))s")
            return CISLab.Run(output)
        }

        let first = try play("apply")
        try #require(first.status == 0 && first.stats["failed"] == 0 && first.stats["unreachable"] == 0,
                     "first --tags cis run failed: \(first.failures)\n\(first.stderr)")
        #expect((first.stats["changed"] ?? 0) > 50, "a fresh host should need many controls: \(first.stats)")

        let second = try play("rerun")
        #expect(second.status == 0, "rerun failed: \(second.failures)\n\(second.stderr)")
        #expect(second.stats["changed"] == 0, "rerun changed: \(second.changedTasks)")

        let audit = try play("check", ["--check"])
        #expect(audit.status == 0, "--check failed: \(audit.failures)\n\(audit.stderr)")
        #expect(audit.stats["changed"] == 0, "--check on the hardened host reports non-compliant controls: \(audit.changedTasks)")

        // The deploy user still logs in with the lab key and becomes root without a password.
        let probe = try lab.ssh(user: "deploy", """
            sudo -n true && echo SUDO_OK
            dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' | awk '$1 ~ /^i/ {print "PKG " $2}'
            sudo -n /usr/sbin/sshd -T -C user=deploy,host=check,addr=10.77.0.1 | grep -E '^(permitrootlogin|allowusers) '
            sudo -n ufw status | sed -n 's/^Status: /UFW /p'
            sudo -n ufw status | grep -E '^22/tcp +ALLOW +10\\.77\\.0\\.1( |$)' | sed 's/^/SSHRULE /'
            sudo -n sed -n 's/^disk_full_action *= */AUDIT_DISK_FULL /p' /etc/audit/auditd.conf
            systemctl --failed --no-legend --plain | sed 's/^/FAILED_UNIT /'
            """)
        let lines = probe.stdout.split(separator: "\n").map(String.init)
        #expect(probe.status == 0, "ssh deploy@\(lab.host.address) failed after hardening: \(probe.stderr)")
        #expect(lines.contains("SUDO_OK"), "deploy cannot `sudo -n true` after hardening: \(probe.stderr)")
        #expect(lines.contains("permitrootlogin no"), "sshd -T: \(lines)")
        #expect(lines.contains("allowusers deploy"), "sshd -T: AllowUsers must keep the deploy user: \(lines)")
        #expect(lines.contains("UFW active"), "UFW is not active: \(lines)")
        #expect(lines.contains { $0.hasPrefix("SSHRULE ") }, "UFW does not allow SSH from the controller: \(lines)")
        #expect(lines.contains("AUDIT_DISK_FULL suspend"), "auditd disk_full_action must be suspend, not halt: \(lines)")
        // Controls a container cannot carry (auditd, acct) must not leave failed units behind.
        #expect(!lines.contains { $0.hasPrefix("FAILED_UNIT ") }, "failed units after hardening: \(lines.filter { $0.hasPrefix("FAILED_UNIT ") })")

        let installed = lines.filter { $0.hasPrefix("PKG ") }.map { String($0.dropFirst(4)).split(separator: ":")[0] }
        #expect(installed.count > 100, "dpkg-query returned too few packages to trust: \(installed.count)")
        let cluster = installed.filter { name in
            name.hasPrefix("postgresql") || ["patroni", "etcd-server", "etcd-client", "haproxy", "pgbackrest"].contains(String(name))
        }
        #expect(cluster.isEmpty, "--tags cis installed cluster packages: \(cluster)")
        #expect(installed.contains("auditd") && installed.contains("aide") && installed.contains("cron"),
                "the role's own packages are missing: auditd, aide, cron")

        // root has the lab key in authorized_keys, so only PermitRootLogin no keeps it out.
        let root = try lab.ssh(user: "root", "true")
        #expect(root.status != 0, "root logged in over SSH after hardening")
        #expect(root.stderr.contains("Permission denied"), "root login should be refused by sshd: \(root.stderr)")

        print("cis-hardening lab test on \(lab.host.name): \(timings.joined(separator: ", ")), total \(Int(Date().timeIntervalSince(started)))s")
    }
}

enum CISLab {
    static var enabled: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["PGHA_LAB_TESTS"] == "1" || env["CI"] == "true"
    }

    static var stateDir: String {
        ProcessInfo.processInfo.environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"
    }

    static var host: (name: String, address: String) {
        let spec = ProcessInfo.processInfo.environment["PGHA_CIS_LAB_HOST"] ?? "node6=10.77.0.17"
        let parts = spec.split(separator: "=").map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : ("node6", "10.77.0.17")
    }

    /// The host alone in [postgres], with the lab's connection settings (as in inventory/lab.ini).
    static var inventory: String {
        """
        [postgres]
        \(host.name) ansible_host=\(host.address)

        [witness]

        """ + TestSupport.labInventoryVars(stateDirectory: stateDir)
    }

    /// Runs `command` on the host with OpenSSH and the lab key (a second client besides pgha-play's libssh2).
    static func ssh(user: String, _ command: String) throws -> TestSupport.Output {
        try TestSupport.run("/usr/bin/ssh", [
            "-i", stateDir + "/id_ed25519", "-o", "UserKnownHostsFile=\(stateDir)/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "IdentitiesOnly=yes", "\(user)@\(host.address)", command,
        ])
    }

    /// The JSON-lines output of one pgha-play run, reduced to what the test asserts on.
    struct Run {
        var status: Int32
        var stderr: String
        var stats: [String: Int] = [:]
        var changedTasks: [String] = []
        var failures: [String] = []

        init(_ output: TestSupport.Output) {
            status = output.status
            stderr = output.stderr
            for line in output.stdout.split(separator: "\n") where line.hasPrefix("{") {
                guard let event = try? JSON.decode(String(line)) else { continue }
                switch event["event"]?.stringValue {
                case "recap":
                    for (_, counts) in event["hosts"]?.dictValue ?? [:] {
                        for (key, value) in counts.dictValue ?? [:] { stats[key, default: 0] += value.intValue ?? 0 }
                    }
                case "host_result":
                    let task = (event["task"]?.stringValue ?? "?") + (event["item"]?.stringValue.map { " [\($0)]" } ?? "")
                    switch event["status"]?.stringValue {
                    case "changed": changedTasks.append(task)
                    case "failed", "unreachable":
                        failures.append("\(task): \(event["result"]?["msg"]?.stringValue ?? "")")
                    default: break
                    }
                default: break
                }
            }
        }
    }
}
