import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// ufw on the fresh host (node4, PGHA_LAB_TESTS=1), where it starts installed and inactive. SSH is
/// allowed before ufw is enabled, so the default deny-incoming policy never cuts the tests off.
@Suite(.serialized) struct UfwModuleTests {
    static let snapshot = "ufw status verbose; cat /etc/ufw/user.rules /etc/ufw/user6.rules"

    @Test func rulesAndLoggingConverge() async throws {
        guard let connection = try await Lab.connectFresh() else { return }
        let host = HostRunner(connection, become: Lab.root)
        let ssh: OrderedDictionary<String, Value> = ["rule": "allow", "port": "22", "proto": "tcp"]
        #expect(try await host.sh("ufw status").contains("Status: inactive"))
        // Inactive, the status has no Logging line to compare: Ansible's module reports a change.
        #expect(try await host.run(UfwModule.self, ["logging": "low"]).changed)
        _ = try await host.expectConverges(UfwModule.self, ssh, snapshot: Self.snapshot)
        _ = try await host.expectConverges(UfwModule.self, ["state": "enabled"], snapshot: Self.snapshot)
        #expect(try await host.sh("ufw status").contains("Status: active"))
        #expect(!(try await host.run(UfwModule.self, ssh)).changed)
        // The connection still works after enabling: a new one too.
        let second = try #require(try await Lab.connect(to: FreshHost.address, name: FreshHost.name))
        #expect(try await second.run(CommandRequest("true")).succeeded)
        await second.close()

        let rule: OrderedDictionary<String, Value> = [
            "rule": "allow", "src": "10.77.0.0/16", "port": "5999", "proto": "tcp", "comment": "pghatest",
        ]
        host.diffMode = true
        let (_, first, _) = try await host.expectConverges(UfwModule.self, rule, snapshot: Self.snapshot)
        #expect(first.diffs.first?.after.contains("5999") == true)
        #expect(try await host.sh("ufw status").contains("5999/tcp"))
        #expect(host.roundTrips == 1)
        var delete = rule
        delete["delete"] = true
        _ = try await host.expectConverges(UfwModule.self, delete, snapshot: Self.snapshot)
        #expect(!(try await host.sh("ufw status")).contains("5999"))

        _ = try await host.expectConverges(UfwModule.self, ["logging": "medium"], snapshot: Self.snapshot)
        #expect(try await host.sh("ufw status verbose").contains("Logging: on (medium)"))
        _ = try await host.expectConverges(UfwModule.self, ["logging": "low"], snapshot: Self.snapshot)
        // Already enabled: nothing to do, one round trip.
        let enabled = try await host.run(UfwModule.self, ["state": "enabled"])
        #expect(!enabled.changed && host.roundTrips == 1)
        let policy = try await host.run(UfwModule.self, ["default": "deny", "direction": "incoming"])
        #expect(!policy.changed)
        await connection.close()
    }

    @Test func argumentErrors() {
        #expect(validationError(UfwModule.self, ["direction": "in"])?.contains("one of the following is required") == true)
        #expect(validationError(UfwModule.self, ["rule": "allow", "proto": "sctp"])?.contains("value must be one of") == true)
        #expect(validationError(UfwModule.self, ["rule": "allow", "if": "eth0", "interface_in": "eth1"])?.contains("mutually exclusive") == true)
    }
}

/// apt_repository on node3 with update_cache off (the lab has no network to fetch indexes).
@Suite(.serialized) struct AptRepositoryModuleTests {
    static let snapshot = "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do [ -f \"$f\" ] && echo \"$f $(stat -c %a \"$f\")\" && cat \"$f\"; done; true"

    @Test func addsAndRemovesASource() async throws {
        #expect(AptRepositoryModule.suggestFilename("deb [arch=amd64] https://user:pw@apt.example.org/debian bookworm main") == "apt_example_org_debian.list")
        guard let connection = try await Lab.connect() else { return }
        let host = HostRunner(connection, become: Lab.root)
        let file = "/etc/apt/sources.list.d/pghatest.list"
        try await host.sh("rm -f \(file)")
        let args: OrderedDictionary<String, Value> = [
            "repo": "deb  [trusted=yes] file:/srv/pghatest ./", "filename": "pghatest", "update_cache": false, "mode": "0640",
        ]
        host.diffMode = true
        let (_, first, _) = try await host.expectConverges(AptRepositoryModule.self, args, snapshot: Self.snapshot)
        #expect(first.values["sources_added"] == [.string(file)])
        #expect(first.diffs.first?.after == "deb [trusted=yes] file:/srv/pghatest ./\n")
        #expect(try await host.sh("stat -c %a \(file); cat \(file)") == "640\ndeb [trusted=yes] file:/srv/pghatest ./\n")
        var absent = args
        absent["state"] = "absent"
        let (_, removed, _) = try await host.expectConverges(AptRepositoryModule.self, absent, snapshot: Self.snapshot)
        #expect(removed.values["sources_removed"] == [.string(file)])
        #expect(try await host.sh("test -e \(file) && echo present || echo gone") == "gone\n")
        let bad = try await host.run(AptRepositoryModule.self, ["repo": "http://x", "update_cache": false])
        #expect(bad.failed)
        await connection.close()
    }
}
