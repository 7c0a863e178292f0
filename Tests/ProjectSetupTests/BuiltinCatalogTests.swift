import Foundation
import PGHACore
import Testing

@testable import ProjectSetup

/// `pgha-play roles list|export` and `pgha-play playbooks list`, from the built-in files.
@Suite struct BuiltinCatalogTests {
    @Test func rolesAreListedWithTheVariablesToSet() throws {
        let roles = try BuiltinCatalog.roles()
        #expect(roles.map(\.name) == [
            "backup", "cis-hardening", "common", "etcd", "haproxy", "monitoring", "patroni", "postgresql", "preflight", "tls", "ufw",
        ])
        #expect(roles.allSatisfy { !$0.description.isEmpty && $0.path == "builtin:roles/" + $0.name })
        let byName = Dictionary(uniqueKeysWithValues: roles.map { ($0.name, $0) })
        #expect(byName["haproxy"]?.description == "HAProxy on every database node, routing 5432 to the leader and 5433 to replicas.")
        #expect(byName["haproxy"]?.requiredVariables == ["haproxy_stats_password", "pgha_address", "pgha_admin_networks", "pgha_client_networks"])
        #expect(byName["patroni"]?.requiredVariables == [
            "patroni_restapi_password", "pg_replication_password", "pg_rewind_password", "pg_superuser_password", "pgha_address",
            "pgha_cluster_network",
        ])
        #expect(byName["backup"]?.requiredVariables == [])
        #expect(byName["tls"]?.requiredVariables == ["pgha_tls_ca_cert", "pgha_tls_ca_private_key"])
        #expect(byName["monitoring"]?.requiredVariables == ["postgres_exporter_password"])
        // Every secret init generates is one a role asks for, and every secret a role asks for is generated.
        let secretsAskedFor = Set(roles.flatMap(\.requiredVariables).filter { $0.hasSuffix("_password") || $0.hasSuffix("_private_key") })
        #expect(secretsAskedFor == Set(InitSecrets.all.map(\.name)))
    }

    @Test func aRoleIsDescribedFromItsOwnDirectoryToo() throws {
        let directory = NSTemporaryDirectory() + "role-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/meta", withIntermediateDirectories: true)
        try """
            argument_specs:
              main:
                short_description: Mine
                options:
                  needed: {type: str, required: true}
                  optional: {type: str}
            """.write(toFile: directory + "/meta/main.yml", atomically: true, encoding: .utf8)
        let role = try BuiltinCatalog.role(at: directory, name: "mine")
        #expect(role.description == "Mine")
        #expect(role.requiredVariables == ["needed"])
    }

    @Test func exportWritesTheBuiltInRoleUnchanged() throws {
        let directory = NSTemporaryDirectory() + "export-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try BuiltinCatalog.exportRole("haproxy", into: directory + "/roles")
        #expect(written.path == directory + "/roles/haproxy")
        let builtin = try #require(ContentSource.descendants(of: "builtin:roles/haproxy")).filter { !$0.isDirectory }
        #expect(written.files == builtin.count && written.files >= 5)
        for file in builtin {
            let exported = FileManager.default.contents(atPath: written.path + "/" + file.relative).map { [UInt8]($0) }
            #expect(exported == ContentSource.contents("builtin:roles/haproxy/" + file.relative), "\(file.relative)")
        }
        // Never over an existing role, and only built-in ones.
        let again = #expect(throws: PGHAError.self) { try BuiltinCatalog.exportRole("haproxy", into: directory + "/roles") }
        #expect(again?.message == "\(directory)/roles/haproxy exists")
        let unknown = #expect(throws: PGHAError.self) { try BuiltinCatalog.exportRole("nginx", into: directory + "/roles") }
        #expect(unknown?.message == "there is no built-in role named 'nginx'")
        #expect(unknown?.hint?.contains("haproxy") == true)
        #expect(throws: PGHAError.self) { try BuiltinCatalog.exportRole("../roles", into: directory) }
    }

    @Test func playbooksAreListedWithWhatTheyDo() {
        let playbooks = BuiltinCatalog.playbooks()
        #expect(playbooks.map(\.name) == [
            "add-node.yml", "ping.yml", "reinit-replica.yml", "restore-test.yml", "rolling-restart.yml", "rotate-ca.yml", "site.yml",
            "switchover.yml", "tls-migrate.yml",
        ])
        let site = playbooks.first { $0.name == "site.yml" }
        #expect(site?.description == "Deploys the PostgreSQL HA cluster.")
        #expect(site?.usage == "pgha-play site.yml")
        let switchover = playbooks.first { $0.name == "switchover.yml" }
        #expect(switchover?.description == "Planned switchover: the leader hands over to a healthy replica, with no failover timeout.")
        #expect(switchover?.usage == "pgha-play switchover.yml -e candidate=node2")
        #expect(playbooks.allSatisfy { !$0.description.isEmpty })
    }
}
