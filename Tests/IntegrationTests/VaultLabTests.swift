import Foundation
import PGHACore
import Testing

/// Issue 10's last "done when": the cluster deploys from an inventory whose secrets are all
/// vaulted. The lab inventory's shape (inventory/lab.ini, inventory/group_vars/all/main.yml) is
/// copied to a temporary directory for three lab hosts, with every secret moved into a vaulted
/// group_vars/all/vault.yml as `vault_...` and referenced from main.yml (Ansible's documented
/// practice); site.yml runs with --vault-password-file, then the cluster must work with the
/// vaulted passwords and no secret may appear in the output.
///
/// Hosts: PGHA_VAULT_LAB_HOSTS (default "node16,node17,node18": two database nodes, then the
/// witness); they are reset first (`lab reset`). Enabled by PGHA_CLUSTER_TESTS=1 or
/// PGHA_LAB_TESTS=1; then, and always under CI=true, a missing lab is a failure, not a skip.
/// scripts/test runs it in the cluster phase, on node1, node2 and witness after ClusterLabTests.
@Suite(.serialized, .enabled(if: VaultLab.enabled || TestSupport.inCI, "needs the lab: PGHA_CLUSTER_TESTS=1 or PGHA_LAB_TESTS=1"))
struct VaultLabTests {
    @Test func clusterDeploysFromAFullyVaultedInventory() throws {
        guard VaultLab.enabled else {
            Issue.record("the vaulted-inventory lab test is required under CI: set PGHA_LAB_TESTS=1 with the lab up")
            return
        }
        let hosts = VaultLab.hosts
        try #require(hosts.count == 3, "PGHA_VAULT_LAB_HOSTS needs three hosts (two database nodes, a witness): \(hosts)")
        let addresses = try VaultLab.addresses(of: hosts)
        try VaultLab.pgha(["lab", "reset"] + hosts, in: TestSupport.repositoryRoot).require("lab reset")

        let scratch = try VaultScratch()
        let secrets = VaultLab.freshSecrets()
        try VaultLab.writeInventory(in: scratch, hosts: hosts, addresses: addresses, secrets: secrets)
        let vaultFile = try scratch.read("group_vars/all/vault.yml")
        #expect(vaultFile.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        #expect(!secrets.values.contains(where: vaultFile.contains))

        let started = Date()
        let deploy = try VaultLab.pgha(
            ["-i", scratch.path + "/hosts.ini", "site.yml", "--vault-password-file", scratch.path + "/.vault-pass"]
                + VaultLab.extraArguments,
            in: TestSupport.repositoryRoot)
        print(String(format: "vault lab: site.yml deployed in %.0f s", Date().timeIntervalSince(started)))
        try #require(deploy.status == 0, "site.yml failed:\n\((deploy.stdout + deploy.stderr).suffix(4000))")
        for (name, secret) in secrets {
            #expect(!deploy.stdout.contains(secret) && !deploy.stderr.contains(secret), "\(name) leaked into the output")
            #expect(!deploy.stdout.contains(Base64.encode(secret)), "\(name) leaked base64-encoded")
        }

        // One leader, and the other database node streaming from it.
        let database = Array(hosts.prefix(2))
        let members = try VaultLab.members(on: database, addresses: addresses)
        let leaders = members.filter { $0.role == "Leader" }
        try #require(leaders.count == 1 && members.count == 2, "\(members)")
        let leader = leaders[0].name
        let replica = try #require(database.first { $0 != leader })
        let replication = try VaultLab.ssh(
            try #require(addresses[leader]),
            "sudo -u postgres psql -p 5442 -Atc \"select application_name || ' ' || state from pg_stat_replication\"")
        #expect(replication.stdout.contains("\(replica) streaming"), "\(members) \(replication.stdout)\(replication.stderr)")

        // A write and a read through HAProxy's 5432 with the vaulted superuser password.
        let superuser = try #require(secrets["vault_pg_superuser_password"])
        let address = try #require(addresses[database[0]])
        let written = try VaultLab.sql(
            address: address, password: superuser,
            "create table if not exists vault_check (note text); insert into vault_check values ('vaulted'); select count(*) from vault_check where note = 'vaulted'")
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(written.stdout)")
        let recovery = try VaultLab.sql(address: address, password: superuser, "select pg_is_in_recovery()")
        #expect(recovery.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "f")
        // The committed lab password does not open it: the vaulted one is in force.
        let labPassword = try VaultLab.sql(address: address, password: "lab-only-Su7x9QmV2rT4kLp8", "select 1")
        #expect(labPassword.status != 0)
    }
}

