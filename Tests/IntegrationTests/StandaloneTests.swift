import Foundation
import PGHACore
import Testing

/// The binary copied alone into an empty directory, as a user who installed it has it: the
/// built-in roles and playbooks, `init`, `roles`, `playbooks`, `--version`; no lab needed.
/// (StandaloneLabTests deploys from such a directory.)
@Suite struct StandaloneTests {
    /// An empty directory holding only a copy of the binary; removed when released.
    final class Alone {
        let path: String
        let binary: String

        init(binary source: String = TestSupport.executable) throws {
            path = NSTemporaryDirectory() + "pgha-alone-" + UUID().uuidString
            binary = path + "/bin/pgha-play"
            try FileManager.default.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source, toPath: binary)
            try FileManager.default.createDirectory(atPath: path + "/work", withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// The working directory the commands run in (empty at first).
        var work: String { path + "/work" }

        func run(_ arguments: [String], in directory: String? = nil) throws -> TestSupport.Output {
            try TestSupport.run(binary, arguments, in: directory ?? work, environment: ["NO_COLOR": "1"])
        }

        var tree: [String] { (FileManager.default.enumerator(atPath: work)?.allObjects as? [String] ?? []).sorted() }
    }

    static let lab = ["--postgres", "db1=10.77.0.31,db2=10.77.0.32", "--witness", "wit=10.77.0.33", "--user", "deploy"]

