import Foundation
import OrderedCollections
import PGHACore
import Testing

/// Issue 16 on real Debian hosts, against ansible-playbook 2.19:
///
/// - the CIS role (`site.yml --tags cis`) applied by ansible-playbook on a fresh host, which
///   pgha-play's audit (`--check`) then finds compliant (the built-in roles run under Ansible too);
/// - a public role's shape (Fixtures/public-role) run by ansible-playbook on one fresh host and by
///   pgha-play on another: the same results, the same files, and a second run of each changing nothing;
/// - facts gathered with become: pgha-play's equal `ansible -m setup --become`'s (root, SUDO_USER).
///
/// Runs with PGHA_LAB_TESTS=1 (and always under CI=true, where a missing lab fails it). Hosts:
/// PGHA_CIS_ANSIBLE_HOST (default node29=10.77.0.40) and PGHA_SEMANTICS_LAB_HOSTS (default
/// node30=10.77.0.41,node31=10.77.0.42: ansible-playbook on the first, pgha-play on the second);
/// PGHA_LAB_STATE_DIR points at another lab's key and known_hosts. The hosts are reset.
@Suite(.serialized, .enabled(if: SemanticsLab.enabled))
struct SemanticsLabTests {
    @Test func cisRoleRunsUnderAnsiblePlaybookAndPghaPlayFindsTheHostCompliant() throws {
        let lab = SemanticsLab.self
        let host = lab.cisHost
        let python = try #require(TestSupport.oraclePython, "the ansible-core oracle virtualenv could not be created")
        try lab.reset([host])
        let work = try lab.workDirectory("cis-ansible")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try lab.inventory(["postgres": [host]], alias: false).write(toFile: work + "/hosts.ini", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: work + "/group_vars", withDestinationPath: TestSupport.repositoryRoot + "/inventory/group_vars")

        let started = Date()
        let ansible = try lab.ansiblePlaybook(
            python, ["-i", work + "/hosts.ini", "playbooks/site.yml", "--tags", "cis"], in: TestSupport.repositoryRoot,
            environment: ["ANSIBLE_ROLES_PATH": TestSupport.repositoryRoot + "/roles"])
        let applied = CISLab.Run(ansible)
        try #require(
            ansible.status == 0 && applied.stats["failed"] == 0 && applied.stats["unreachable"] == 0,
            "ansible-playbook --tags cis failed (\(ansible.status)): \(applied.failures)\n\(ansible.stderr.suffix(3000))")
        #expect((applied.stats["changed"] ?? 0) > 50, "a fresh host needs many controls: \(applied.stats)")
        let ansibleSeconds = Int(Date().timeIntervalSince(started))

        // pgha-play's audit of what Ansible applied: nothing to change.
        let audit = CISLab.Run(try TestSupport.run(
            TestSupport.executable,
            ["site.yml", "-i", work + "/hosts.ini", "--tags", "cis", "--check", "--output", "json"], in: TestSupport.repositoryRoot))
        #expect(audit.status == 0, "pgha-play --check failed: \(audit.failures)\n\(audit.stderr)")
        #expect(audit.stats["changed"] == 0, "pgha-play finds controls Ansible left non-compliant: \(audit.changedTasks)")

