import Foundation
import PGHACore
import Testing

/// The monitoring role's configuration, rendered on this machine by its own tasks (tasks_from:
/// render.yml) with pgha-play and with ansible-playbook: Prometheus' tools accept it
/// (`promtool check config`, `amtool check-config` as the role validates, `promtool test rules`
/// with roles/monitoring/tests/rules_test.yml), and both tools render the same bytes.
@Suite("Monitoring rules and configuration", .serialized)
struct MonitoringRulesTests {
    static let fixture = TestSupport.fixtures + "/monitoring"
    static let renderedFiles = ["rules/pgha.yml", "prometheus.yml", "alertmanager.yml"]

    @Test func renderedConfigurationPassesPromtoolAndMatchesAnsible() throws {
        let promtool = try Self.requireTool("promtool")
        let ours = try Self.render(with: .pghaPlay)
        defer { try? FileManager.default.removeItem(atPath: ours) }

        let check = try TestSupport.run(promtool, ["check", "config", ours + "/prometheus.yml"])
        #expect(check.status == 0, "promtool check config:\n\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 1 rule files found"), "\(check.stdout)")

        let rules = try Self.testRules(in: ours)
        #expect(rules.status == 0, "promtool test rules:\n\(rules.stdout)\(rules.stderr)")
        #expect(rules.stdout.contains("SUCCESS"), "\(rules.stdout)")

        // The rules file has every alert the issue lists.
        let text = try String(contentsOfFile: ours + "/rules/pgha.yml", encoding: .utf8)
        for alert in [
            "PatroniNoLeader", "PatroniMultipleLeaders", "PostgreSQLReplicaNotStreaming", "PostgreSQLReplicationLagHigh",
            "PostgreSQLSynchronousStandbyMissing", "EtcdMemberDown", "EtcdNoLeader", "HAProxyBackendDown",
            "BackupTooOld", "WALArchivingFailing", "FilesystemAlmostFull", "HostDown", "CertificateExpiringSoon",
        ] {
            #expect(text.contains("- alert: \"\(alert)\""), "\(alert) missing from the rules")
        }

        guard let python = TestSupport.oraclePython else {
            Issue.record("the ansible-core oracle virtualenv could not be created (scripts/oracle-venv.sh)")
            return
        }
        let theirs = try Self.render(with: .ansible(python: python))
        defer { try? FileManager.default.removeItem(atPath: theirs) }
        for file in Self.renderedFiles {
            // The only expected difference: each run's own output directory (rule_files).
            let a = try String(contentsOfFile: ours + "/" + file, encoding: .utf8).replacingOccurrences(of: ours, with: "<dir>")
            let b = try String(contentsOfFile: theirs + "/" + file, encoding: .utf8).replacingOccurrences(of: theirs, with: "<dir>")
            #expect(a == b, "\(file) differs between pgha-play and ansible-playbook:\n--- pgha-play\n\(a)\n--- ansible\n\(b)")
        }
    }

    /// The rule tests can fail: with the lag limit raised above what the lag case writes, the lag
    /// alert no longer fires and promtool says so.
    @Test func aChangedThresholdFailsTheRuleTests() throws {
        _ = try Self.requireTool("promtool")
        let rendered = try Self.render(with: .pghaPlay, extraVars: ["monitoring_replication_lag_limit=64MB"])
        defer { try? FileManager.default.removeItem(atPath: rendered) }
        let text = try String(contentsOfFile: rendered + "/rules/pgha.yml", encoding: .utf8)
        #expect(text.contains("pgha:replication_lag_bytes > 67108864"), "\(text)")
        let rules = try Self.testRules(in: rendered)
        #expect(rules.status != 0)
        #expect((rules.stdout + rules.stderr).contains("alertname: PostgreSQLReplicationLagHigh"), "\(rules.stdout)\(rules.stderr)")
    }

    enum Renderer {
        case pghaPlay
        case ansible(python: String)
    }

    /// Renders the role's configuration into a new temporary directory and returns it.
    static func render(with renderer: Renderer, extraVars: [String] = []) throws -> String {
        let directory = NSTemporaryDirectory() + "pgha-monitoring-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let group = try TestSupport.run("/usr/bin/id", ["-gn"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var arguments = ["-i", "inventory.ini", "render.yml"]
        for variable in [
            "monitoring_config_dir=\(directory)", "monitoring_config_owner=\(NSUserName())",
            "monitoring_config_group=\(group)", "monitoring_manage_services=false",
        ] + extraVars {
            arguments += ["-e", variable]
        }
        let output: TestSupport.Output
        switch renderer {
        case .pghaPlay:
            output = try TestSupport.run(TestSupport.executable, arguments, in: fixture, environment: ["NO_COLOR": "1"])
        case .ansible(let python):
            let ansiblePlaybook = (python as NSString).deletingLastPathComponent + "/ansible-playbook"
            output = try TestSupport.run(
                ansiblePlaybook, arguments, in: fixture,
                environment: [
                    "ANSIBLE_ROLES_PATH": TestSupport.repositoryRoot + "/roles", "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_PYTHON_INTERPRETER": python, "ANSIBLE_RETRY_FILES_ENABLED": "false",
                ])
        }
        guard output.status == 0 else {
            throw PGHAError(.execution, "rendering with \(renderer) failed:\n\(output.stdout.suffix(3000))\(output.stderr.suffix(2000))")
        }
        return directory
    }

    /// `promtool test rules` on the repository's rule tests, placed beside the rendered rules.
    static func testRules(in directory: String) throws -> TestSupport.Output {
        let tests = directory + "/rules_test.yml"
        try? FileManager.default.removeItem(atPath: tests)
        try FileManager.default.copyItem(atPath: TestSupport.repositoryRoot + "/roles/monitoring/tests/rules_test.yml", toPath: tests)
        return try TestSupport.run(try requireTool("promtool"), ["test", "rules", "rules_test.yml"], in: directory)
    }

    /// Prometheus' tools come with Debian's packages (scripts/install-deps.sh installs them).
    static func requireTool(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw PGHAError(
            .environment, "\(name) is missing: install Debian's prometheus and prometheus-alertmanager (scripts/install-deps.sh)")
    }
}
