import ClusterCA
import Engine
import Foundation
import Inventory
import PGHACore
import Testing
import Vault

@testable import ProjectSetup

/// `pgha-play init`: each refusal (with nothing written), and what it writes.
@Suite struct InitTests {
    /// A scratch parent directory; the inventory goes to `directory` inside it.
    final class Scratch {
        let parent: String
        var directory: String { parent + "/cluster" }

        init() throws {
            parent = NSTemporaryDirectory() + "pgha-init-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: parent) }

        /// Everything under the parent directory, relative to it.
        var tree: [String] {
            (FileManager.default.enumerator(atPath: parent)?.allObjects as? [String] ?? []).sorted()
        }

        func read(_ relative: String) throws -> String {
            try String(contentsOfFile: directory + "/" + relative, encoding: .utf8)
        }

        func mode(_ relative: String) throws -> Int {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + relative)
            return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
    }

    static func request(_ scratch: Scratch) -> InitRequest {
        var request = InitRequest(directory: scratch.directory)
        request.postgres = [ClusterHost(name: "db1", address: "10.77.0.31"), ClusterHost(name: "db2", address: "10.77.0.32")]
        request.witnesses = [ClusterHost(name: "wit", address: "10.77.0.33")]
        request.user = "deploy"
        request.privateKey = "/var/lib/pgha-play/lab/id_ed25519"
        return request
    }

    /// The lab controller's address on the lab bridge.
    static func labController(_ host: String) -> IPAddress? { IPAddress("10.77.0.1") }

    /// Plans and writes; the refusal's error when there is one (and then nothing may be written).
    static func refusal(_ request: InitRequest, in scratch: Scratch, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> PGHAError? {
        let before = scratch.tree
        defer { #expect(scratch.tree == before, "a refused init wrote something", sourceLocation: sourceLocation) }
        do {
            try ProjectInitializer.write(try ProjectInitializer.plan(request, localAddress: labController))
            Issue.record("init was expected to refuse", sourceLocation: sourceLocation)
            return nil
        } catch let error as PGHAError {
            #expect(error.kind == .usage, sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Refusals

    @Test func refusesANonEmptyDirectory() throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.directory, withIntermediateDirectories: true)
        try "mine\n".write(toFile: scratch.directory + "/notes.txt", atomically: true, encoding: .utf8)
        let error = try #require(Self.refusal(Self.request(scratch), in: scratch))
        #expect(error.message.contains("is not empty (notes.txt)"), "\(error)")
        #expect(try scratch.read("notes.txt") == "mine\n")
        // A hidden file counts too.
        try FileManager.default.removeItem(atPath: scratch.directory + "/notes.txt")
        try "x".write(toFile: scratch.directory + "/.hidden", atomically: true, encoding: .utf8)
        #expect(Self.refusal(Self.request(scratch), in: scratch)?.message.contains("is not empty") == true)
        // So does a plain file where the directory should be.
        let file = scratch.parent + "/a-file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        var onFile = Self.request(scratch)
        onFile.directory = file
        #expect(Self.refusal(onFile, in: scratch)?.message.contains("is not a directory") == true)
    }

    @Test func refusesFewerThanTwoDatabaseNodes() throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.postgres = [ClusterHost(name: "db1", address: "10.77.0.31")]
        let error = try #require(Self.refusal(request, in: scratch))
        #expect(error.message == "--postgres names 1 database node; a cluster needs at least 2")
        request.postgres = []
        #expect(Self.refusal(request, in: scratch)?.message.contains("names 0 database nodes") == true)
    }

    @Test func refusesAMissingWitnessUnlessTwoMembersAreAllowed() throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.witnesses = []
        let error = try #require(Self.refusal(request, in: scratch))
        #expect(error.message.contains("no --witness"))
        #expect(error.hint?.contains("--allow-two-member-etcd") == true)

        request.allowTwoMemberEtcd = true
        let plan = try ProjectInitializer.plan(request, localAddress: Self.labController)
        #expect(plan.warnings.count == 1)
        #expect(plan.warnings.first?.contains("CANNOT fail over") == true)
        try ProjectInitializer.write(plan)
        #expect(try scratch.read("group_vars/all/main.yml").contains("\npgha_allow_two_member_etcd: true\n"))
        #expect(try scratch.read("hosts.ini").contains("[witness]\n\n[etcd:children]"))
    }