        // The host stays reachable and deployable for the next run.
        let probe = try lab.ssh(host, "sudo -n true && echo SUDO_OK")
        #expect(probe.stdout.contains("SUDO_OK"), "deploy cannot sudo after Ansible applied the role: \(probe.stderr)")
        print("cis-hardening under ansible-playbook on \(host.name): \(ansibleSeconds)s, pgha-play --check changed=\(audit.stats["changed"] ?? -1)")
    }

    @Test func publicRoleShapedContentRunsAsUnderAnsible() throws {
        let lab = SemanticsLab.self
        let python = try #require(TestSupport.oraclePython, "the ansible-core oracle virtualenv could not be created")
        let hosts = lab.pairHosts
        try #require(hosts.count == 2, "PGHA_SEMANTICS_LAB_HOSTS needs two hosts")
        try lab.reset(hosts)
        let work = try lab.workDirectory("public-role")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Both tools know their host as `target`, so their event streams compare line by line.
        try lab.inventory(["target": [hosts[0]]], alias: true).write(toFile: work + "/ansible.ini", atomically: true, encoding: .utf8)
        try lab.inventory(["target": [hosts[1]]], alias: true).write(toFile: work + "/pgha.ini", atomically: true, encoding: .utf8)
        let fixture = TestSupport.fixtures + "/public-role"

        func runAnsible() throws -> TestSupport.Output {
            try lab.ansiblePlaybook(python, ["-i", work + "/ansible.ini", "playbook.yml"], in: fixture)
        }
        func runPgha() throws -> TestSupport.Output {
            try TestSupport.run(TestSupport.executable, ["-i", work + "/pgha.ini", "--output", "json", "playbook.yml"], in: fixture)
        }
        let oracle = try runAnsible()
        let ours = try runPgha()
        #expect(oracle.status == 0, "ansible-playbook failed:\n\(oracle.stdout.suffix(3000))\n\(oracle.stderr.suffix(2000))")
        #expect(ours.status == 0, "pgha-play failed:\n\(ours.stderr)")
        let expected = EventNormalizer.normalize(oracle.stdout)
        let actual = EventNormalizer.normalize(ours.stdout)
        #expect(expected == actual, "event streams differ\n\(EventNormalizer.describeDifference(expected: expected, actual: actual))")

        // What was written, as the role's own debug shows it (compared above); pinned here too.
        let files = actual.first { $0.contains("/etc/sudoers.d/security") || $0.contains("MaxStartups") } ?? ""
        for expectedText in ["MaxStartups 10:30:60", "LoginGraceTime 90", "umask=0o027", "grace=90",
                             "deploy ALL=(ALL) NOPASSWD: ALL", "ClientAliveInterval=300"] {
            #expect(actual.contains { $0.contains(expectedText) }, "'\(expectedText)' not written: \(files)")
        }
        #expect(actual.contains { $0.contains("root deploy Debian") }, "facts are not read with become")

        // A second run of each changes nothing.
        for (tool, output) in [("ansible-playbook", try runAnsible()), ("pgha-play", try runPgha())] {
            let recap = CISLab.Run(output)
            #expect(output.status == 0 && recap.stats["changed"] == 0, "\(tool) rerun changed: \(recap.changedTasks) \(recap.failures)")
        }
    }

    @Test func factsGatheredWithBecomeMatchAnsibleSetup() throws {
        let lab = SemanticsLab.self
        let python = try #require(TestSupport.oraclePython, "the ansible-core oracle virtualenv could not be created")
        let host = try #require(lab.pairHosts.first)
        let work = try lab.workDirectory("facts-become")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try lab.inventory(["lab": [host]], alias: false).write(toFile: work + "/hosts.ini", atomically: true, encoding: .utf8)
        try """
            - hosts: lab
              become: true
              tasks:
                - name: facts
                  debug:
                    var: ansible_facts
            - hosts: lab
              tasks:
                - name: facts without become
                  debug:
                    msg: "{{ ansible_user_id }} {{ ansible_env.SUDO_USER | default('none') }}"
            """.write(toFile: work + "/facts.yml", atomically: true, encoding: .utf8)

        let locale = ProcessInfo.processInfo.environment.keys.filter { $0 == "LANG" || $0.hasPrefix("LC_") }.sorted()
        let started = Int(Date().timeIntervalSince1970)
        let ansible = (python as NSString).deletingLastPathComponent + "/ansible"
        let oracle = try TestSupport.run(
            "/usr/bin/env",
            locale.flatMap { ["-u", $0] } + [ansible, "-i", work + "/hosts.ini", "lab", "-m", "setup", "--become", "--tree", work + "/tree"],
            environment: ["ANSIBLE_NOCOLOR": "1"])
        let ours = try TestSupport.run(TestSupport.executable, ["-i", work + "/hosts.ini", "--output", "json", work + "/facts.yml"])
        #expect(ours.status == 0, "\(ours.stderr)")
        let text = try #require(try? String(contentsOfFile: work + "/tree/" + host.name, encoding: .utf8), "\(oracle.stdout)\(oracle.stderr)")
        let theirs = try #require(try JSON.decode(text)["ansible_facts"]?.dictValue)
        var expected = OrderedDictionary<String, Value>()
        for (key, value) in theirs { expected[key.hasPrefix("ansible_") ? String(key.dropFirst(8)) : key] = value }
        let events = ours.stdout.split(separator: "\n").compactMap { try? JSON.decode(String($0)) }
        let results = events.filter { $0["event"]?.stringValue == "host_result" && $0["action"]?.stringValue == "debug" }
        let native = try #require(results.first?["result"]?["ansible_facts"]?.dictValue, "no facts in pgha-play's output")

        #expect(native["user_id"] == "root" && expected["user_id"] == "root")
        #expect(native["env"]?["SUDO_USER"] == "deploy" && expected["env"]?["SUDO_USER"] == "deploy")
        let mismatches = FactParity.compare(native: native, ansible: expected, clockWindow: started...Int(Date().timeIntervalSince1970))
        #expect(mismatches.isEmpty, "facts with become that differ from ansible's setup --become:\n\(mismatches.joined(separator: "\n"))")
        #expect(results.last?["result"]?["msg"] == "deploy none", "without become, facts are the login user's")
    }
}