    @Test func versionRolesAndPlaybooksWithNoRepository() throws {
        let alone = try Alone()
        let version = try alone.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.range(of: #"^pgha-play \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}|unknown)\)\n$"#, options: .regularExpression) != nil, "\(version.stdout)")

        let roles = try alone.run(["roles", "list"])
        #expect(roles.status == 0, "\(roles.stderr)")
        #expect(roles.stdout.contains("\nhaproxy        HAProxy on every database node"))
        #expect(roles.stdout.contains("you set: haproxy_stats_password, pgha_address, pgha_admin_networks, pgha_client_networks\n"))
        #expect(!roles.stdout.contains("overridden by"))

        let playbooks = try alone.run(["playbooks", "list"])
        #expect(playbooks.status == 0, "\(playbooks.stderr)")
        #expect(playbooks.stdout.contains("\nsite.yml "))
        #expect(playbooks.stdout.contains("pgha-play switchover.yml -e candidate=node2"))

        let exported = try alone.run(["roles", "export", "haproxy"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(FileManager.default.fileExists(atPath: alone.work + "/roles/haproxy/templates/haproxy.cfg.j2"))
        #expect(try alone.run(["roles", "list"]).stdout.contains("overridden by: \(alone.work)/roles/haproxy\n"))
        #expect(try alone.run(["roles", "export", "haproxy"]).status == 5)
    }

    /// Each refusal through the command line: ansible's usage exit code, the reason, nothing written.
    @Test(arguments: [
        (["--postgres", "db1=10.77.0.31", "--witness", "wit=10.77.0.33"], "a cluster needs at least 2"),
        (["--postgres", "db1=10.77.0.31,db2=10.77.0.32"], "no --witness"),
        (["--postgres", "db1=10.77.0.31,db1=10.77.0.32", "--witness", "wit=10.77.0.33"], "the host name db1 is given twice"),
        (["--postgres", "db1=10.77.0.31,db2=10.77.0.31", "--witness", "wit=10.77.0.33"], "have the same address 10.77.0.31"),
        (StandaloneTests.lab + ["--admin-network", "10.77.0.1/33"], "--admin-network 10.77.0.1/33: the prefix length"),
        (StandaloneTests.lab + ["--client-network", "clients"], "--client-network clients: not a network in CIDR notation"),
    ])
    func initRefusesWithNothingWritten(arguments: [String], reason: String) throws {
        let alone = try Alone()
        let refused = try alone.run(["init", "cluster"] + arguments)
        #expect(refused.status == 5, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains(reason), "\(refused.stderr)")
        #expect(alone.tree == [])
    }

    @Test func initRefusesANonEmptyDirectory() throws {
        let alone = try Alone()
        try FileManager.default.createDirectory(atPath: alone.work + "/cluster", withIntermediateDirectories: true)
        try "keep\n".write(toFile: alone.work + "/cluster/hosts.ini", atomically: true, encoding: .utf8)
        let refused = try alone.run(["init", "cluster"] + Self.lab)
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("cluster is not empty (hosts.ini)"), "\(refused.stderr)")
        #expect(alone.tree == ["cluster", "cluster/hosts.ini"])
        #expect(try String(contentsOfFile: alone.work + "/cluster/hosts.ini", encoding: .utf8) == "keep\n")
    }

    @Test func twoMembersAreAllowedWithTheWarning() throws {
        let alone = try Alone()
        let made = try alone.run(["init", "cluster", "--postgres", "db1=10.77.0.31,db2=10.77.0.32", "--allow-two-member-etcd"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("[WARNING]: etcd has only 2 members"))
    }

    /// From the init directory: the built-in site.yml is found, its roles resolve (a user's haproxy
    /// first), the vault opens with the written password file.
    @Test func theInitDirectoryRunsTheBuiltInPlaybooks() throws {
        let alone = try Alone()
        #expect(try alone.run(["init", "cluster"] + Self.lab + ["--admin-network", "10.77.0.1/32"]).status == 0)
        let cluster = alone.work + "/cluster"
        let listed = try alone.run(["site.yml", "--list-tasks"], in: cluster)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.hasPrefix("\nplaybook: builtin:playbooks/site.yml\n"))
        #expect(listed.stdout.contains("      haproxy : Install HAProxy"), "\(listed.stdout)")
        #expect(try alone.run(["switchover.yml", "--syntax-check"], in: cluster).stdout.contains("playbook: builtin:playbooks/switchover.yml"))
        // A subdirectory finds the project file above it.
        try FileManager.default.createDirectory(atPath: cluster + "/notes", withIntermediateDirectories: true)
        #expect(try alone.run(["site.yml", "--list-hosts"], in: cluster + "/notes").stdout.contains("      wit\n"))

        // The user's own haproxy role (exported, then changed) replaces the built-in one.
        #expect(try alone.run(["roles", "export", "haproxy"], in: cluster).status == 0)
        try "- name: My haproxy\n  ansible.builtin.debug:\n    msg: mine\n".write(
            toFile: cluster + "/roles/haproxy/tasks/main.yml", atomically: true, encoding: .utf8)
        let overridden = try alone.run(["site.yml", "--list-tasks"], in: cluster)
        #expect(overridden.stdout.contains("      haproxy : My haproxy"), "\(overridden.stdout)")
        #expect(!overridden.stdout.contains("haproxy : Install HAProxy"))
        // So does the user's own playbook of a built-in name.
        try FileManager.default.createDirectory(atPath: cluster + "/playbooks", withIntermediateDirectories: true)
        try "- name: Mine\n  hosts: postgres\n  tasks: []\n".write(toFile: cluster + "/playbooks/site.yml", atomically: true, encoding: .utf8)
        #expect(try alone.run(["site.yml", "--list-tasks"], in: cluster).stdout.contains("playbook: \(cluster)/playbooks/site.yml"))
    }

    /// An error inside a built-in role names the built-in file and line: the preflight role (it only
    /// evaluates the inventory on the controller) with pgha_address missing.
    @Test func errorsInBuiltInRolesNameTheirFileAndLine() throws {
        let alone = try Alone()
        try """
            [postgres]
            db1 ansible_connection=local
            db2 ansible_connection=local
            [witness]
            wit ansible_connection=local

            """.write(toFile: alone.work + "/hosts.ini", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: alone.work + "/group_vars/all", withIntermediateDirectories: true)
        try """
            pgha_cluster_network: 10.0.0.0/24
            pgha_admin_networks: [10.0.0.1/32]
            pgha_client_networks: [10.0.0.0/24]
            pg_superuser_password: Standalone-Pw-Superuser-1
            pg_replication_password: Standalone-Pw-Replication-2
            pg_rewind_password: Standalone-Pw-Rewind-3
            patroni_restapi_password: Standalone-Pw-Restapi-4
            haproxy_stats_password: Standalone-Pw-Stats-5

            """.write(toFile: alone.work + "/group_vars/all/main.yml", atomically: true, encoding: .utf8)
        try "- name: Checks\n  hosts: postgres:witness\n  gather_facts: false\n  roles: [preflight]\n".write(
            toFile: alone.work + "/check.yml", atomically: true, encoding: .utf8)
        let run = try alone.run(["check.yml"])
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        // The role's argument spec (meta/argument_specs.yml, checked first as ansible-core does)
        // names the missing variable; an error inside a task names the built-in file and line.
        #expect(run.stdout.contains("missing required arguments: pgha_address"), "\(run.stdout)")
        try "pgha_address: \"{{ undefined_address_variable }}\"\n".write(
            toFile: alone.work + "/group_vars/all/address.yml", atomically: true, encoding: .utf8)
        let inTask = try alone.run(["check.yml"])
        #expect(inTask.status == 2, "\(inTask.stdout)\(inTask.stderr)")
        // An error while the built-in role evaluates names the built-in file, line and column.
        let spec = try String(contentsOfFile: TestSupport.repositoryRoot + "/roles/preflight/meta/argument_specs.yml", encoding: .utf8)
        #expect(spec.contains("pgha_address"))
        #expect(
            inTask.stdout.range(of: #"builtin:roles/preflight/[a-z_/]+\.yml:[0-9]+:[0-9]+: 'undefined_address_variable' is undefined"#, options: .regularExpression) != nil,
            "\(inTask.stdout)")
    }

    /// ansible-vault opens what init wrote, with the password file init wrote: every secret is
    /// there, 32 characters or more, no two alike.
    @Test func ansibleVaultOpensTheGeneratedSecrets() throws {
        guard VaultOracleTests.requireOracle() else { return }
        let alone = try Alone()
        #expect(try alone.run(["init", "cluster"] + Self.lab + ["--admin-network", "10.77.0.1/32"]).status == 0)
        let cluster = alone.work + "/cluster"
        let view = try VaultOracleTests.oracle(
            "ansible-vault", ["view", "--vault-password-file", cluster + "/.vault-pass", cluster + "/group_vars/all/vault.yml"], in: alone.work)
        #expect(view.status == 0, "\(view.stderr)")
        let secrets = try #require(YAMLLoader.load(view.stdout, file: "vault.yml")?.value.dictValue)
        #expect(secrets.keys.sorted() == [
            "vault_haproxy_stats_password", "vault_patroni_restapi_password", "vault_pg_replication_password",
            "vault_pg_rewind_password", "vault_pg_superuser_password", "vault_pgha_tls_ca_private_key",
            "vault_postgres_exporter_password",
        ])
        let values = secrets.values.compactMap(\.stringValue)
        #expect(values.count == 7 && Set(values).count == 7)
        #expect(values.first { $0.hasPrefix("-----BEGIN ") }?.contains("PRIVATE KEY-----\n") == true)
        #expect(values.allSatisfy { $0.count >= 32 })
    }

