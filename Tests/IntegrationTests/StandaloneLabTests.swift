import Foundation
import PGHACore
import Testing

/// Issue 11's "done when": the release binary alone, in a fresh empty directory, with an inventory
/// made by `init` for three fresh lab hosts (the lab's user and key): site.yml deploys the cluster,
/// a rerun reports changed=0, switchover.yml runs, and a user's roles/haproxy (from `roles
/// export`, with a marker comment in its template) is the one deployed. It is also issue 10's
/// cluster deployed from an inventory whose secrets are all vaulted: `init` generates and vaults
/// every one (the cluster CA's key among them), none is on disk in clear or in the output (plain or
/// base64), the replica streams, and the lab's committed superuser password does not open it.
///
/// Hosts: PGHA_STANDALONE_LAB_HOSTS (default "node20,node21,node22": two database nodes, then the
/// witness), reset first. The binary: PGHA_RELEASE_BINARY, else scripts/build-release builds it.
/// HOME is a scratch directory whose ~/.ssh/known_hosts is the lab's (as for a user who has
/// SSHed to the hosts before). Enabled by PGHA_CLUSTER_TESTS=1 or PGHA_LAB_TESTS=1; under CI=true a
/// missing lab is a failure, not a skip.
@Suite(.serialized, .enabled(if: StandaloneLab.enabled || TestSupport.inCI, "needs the lab: PGHA_CLUSTER_TESTS=1 or PGHA_LAB_TESTS=1"))
struct StandaloneLabTests {
    @Test func releaseBinaryAloneDeploysFromAnInitDirectory() throws {
        guard StandaloneLab.enabled else {
            Issue.record("the standalone lab test is required under CI: set PGHA_LAB_TESTS=1 with the lab up")
            return
        }
        let hosts = StandaloneLab.hosts
        try #require(hosts.count == 3, "PGHA_STANDALONE_LAB_HOSTS needs three hosts (two database nodes, a witness): \(hosts)")
        let addresses = try VaultLab.addresses(of: hosts)
        let binary = try StandaloneLab.releaseBinary()
        try StandaloneLab.requireNoSwiftRuntime(binary)
        try VaultLab.pgha(["lab", "reset"] + hosts, in: TestSupport.repositoryRoot).require("lab reset")

        let alone = try StandaloneTests.Alone(binary: binary)
        let home = alone.path + "/home"
        try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: VaultLab.labDirectory + "/known_hosts", toPath: home + "/.ssh/known_hosts")
        func pgha(_ arguments: [String], in directory: String) throws -> TestSupport.Output {
            try TestSupport.run(alone.binary, arguments, in: directory, environment: ["NO_COLOR": "1", "HOME": home])
        }