    @Test func refusesAnEvenEtcdMembership() throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.witnesses.append(ClusterHost(name: "wit2", address: "10.77.0.34"))
        #expect(Self.refusal(request, in: scratch)?.message.contains("etcd would have 4 members") == true)
    }

    @Test func refusesDuplicateNamesAndAddresses() throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.postgres[1].name = "db1"
        #expect(Self.refusal(request, in: scratch)?.message.contains("the host name db1 is given twice") == true)

        request = Self.request(scratch)
        request.witnesses[0].name = "DB2"
        #expect(Self.refusal(request, in: scratch)?.message.contains("the host name DB2 is given twice") == true)

        request = Self.request(scratch)
        request.witnesses[0].address = "10.77.0.31"
        #expect(Self.refusal(request, in: scratch)?.message == "db1 and wit have the same address 10.77.0.31: each host needs its own")

        // The same IPv6 address written two ways, and a name in two cases.
        request = Self.request(scratch)
        request.postgres = [ClusterHost(name: "db1", address: "fd00::1"), ClusterHost(name: "db2", address: "fd00:0::1")]
        request.witnesses = [ClusterHost(name: "wit", address: "fd00::3")]
        #expect(Self.refusal(request, in: scratch)?.message.contains("have the same address") == true)
        request.postgres = [ClusterHost(name: "db1", address: "db.example.com"), ClusterHost(name: "db2", address: "DB.example.com")]
        #expect(Self.refusal(request, in: scratch)?.message.contains("have the same address") == true)
    }

    @Test(arguments: [
        ("--admin-network", "10.0.0.0/33", "the prefix length must be a number from 0 to 32"),
        ("--admin-network", "10.0.0.1/24", "has bits set after the /24 prefix"),
        ("--client-network", "somewhere", "not a network in CIDR notation"),
        ("--client-network", "10.0.0.0/", "the prefix length must be a number"),
        ("--cluster-network", "10.0.0/24", "not a network in CIDR notation"),
        ("--cluster-network", "fd00::/129", "from 0 to 128"),
    ])
    func refusesABadCIDR(option: String, network: String, message: String) throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        switch option {
        case "--admin-network": request.adminNetworks = ["10.77.0.1/32", network]
        case "--client-network": request.clientNetworks = [network]
        default: request.clusterNetwork = network
        }
        let error = try #require(Self.refusal(request, in: scratch))
        #expect(error.message.hasPrefix("\(option) \(network): "), "\(error)")
        #expect(error.message.contains(message), "\(error)")
        if network == "10.0.0.1/24" { #expect(error.hint == "did you mean 10.0.0.0/24?") }
    }

    @Test func refusesMalformedHostLists() throws {
        #expect(throws: PGHAError.self) { try ClusterHost.parseList("db1=10.0.0.1,db2", option: "--postgres") }
        #expect(throws: PGHAError.self) { try ClusterHost.parseList("db 1=10.0.0.1", option: "--postgres") }
        #expect(throws: PGHAError.self) { try ClusterHost.parseList("db1=10.0.0.1 x", option: "--postgres") }
        #expect(throws: PGHAError.self) { try ClusterHost.parseList("=10.0.0.1", option: "--witness") }
        #expect(try ClusterHost.parseList("db1=10.0.0.1, db2 = db2.example.com", option: "--postgres")
            == [ClusterHost(name: "db1", address: "10.0.0.1"), ClusterHost(name: "db2", address: "db2.example.com")])
    }

    @Test func needsTheClusterNetworkForNamedHosts() throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.postgres = [ClusterHost(name: "db1", address: "db1.example.com"), ClusterHost(name: "db2", address: "10.0.0.2")]
        #expect(Self.refusal(request, in: scratch)?.hint == "give --cluster-network CIDR (the network they replicate over)")
        request.clusterNetwork = "10.0.0.0/24"
        _ = try ProjectInitializer.plan(request, localAddress: Self.labController)
    }

    // MARK: What it writes

    @Test func writesAReadyInventory() throws {
        let scratch = try Scratch()
        try ProjectInitializer.write(try ProjectInitializer.plan(Self.request(scratch), localAddress: Self.labController))
        #expect(scratch.tree == [
            "cluster", "cluster/.gitignore", "cluster/.vault-pass", "cluster/group_vars", "cluster/group_vars/all",
            "cluster/group_vars/all/main.yml", "cluster/group_vars/all/vault.yml", "cluster/hosts.ini", "cluster/pgha-play.yml",
        ])
        #expect(try scratch.mode(".vault-pass") == 0o600)
        #expect(try scratch.mode("group_vars/all/vault.yml") == 0o600)
        #expect(try scratch.mode("hosts.ini") == 0o644)

        // The inventory with its group_vars, the vault opened by the written password: the groups,
        // the hosts and how to reach them.
        let password = try scratch.read(".vault-pass").trimmingCharacters(in: .newlines)
        #expect(password.count == 48)
        let vault = VaultContext(secrets: VaultSecrets([VaultSecret(password: password)]), redactor: nil)
        let inventory = try Inventory.load(sources: [scratch.directory + "/hosts.ini"], vault: vault)
        #expect(inventory.hosts(inGroup: "postgres") == ["db1", "db2"])
        #expect(inventory.hosts(inGroup: "witness") == ["wit"])
        #expect(inventory.hosts(inGroup: "etcd") == ["db1", "db2", "wit"])
        let hostVars = try inventory.hostVars(for: "db2")
        #expect(hostVars["ansible_host"] == "10.77.0.32")
        #expect(hostVars["ansible_user"] == "deploy")
        #expect(hostVars["ansible_ssh_private_key_file"] == "/var/lib/pgha-play/lab/id_ed25519")
        #expect(hostVars["pg_superuser_password"] == "{{ vault_pg_superuser_password }}")
        #expect(hostVars["vault_pg_superuser_password"]?.stringValue?.count == 40)

        // The settings: every one commented, the networks derived, each secret named from the vault.
        let main = try scratch.read("group_vars/all/main.yml")
        let settings = try #require(YAMLLoader.load(main, file: "main.yml")?.value.dictValue)
        #expect(settings["pgha_cluster_network"] == "10.77.0.0/24")
        #expect(settings["pgha_admin_networks"] == ["10.77.0.1/32"])
        #expect(settings["pgha_client_networks"] == ["10.77.0.0/24"])
        #expect(settings["pgha_allow_two_member_etcd"] == false)
        for secret in InitSecrets.all {
            #expect(settings[secret.name] == .string("{{ \(secret.vaultName) }}"))
        }
        // Every variable a built-in role needs from the inventory is set.
        for role in try BuiltinCatalog.roles() {
            for variable in role.requiredVariables { #expect(settings[variable] != nil, "\(role.name) needs \(variable)") }
        }
        let lines = main.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.hasPrefix("#") && !line.hasPrefix(" ") && line.contains(":") && line != "---" {
            #expect(index > 0 && lines[index - 1].hasPrefix("#"), "\(line) has no comment")
        }

        // The secrets: encrypted, opened by the written password, fresh, long, all different.
        let vaulted = try scratch.read("group_vars/all/vault.yml")
        #expect(vaulted.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        let plain = try Vault.decryptText(vaulted, secrets: VaultSecrets([VaultSecret(password: password)]))
        let secrets = try #require(YAMLLoader.load(plain, file: "vault.yml")?.value.dictValue)
        #expect(secrets.keys.sorted() == InitSecrets.all.map(\.vaultName).sorted())
        let values = secrets.values.compactMap(\.stringValue)
        #expect(values.count == InitSecrets.all.count)
        #expect(Set(values).count == values.count)
        #expect(values.allSatisfy { $0.count >= 32 })
        #expect(!values.contains(where: vaulted.contains) && !values.contains(where: main.contains))

        // The cluster CA: the certificate in main.yml, its key in the vault, a pair the tls role can sign with.
        let caCertificate = try #require(settings["pgha_tls_ca_cert"]?.stringValue)
        let caKey = try #require(secrets["vault_pgha_tls_ca_private_key"]?.stringValue)
        #expect(caCertificate.hasPrefix("-----BEGIN CERTIFICATE-----\n") && caCertificate.hasSuffix("-----END CERTIFICATE-----\n"))
        let authority = try CertificateAuthority(certificatePEM: caCertificate, privateKeyPEM: caKey)
        #expect(try CertificateInfo(pem: authority.certificatePEM).notAfter > Date().addingTimeInterval(9 * 365 * 86_400))

        // pgha-play.yml: the inventory and the password file, read as pgha-play reads it.
        let project = try ProjectConfiguration.load(scratch.directory + "/pgha-play.yml")
        #expect(project.defaultInventory == scratch.directory + "/hosts.ini")
        #expect(project.vaultPasswordFile == scratch.directory + "/.vault-pass")
        #expect(project.roleSearchPaths == [scratch.directory + "/roles", ContentSource.builtinRoles])
        #expect(InitFiles.projectFile == ProjectConfiguration.fileName)
        #expect(try scratch.read(".gitignore").contains("\n.vault-pass\n"))
    }

    @Test func eachInitGeneratesNewSecrets() throws {
        let first = try Scratch()
        let second = try Scratch()
        let plans = try [first, second].map { try ProjectInitializer.plan(Self.request($0), localAddress: Self.labController) }
        let passwords = plans.map { $0.files.first { $0.path == ".vault-pass" }?.contents }
        #expect(passwords[0] != nil && passwords[0] != passwords[1])
        #expect(Set((0..<100).map { _ in InitSecrets.password() }).count == 100)
    }

    @Test func askedPasswordIsUsedAndNotStored() throws {
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.vaultPassword = Array("typed at the prompt".utf8)
        try ProjectInitializer.write(try ProjectInitializer.plan(request, localAddress: Self.labController))
        #expect(!FileManager.default.fileExists(atPath: scratch.directory + "/.vault-pass"))
        let project = try scratch.read("pgha-play.yml")
        #expect(!project.contains("vault_password_file:"))
        #expect(project.contains("-J (--ask-vault-pass)"))
        let vaulted = try scratch.read("group_vars/all/vault.yml")
        _ = try Vault.decryptText(vaulted, secrets: VaultSecrets([VaultSecret(password: "typed at the prompt")]))
    }

    @Test func theDefaultAdminNetworkIsThisMachinesAddress() throws {
        #expect(LocalAddress.toward("127.0.0.1") == IPAddress("127.0.0.1"))
        let scratch = try Scratch()
        var request = Self.request(scratch)
        request.postgres = [ClusterHost(name: "db1", address: "127.0.0.1"), ClusterHost(name: "db2", address: "127.0.0.2")]
        let plan = try ProjectInitializer.plan(request)
        let main = String(decoding: try #require(plan.files.first { $0.path == "group_vars/all/main.yml" }).contents, as: UTF8.self)
        #expect(main.contains("pgha_admin_networks:\n  - 127.0.0.1/32\n"))
        #expect(main.contains("pgha_cluster_network: 127.0.0.0/24\n"))
        // When this machine's address cannot be found, init asks for the network instead of guessing.
        let unknown = try Scratch()
        #expect(throws: PGHAError.self) { try ProjectInitializer.plan(Self.request(unknown), localAddress: { _ in nil }) }
    }

    // MARK: Pieces

    @Test func clusterNetworkCoversTheDatabaseNodes() throws {
        func covering(_ addresses: [String]) -> String? {
            CIDRNetwork.covering(addresses.compactMap { IPAddress($0) })?.description
        }
        #expect(covering(["10.77.0.31", "10.77.0.32"]) == "10.77.0.0/24")
        #expect(covering(["10.0.1.5", "10.0.2.5"]) == "10.0.0.0/22")
        #expect(covering(["10.1.0.1", "10.1.255.1"]) == "10.1.0.0/16")
        #expect(covering(["192.168.1.10", "10.0.0.1"]) == nil)
        #expect(covering(["fd00::1", "fd00::2"]) == "fd00::/64")
        #expect(covering(["fd00::1", "10.0.0.1"]) == nil)
        #expect(try CIDRNetwork.parse("10.0.0.7", option: "--admin-network").description == "10.0.0.7/32")
        #expect(try CIDRNetwork.parse("fd00::/64", option: "--admin-network").description == "fd00::/64")
    }

    /// The preflight role refuses secrets holding a placeholder word; generated ones never can.
    @Test func passwordsCannotSpellAPlaceholder() throws {
        let defaults = try #require(ContentSource.contents("builtin:roles/preflight/defaults/main.yml"))
        let patterns = try #require(
            YAMLLoader.load(String(decoding: defaults, as: UTF8.self), file: "defaults")?.value["preflight_placeholder_patterns"]?.listValue)
        #expect(patterns.count >= 5)
        let alphabet = Set(InitSecrets.passwordAlphabet.map { $0.lowercased() }.joined())
        for pattern in patterns.compactMap(\.stringValue) {
            #expect(pattern.lowercased().contains { !alphabet.contains($0) }, "\(pattern) could be spelled")
        }
        let minimum = try #require(
            YAMLLoader.load(String(decoding: defaults, as: UTF8.self), file: "defaults")?.value["preflight_secret_min_length"]?.intValue)
        #expect(InitSecrets.password().count >= max(32, minimum))
    }
}