enum SemanticsLab {
    struct Host {
        var name: String
        var address: String
    }

    static var enabled: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["PGHA_LAB_TESTS"] == "1" || env["CI"] == "true"
    }

    static var stateDir: String {
        ProcessInfo.processInfo.environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"
    }

    static func hosts(_ spec: String) -> [Host] {
        spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=").map(String.init)
            return parts.count == 2 ? Host(name: parts[0], address: parts[1]) : nil
        }
    }

    static var cisHost: Host {
        hosts(ProcessInfo.processInfo.environment["PGHA_CIS_ANSIBLE_HOST"] ?? "node29=10.77.0.40").first
            ?? Host(name: "node29", address: "10.77.0.40")
    }

    static var pairHosts: [Host] {
        hosts(ProcessInfo.processInfo.environment["PGHA_SEMANTICS_LAB_HOSTS"] ?? "node30=10.77.0.41,node31=10.77.0.42")
    }

    /// Fresh disks for `hosts` (the lab's other hosts keep running).
    static func reset(_ hosts: [Host]) throws {
        let result = try TestSupport.run(TestSupport.executable, ["lab", "reset"] + hosts.map(\.name))
        try #require(result.status == 0, "lab reset \(hosts.map(\.name)) failed (needs root and the lab up):\n\(result.stderr)")
    }

    static func workDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// An INI inventory with the lab's connection settings; with `alias`, each group's host is
    /// named after the group (`target ansible_host=...`).
    static func inventory(_ groups: [String: [Host]], alias: Bool) -> String {
        var text = ""
        for (group, members) in groups.sorted(by: { $0.key < $1.key }) {
            if alias {
                text += members.map { "\(group) ansible_host=\($0.address)\n" }.joined()
            } else {
                text += "[\(group)]\n" + members.map { "\($0.name) ansible_host=\($0.address)\n" }.joined()
            }
        }
        if groups["postgres"] != nil { text += "[witness]\n" }
        return text + "\n" + TestSupport.labInventoryVars(stateDirectory: stateDir)
    }

    /// ansible-playbook from the oracle venv with the events callback the differential tests read.
    static func ansiblePlaybook(
        _ python: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]
    ) throws -> TestSupport.Output {
        // OpenSSH would forward the controller's locale to the host; pgha-play forwards nothing.
        let locale = ProcessInfo.processInfo.environment.keys.filter { $0 == "LANG" || $0.hasPrefix("LC_") }.sorted()
        let playbook = (python as NSString).deletingLastPathComponent + "/ansible-playbook"
        return try TestSupport.run(
            "/usr/bin/env", locale.flatMap { ["-u", $0] } + [playbook] + arguments, in: directory,
            environment: [
                "ANSIBLE_CALLBACK_PLUGINS": TestSupport.fixtures + "/callback_plugins", "ANSIBLE_STDOUT_CALLBACK": "pgha_events",
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_PIPELINING": "true",
            ].merging(environment) { _, given in given })
    }

    static func ssh(_ host: Host, _ command: String) throws -> TestSupport.Output {
        try TestSupport.run("/usr/bin/ssh", [
            "-i", stateDir + "/id_ed25519", "-o", "UserKnownHostsFile=\(stateDir)/known_hosts", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes", "deploy@\(host.address)", command,
        ])
    }
}