        let made = try pgha(
            [
                "init", "cluster", "--postgres", "\(hosts[0])=\(addresses[hosts[0]] ?? ""),\(hosts[1])=\(addresses[hosts[1]] ?? "")",
                "--witness", "\(hosts[2])=\(addresses[hosts[2]] ?? "")", "--user", "deploy",
                "--private-key", VaultLab.labDirectory + "/id_ed25519",
            ], in: alone.work)
        try #require(made.status == 0, "init failed: \(made.stderr)")
        let cluster = alone.work + "/cluster"
        let secrets = try StandaloneLab.secrets(in: cluster, pgha: pgha)
        try #require(secrets.count == 7)
        // Every secret, the cluster CA's key among them, is vaulted: none of them is on disk in clear.
        let vaultFile = try String(contentsOfFile: cluster + "/group_vars/all/vault.yml", encoding: .utf8)
        #expect(vaultFile.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        let inventoryText = try FileManager.default.subpathsOfDirectory(atPath: cluster).compactMap {
            try? String(contentsOfFile: cluster + "/" + $0, encoding: .utf8)
        }.joined(separator: "\n")
        for (name, secret) in secrets {
            #expect(!inventoryText.contains(secret), "\(name) is in the inventory in clear")
        }

        // The user's haproxy: the built-in one exported, with a marker in its template.
        let exported = try pgha(["roles", "export", "haproxy"], in: cluster)
        try #require(exported.status == 0, "\(exported.stderr)")
        let marker = "# standalone lab test: the user's haproxy role " + UUID().uuidString
        let template = cluster + "/roles/haproxy/templates/haproxy.cfg.j2"
        try (try String(contentsOfFile: template, encoding: .utf8) + marker + "\n").write(toFile: template, atomically: true, encoding: .utf8)

        var started = Date()
        let deploy = try pgha(["site.yml"] + VaultLab.extraArguments, in: cluster)
        print(String(format: "standalone lab: site.yml deployed in %.0f s", Date().timeIntervalSince(started)))
        try #require(deploy.status == 0, "site.yml failed:\n\((deploy.stdout + deploy.stderr).suffix(4000))")
        #expect(deploy.stdout.contains("PLAY [Pre-flight checks]"))
        for (name, secret) in secrets {
            let base64 = Base64.encode(secret)
            #expect(!deploy.stdout.contains(secret) && !deploy.stderr.contains(secret), "\(name) leaked into the output")
            #expect(!deploy.stdout.contains(base64) && !deploy.stderr.contains(base64), "\(name) leaked base64-encoded")
        }
        for host in hosts.prefix(2) {
            let config = try VaultLab.ssh(try #require(addresses[host]), "sudo cat /etc/haproxy/haproxy.cfg")
            #expect(config.stdout.contains(marker), "\(host): the deployed haproxy.cfg is not the user's template")
        }

        // One leader and a streaming replica, reached with the generated superuser password.
        let database = Array(hosts.prefix(2))
        let members = try VaultLab.members(on: database, addresses: addresses)
        let leader = try #require(members.first { $0.role == "Leader" }?.name, "\(members)")
        let replica = try #require(database.first { $0 != leader })
        let replication = try VaultLab.ssh(
            try #require(addresses[leader]),
            "sudo -u postgres psql -p 5442 -Atc \"select application_name || ' ' || state from pg_stat_replication\"")
        #expect(replication.stdout.contains("\(replica) streaming"), "\(members) \(replication.stdout)\(replication.stderr)")
        let superuser = try #require(secrets["vault_pg_superuser_password"])
        let written = try VaultLab.sql(
            address: try #require(addresses[replica]), password: superuser,
            "create table standalone_check (note text); insert into standalone_check values ('alone'); select count(*) from standalone_check")
        #expect(written.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(written.stdout)\(written.stderr)")
        // The committed lab password does not open it: the vaulted, generated one is in force.
        let labPassword = try VaultLab.sql(address: try #require(addresses[replica]), password: "lab-only-Su7x9QmV2rT4kLp8", "select 1")
        #expect(labPassword.status != 0, "the lab's committed superuser password opened a cluster made by init")

        started = Date()
        let rerun = try pgha(["site.yml"] + VaultLab.extraArguments, in: cluster)
        print(String(format: "standalone lab: rerun in %.0f s", Date().timeIntervalSince(started)))
        try #require(rerun.status == 0, "rerun failed:\n\((rerun.stdout + rerun.stderr).suffix(4000))")
        let recap = StandaloneLab.changedCounts(rerun.stdout)
        #expect(recap.keys.sorted() == hosts.sorted(), "\(rerun.stdout.suffix(800))")
        #expect(recap.values.allSatisfy { $0 == 0 }, "a rerun changed something: \(recap)\n\(rerun.stdout.suffix(3000))")

        let switchover = try pgha(["switchover.yml", "-e", "candidate=\(replica)"], in: cluster)
        try #require(switchover.status == 0, "switchover.yml failed:\n\((switchover.stdout + switchover.stderr).suffix(4000))")
        let after = try VaultLab.members(on: database, addresses: addresses)
        #expect(after.contains { $0.name == replica && $0.role == "Leader" }, "\(after)")
    }
}

