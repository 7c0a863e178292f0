import Foundation
import PGHACore
import Testing
import Transport

@testable import Engine

/// `InventoryHosts`: a host's variables in a run's precedence (role defaults < inventory < extra
/// vars), rendered, and its connection, outside a playbook.
struct InventoryHostsTests {
    /// A temporary project: an inventory with group_vars and a role with defaults.
    static func project() throws -> String {
        let root = NSTemporaryDirectory() + "pgha-inventory-hosts-\(UUID().uuidString)"
        let files = [
            "inventory/hosts.ini": "[postgres]\ndb1 ansible_host=10.0.0.1 ansible_connection=local\n\n[witness]\nw1 port_override=7000\n",
            "inventory/group_vars/all.yml": "patroni_scope: main\naddress_note: \"{{ ansible_host | default('none') }}:{{ listen_port }}\"\n",
            "roles/patroni/defaults/main.yml": "patroni_scope: postgres\nlisten_port: 8008\nonly_default: 1\n",
            "roles/monitoring/defaults/main.yml": "listen_port: 9090\n",
        ]
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func precedenceAndRendering() throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let defaults = try InventoryHosts.loadRoleDefaults(roles: ["patroni", "monitoring", "absent"], searchPaths: [root + "/roles"])
        #expect(defaults["listen_port"] == .int(9090), "later roles win")
        var options = RunOptions()
        options.inventorySources = [root + "/inventory/hosts.ini"]
        options.extraVars = ["only_default": 2]
        let hosts = try InventoryHosts(options: options, roleDefaults: defaults)
        #expect(hosts.hosts(inGroup: "postgres") == ["db1"])
        #expect(hosts.hosts(inGroup: "monitoring").isEmpty)
        #expect(try hosts.string("patroni_scope", for: "db1") == "main", "the inventory over role defaults")
        #expect(try hosts.string("only_default", for: "db1") == "2", "extra vars over everything")
        #expect(try hosts.string("address_note", for: "db1") == "10.0.0.1:9090", "rendered with the host's variables")
        #expect(try hosts.string("address_note", for: "w1") == "none:9090")
        #expect(try hosts.value("groups", for: "w1")?["witness"] == ["w1"])
        #expect(try hosts.value("undefined_thing", for: "db1") == nil)
    }

    @Test func connectsAsARunWould() async throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = RunOptions()
        options.inventorySources = [root + "/inventory/hosts.ini"]
        let hosts = try InventoryHosts(options: options)
        let connection = try await hosts.connect("db1", connectTimeout: 3)
        let result = try await connection.run("echo reached")
        #expect(result.stdoutText == "reached\n" && connection.hostName == "db1")
        await connection.close()
    }

    @Test func roleDefaultsMustBeAMapping() throws {
        let root = NSTemporaryDirectory() + "pgha-inventory-hosts-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/r/defaults", withIntermediateDirectories: true)
        try "- a list\n".write(toFile: root + "/r/defaults/main.yml", atomically: true, encoding: .utf8)
        #expect {
            try InventoryHosts.loadRoleDefaults(roles: ["r"], searchPaths: [root])
        } throws: { error in
            (error as? PGHAError)?.location?.file == root + "/r/defaults/main.yml"
        }
    }
}