enum VaultLab {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["PGHA_CLUSTER_TESTS"] == "1" || environment["PGHA_LAB_TESTS"] == "1" }
    static let hosts = (environment["PGHA_VAULT_LAB_HOSTS"] ?? "node16,node17,node18").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
    }
    static let labDirectory = environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"
    /// Extra arguments for site.yml, as the cluster tests take them (PGHA_CLUSTER_SITE_ARGS).
    static let extraArguments = (environment["PGHA_CLUSTER_SITE_ARGS"] ?? "").split(separator: " ").map(String.init)

    /// The names of the secrets in inventory/group_vars/all/secrets.yml, each with a fresh value.
    static func freshSecrets() -> [String: String] {
        let names = [
            "pg_superuser_password", "pg_replication_password", "pg_rewind_password", "patroni_restapi_password", "haproxy_stats_password",
            "postgres_exporter_password",
        ]
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var result: [String: String] = [:]
        for name in names {
            result["vault_" + name] = "vt-" + String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
        }
        return result
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String

        func require(_ what: String) throws {
            if status != 0 { throw PGHAError(.environment, "\(what) failed (\(status)): \(stderr)") }
        }
    }

    static func pgha(_ arguments: [String], in directory: String) throws -> Output {
        let out = try TestSupport.run(TestSupport.executable, arguments, in: directory, environment: ["NO_COLOR": "1"])
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// Addresses from `lab status`; a host that is not running with SSH up fails the test.
    static func addresses(of names: [String]) throws -> [String: String] {
        let status = try pgha(["lab", "status"], in: TestSupport.repositoryRoot)
        try status.require("lab status (is the lab up? pgha-play lab up --hosts 20)")
        var result: [String: String] = [:]
        for line in status.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 4, names.contains(fields[0]) else { continue }
            guard fields[2] == "running" else { throw PGHAError(.environment, "lab host \(fields[0]) is \(fields[2])") }
            result[fields[0]] = fields[1]
        }
        let missing = names.filter { result[$0] == nil }
        if !missing.isEmpty { throw PGHAError(.environment, "lab hosts not found: \(missing) (pgha-play lab up --hosts 20)") }
        return result
    }

    /// hosts.ini in inventory/lab.ini's shape, main.yml from the lab's with the secrets referenced
    /// as `vault_` variables, and vault.yml holding them, encrypted by `pgha-play vault encrypt`.
    static func writeInventory(in scratch: VaultScratch, hosts: [String], addresses: [String: String], secrets: [String: String]) throws {
        let line = { (host: String) in "\(host) ansible_host=\(addresses[host] ?? host)" }
        try scratch.write(
            "hosts.ini",
            "[postgres]\n\(line(hosts[0]))\n\(line(hosts[1]))\n\n[witness]\n\(line(hosts[2]))\n\n[etcd:children]\npostgres\nwitness\n\n"
                + TestSupport.labInventoryVars(stateDirectory: labDirectory))
        var main = try String(contentsOfFile: TestSupport.repositoryRoot + "/inventory/group_vars/all/main.yml", encoding: .utf8)
        main += "\n# Secrets: defined encrypted in vault.yml, referenced here by name.\n"
        for name in secrets.keys.sorted() {
            main += "\(name.dropFirst("vault_".count)): \"{{ \(name) }}\"\n"
        }
        // The cluster CA's key (the lab's CA, whose certificate main.yml reads) is vaulted too.
        main += "pgha_tls_ca_private_key: \"{{ vault_pgha_tls_ca_private_key }}\"\n"
        try scratch.write("group_vars/all/main.yml", main)
        let caKey = try String(contentsOfFile: labDirectory + "/ca.key", encoding: .utf8)
        let caKeyYAML = "vault_pgha_tls_ca_private_key: |\n" + caKey.split(separator: "\n").map { "  \($0)\n" }.joined()
        try scratch.write(
            "group_vars/all/vault.yml",
            secrets.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"\n" }.joined() + caKeyYAML)
        try scratch.write(".vault-pass", "vault-lab-" + UUID().uuidString + "\n", mode: 0o600)
        let encrypt = try pgha(["vault", "encrypt", "--vault-password-file", ".vault-pass", "group_vars/all/vault.yml"], in: scratch.path)
        try encrypt.require("vault encrypt")
    }

    @discardableResult
    static func ssh(_ address: String, _ command: String, stdin: String? = nil) throws -> Output {
        var arguments = [
            "-i", labDirectory + "/id_ed25519", "-o", "UserKnownHostsFile=\(labDirectory)/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "deploy@\(address)", command,
        ]
        if stdin != nil { arguments.insert("-T", at: 0) }
        let out = try TestSupport.run("/usr/bin/ssh", arguments, stdin: stdin)
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    struct Member: CustomStringConvertible {
        var name: String
        var role: String
        var state: String
        var description: String { "\(name) \(role) \(state)" }
    }

    /// `patronictl list`, waiting up to a minute for a leader and a running replica.
    static func members(on nodes: [String], addresses: [String: String]) throws -> [Member] {
        let deadline = Date().addingTimeInterval(60)
        var last: [Member] = []
        repeat {
            for node in nodes {
                guard let address = addresses[node],
                    let out = try? ssh(address, "sudo patronictl -c /etc/patroni/config.yml list -f json"), out.status == 0,
                    case .list(let rows)? = try? JSON.decode(out.stdout)
                else { continue }
                last = rows.map {
                    Member(name: $0["Member"]?.stringValue ?? "?", role: $0["Role"]?.stringValue ?? "?", state: $0["State"]?.stringValue ?? "?")
                }
                break
            }
            if last.count == 2 && last.contains(where: { $0.role == "Leader" })
                && last.allSatisfy({ $0.state == "running" || $0.state == "streaming" })
            {
                return last
            }
            Thread.sleep(forTimeInterval: 3)
        } while Date() < deadline
        return last
    }

    /// One psql command on the host at `address`, through its HAProxy 5432, the password on stdin.
    static func sql(address: String, password: String, _ query: String) throws -> Output {
        let script = """
            export PGPASSWORD='\(password)'
            exec psql "host=\(address) port=5432 user=postgres dbname=postgres connect_timeout=5" -qAtc "\(query)"
            """
        return try ssh(address, "bash -s", stdin: script)
    }
}