/// Issue 11: the .deb installs with `dpkg -i` on a fresh lab host (its Depends installed from the
/// host's offline apt repository first) and `pgha-play --version` runs there, with the built-in
/// roles. Host: PGHA_DEB_LAB_HOST (default node23), reset first; the package: PGHA_DEB_PACKAGE,
/// else scripts/package-deb builds it. Enabled like StandaloneLabTests.
@Suite(.serialized, .enabled(if: StandaloneLab.enabled || TestSupport.inCI, "needs the lab: PGHA_CLUSTER_TESTS=1 or PGHA_LAB_TESTS=1"))
struct DebPackageLabTests {
    @Test func theDebInstallsAndRunsOnAFreshHost() throws {
        guard StandaloneLab.enabled else {
            Issue.record("the .deb lab test is required under CI: set PGHA_LAB_TESTS=1 with the lab up")
            return
        }
        let host = StandaloneLab.environment["PGHA_DEB_LAB_HOST"] ?? "node23"
        let address = try #require(try VaultLab.addresses(of: [host])[host])
        let deb = try StandaloneLab.debPackage()
        let fields = try TestSupport.run("/usr/bin/dpkg-deb", ["-f", deb, "Package", "Version", "Depends"])
        try #require(fields.status == 0, "\(fields.stderr)")
        let depends = fields.stdout.split(separator: "\n").first { $0.hasPrefix("Depends: ") }.map { String($0.dropFirst(9)) } ?? ""
        #expect(depends.contains("libssh2-1"), "Depends: \(depends)")
        #expect(!depends.lowercased().contains("swift"))
        // "libc6 (>= 2.34), libssh2-1 (>= 1.7.0)" -> the package names.
        let packages = depends.split(separator: ",").compactMap { $0.split(separator: "|").first?.split(separator: " ").first.map(String.init) }
        try VaultLab.pgha(["lab", "reset", host], in: TestSupport.repositoryRoot).require("lab reset")

        let lab = VaultLab.labDirectory
        let copy = try TestSupport.run(
            "/usr/bin/scp",
            ["-i", lab + "/id_ed25519", "-o", "UserKnownHostsFile=\(lab)/known_hosts", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
             deb, "deploy@\(address):/tmp/pgha-play.deb"])
        try #require(copy.status == 0, "scp: \(copy.stderr)")
        #expect(try VaultLab.ssh(address, "command -v pgha-play").status != 0, "pgha-play is on the fresh host already")

        let dependencies = try VaultLab.ssh(address, "sudo apt-get install -y --no-install-recommends " + packages.joined(separator: " "))
        try #require(dependencies.status == 0, "the Depends are not installable from the host's repository: \(dependencies.stdout)\(dependencies.stderr)")
        let install = try VaultLab.ssh(address, "sudo dpkg -i /tmp/pgha-play.deb")
        try #require(install.status == 0, "dpkg -i failed: \(install.stdout)\(install.stderr)")
        #expect(try VaultLab.ssh(address, "dpkg -s pgha-play").stdout.contains("Status: install ok installed"))

        let version = try VaultLab.ssh(address, "pgha-play --version")
        #expect(version.status == 0, "\(version.stderr)")
        let expected = fields.stdout.split(separator: "\n").first { $0.hasPrefix("Version: ") }.map { "pgha-play " + $0.dropFirst(9) + " (commit " }
        #expect(version.stdout.hasPrefix(try #require(expected)), "\(version.stdout)")
        let roles = try VaultLab.ssh(address, "cd /tmp && pgha-play roles list")
        #expect(roles.status == 0 && roles.stdout.contains("\npatroni "), "\(roles.stdout)\(roles.stderr)")
        let linked = try VaultLab.ssh(address, "ldd /usr/bin/pgha-play")
        #expect(!linked.stdout.contains("not found"), "\(linked.stdout)")
    }
}

enum StandaloneLab {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { VaultLab.enabled }
    static let hosts = (environment["PGHA_STANDALONE_LAB_HOSTS"] ?? "node20,node21,node22").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
    }

    /// PGHA_RELEASE_BINARY, or the release binary scripts/build-release builds (incrementally).
    static func releaseBinary() throws -> String {
        if let given = environment["PGHA_RELEASE_BINARY"] {
            guard FileManager.default.isExecutableFile(atPath: given) else {
                throw PGHAError(.environment, "PGHA_RELEASE_BINARY=\(given) is not an executable")
            }
            return given
        }
        return try lastLine(of: "scripts/build-release")
    }

    /// PGHA_DEB_PACKAGE, or the package scripts/package-deb builds.
    static func debPackage() throws -> String {
        if let given = environment["PGHA_DEB_PACKAGE"] { return given }
        return try lastLine(of: "scripts/package-deb")
    }

    private static func lastLine(of script: String) throws -> String {
        let built = try TestSupport.run("/bin/bash", [TestSupport.repositoryRoot + "/" + script], in: TestSupport.repositoryRoot)
        guard built.status == 0, let path = built.stdout.split(separator: "\n").last.map(String.init) else {
            throw PGHAError(.environment, "\(script) failed: \(built.stderr.suffix(2000))")
        }
        return path
    }

    /// The binary links no Swift runtime library (they are not on a user's machine).
    static func requireNoSwiftRuntime(_ binary: String) throws {
        let linked = try TestSupport.run("/usr/bin/ldd", [binary])
        if linked.stdout.contains("libswiftCore") || linked.stdout.contains("/opt/swift") || linked.stdout.contains("not found") {
            throw PGHAError(.environment, "\(binary) links the Swift runtime:\n\(linked.stdout)")
        }
    }

    /// The generated secrets, as `pgha-play vault view` shows them in the init directory.
    static func secrets(in cluster: String, pgha: (_ arguments: [String], _ directory: String) throws -> TestSupport.Output) throws -> [String: String] {
        let view = try pgha(["vault", "view", "group_vars/all/vault.yml"], cluster)
        guard view.status == 0, let values = try YAMLLoader.load(view.stdout, file: "vault.yml")?.value.dictValue else {
            throw PGHAError(.environment, "vault view failed: \(view.stderr)")
        }
        return values.reduce(into: [:]) { result, entry in result[entry.key] = entry.value.stringValue }
    }

    /// `changed=N` of each host in a human recap.
    static func changedCounts(_ output: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[1] == ":", fields[2].hasPrefix("ok="), fields[3].hasPrefix("changed=") else { continue }
            counts[String(fields[0])] = Int(fields[3].dropFirst("changed=".count))
        }
        return counts
    }
}