    /// ansible-playbook reads the roles' meta/argument_specs.yml (the variables `roles list` shows):
    /// with an inventory init made (its vault opened by its password file) every role validates;
    /// without a secret, the role that needs it refuses, naming it.
    @Test func ansiblePlaybookValidatesTheRolesArgumentSpecs() throws {
        guard VaultOracleTests.requireOracle() else { return }
        let alone = try Alone()
        #expect(try alone.run(["init", "cluster"] + Self.lab + ["--admin-network", "10.77.0.1/32"]).status == 0)
        let cluster = alone.work + "/cluster"
        let roles = ["common", "etcd", "haproxy", "monitoring", "patroni", "preflight", "tls", "ufw"]
        try "- hosts: db1\n  gather_facts: false\n  roles: [\(roles.joined(separator: ", "))]\n".write(
            toFile: cluster + "/roles.yml", atomically: true, encoding: .utf8)
        // Only the validation (tagged always) runs under a tag nothing else has; no host is contacted.
        let arguments = [
            "-i", "hosts.ini", "roles.yml", "--tags", "validation-only", "--vault-password-file", ".vault-pass",
            "-e", "ansible_connection=local",
        ]
        let environment = ["ANSIBLE_ROLES_PATH": TestSupport.repositoryRoot + "/roles"]
        let valid = try Self.ansiblePlaybook(arguments, in: cluster, environment: environment)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.components(separatedBy: "Validating arguments against arg spec 'main'").count == roles.count + 1, "\(valid.stdout)")

        let main = try String(contentsOfFile: cluster + "/group_vars/all/main.yml", encoding: .utf8)
        try main.split(separator: "\n").filter { !$0.hasPrefix("pg_rewind_password:") }.joined(separator: "\n")
            .write(toFile: cluster + "/group_vars/all/main.yml", atomically: true, encoding: .utf8)
        let missing = try Self.ansiblePlaybook(arguments, in: cluster, environment: environment)
        #expect(missing.status == 2)
        #expect(missing.stdout.contains("missing required arguments: pg_rewind_password"), "\(missing.stdout)")
        let view = try VaultOracleTests.oracle(
            "ansible-vault", ["view", "--vault-password-file", cluster + "/.vault-pass", cluster + "/group_vars/all/vault.yml"], in: cluster)
        let secrets = try #require(YAMLLoader.load(view.stdout, file: "vault.yml")?.value.dictValue).values.compactMap(\.stringValue)
        #expect(secrets.count == 7)
        for secret in secrets {
            #expect(!missing.stdout.contains(secret) && !valid.stdout.contains(secret), "a secret's value in ansible-playbook's output")
        }
    }

    static func ansiblePlaybook(_ arguments: [String], in directory: String, environment: [String: String]) throws -> TestSupport.Output {
        let bin = try #require(VaultOracleTests.bin)
        return try TestSupport.run(
            bin + "/ansible-playbook", arguments, in: directory,
            environment: environment.merging(
                ["ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "false", "PYTHONWARNINGS": "ignore"]) { $1 })
    }
}
