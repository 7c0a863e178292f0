import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// apt, systemd and the fact modules on the lab hosts (PGHA_LAB_TESTS=1). Packages come from the
/// image's offline repository: jq is removed and reinstalled on the fresh host (node4).
@Suite(.serialized) struct LabSystemModuleTests {
    static let dpkgSnapshot = "dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' | sort"

    @Test func aptRemovesAndInstallsIdempotently() async throws {
        guard let connection = try await Lab.connectFresh() else { return }
        let host = HostRunner(connection, become: Lab.root)
        let version = try await host.sh("dpkg-query -W -f='${Version}' jq")
        #expect(!version.isEmpty)

        host.diffMode = true
        let (check, removed, _) = try await host.expectConverges(
            AptModule.self, ["name": "jq", "state": "absent"], snapshot: Self.dpkgSnapshot)
        #expect(check.values["stdout"]?.stringValue?.contains("Remv jq") == true)
        #expect(removed.diffs.first?.before.contains(version) == true)
        #expect(removed.diffs.first?.after.contains("absent") == true)
        #expect(try await host.sh("dpkg-query -W -f='${db:Status-Abbrev}' jq 2>/dev/null || true").hasPrefix("ii") == false)

        // A version pin, the cache left alone (cache_valid_time far in the future).
        let (_, installed, _) = try await host.expectConverges(
            AptModule.self,
            ["name": .string("jq=\(version)"), "update_cache": true, "cache_valid_time": 315_360_000,
             "install_recommends": false],
            snapshot: Self.dpkgSnapshot)
        #expect(installed.values["cache_updated"] == false)
        #expect(installed.values["cache_update_time"]?.intValue ?? 0 > 0)
        #expect(installed.diffs.first?.after.contains(version) == true)
        #expect(installed.values["stdout"]?.stringValue?.contains("Setting up jq") == true)
        #expect(host.connection.commands.allSatisfy { !$0.contains("apt-get update") })
        #expect(try await host.sh("dpkg-query -W -f='${db:Status-Abbrev}' jq").hasPrefix("ii"))

        // Second run of `present` reads state once.
        _ = try await host.run(AptModule.self, ["name": "jq,libjq1"])
        #expect(host.roundTrips == 1)
        let latest = try await host.run(AptModule.self, ["name": "jq", "state": "latest"])
        #expect(!latest.changed && host.roundTrips == 1)

        let missing = try await host.run(AptModule.self, ["name": "pghatest-no-such-package"])
        #expect(missing.failed && missing.msg == "No package matching 'pghatest-no-such-package' is available", "\(missing.msg ?? "") \(missing.values)")

        // A .deb file on the host, through the package module's dispatch too.
        _ = try await host.run(PackageModule.self, ["name": "jq", "state": "absent"])
        // The lab's repository is a file: URI, which apt uses in place rather than caching.
        let deb = "/var/lib/pgha-lab/repo/jq_\(version.replacingOccurrences(of: ":", with: "%3a"))_amd64.deb"
        _ = try await host.expectConverges(AptModule.self, ["deb": .string(deb)], snapshot: Self.dpkgSnapshot)
        _ = try await host.expectConverges(PackageModule.self, ["name": "jq", "state": "absent"], snapshot: Self.dpkgSnapshot)
        _ = try await host.expectConverges(PackageModule.self, ["name": "jq", "state": "present"], snapshot: Self.dpkgSnapshot)
        await connection.close()
    }

    @Test func aptArgumentErrors() {
        #expect(validationError(AptModule.self, ["state": "present"])?.contains("one of the following is required") == true)
        #expect(validationError(AptModule.self, ["name": "a", "deb": "/x.deb"])?.contains("mutually exclusive") == true)
        #expect(validationError(AptModule.self, ["pkg": "a", "state": "installed"])?.contains("value must be one of") == true)
        #expect(validationError(AptModule.self, ["name": "a", "update-cache": "yes", "cache_valid_time": 3600]) == nil)
        // Ansible's package action hands every argument to apt, whose state defaults to present.
        #expect(validationError(PackageModule.self, ["name": "a"]) == nil)
        #expect(validationError(PackageModule.self, ["name": "a", "use": "yum"]) == nil)
    }

    static let unit = "pghatest-sleep.service"
    static let unitSnapshot = "systemctl show -p ActiveState,UnitFileState,LoadState pghatest-sleep.service"

    @Test func systemdManagesAUnitIdempotently() async throws {
        guard let connection = try await Lab.connect() else { return }
        let host = HostRunner(connection, become: Lab.root)
        let cleanup = "systemctl disable --now \(Self.unit) 2>/dev/null; systemctl unmask \(Self.unit) 2>/dev/null; rm -f /lib/systemd/system/\(Self.unit); systemctl daemon-reload"
        try await host.sh(cleanup)
        try await host.sh(
            "cat > /lib/systemd/system/\(Self.unit)",
            stdin: "[Unit]\nDescription=pgha test\n[Service]\nExecStart=/bin/sleep 100000\n[Install]\nWantedBy=multi-user.target\n")
        let unknown = try await host.run(SystemdModule.self, ["name": "pghatest-none.service", "state": "started"])
        #expect(unknown.failed && unknown.msg?.hasPrefix("Could not find the requested service") == true)

        // daemon_reload runs but is never a change, as in Ansible's module.
        let reloaded = try await host.run(SystemdModule.self, ["daemon_reload": true])
        #expect(!reloaded.changed && !reloaded.failed)
        host.diffMode = true
        let (check, first, _) = try await host.expectConverges(
            SystemdModule.self, ["name": .string(Self.unit), "state": "started", "enabled": true],
            snapshot: Self.unitSnapshot)
        #expect(check.diffs.first?.after.contains("\"ActiveState\": \"active\"") == true)
        #expect(first.values["state"] == "started" && first.values["enabled"] == true)
        #expect(first.values["status"]?["LoadState"] == "loaded")
        let now = try await host.sh(Self.unitSnapshot)
        #expect(now.contains("ActiveState=active") && now.contains("UnitFileState=enabled"))
        _ = try await host.run(SystemdModule.self, ["name": .string(Self.unit), "state": "started", "enabled": true])
        #expect(host.roundTrips == 1)

        let restarted = try await host.run(ServiceModule.self, ["name": .string(Self.unit), "state": "restarted"])
        #expect(restarted.changed && !restarted.failed)
        _ = try await host.expectConverges(
            ServiceModule.self, ["name": .string(Self.unit), "state": "stopped", "enabled": false],
            snapshot: Self.unitSnapshot)
        _ = try await host.expectConverges(
            SystemdModule.self, ["name": .string(Self.unit), "masked": true], snapshot: Self.unitSnapshot)
        #expect(try await host.sh(Self.unitSnapshot).contains("UnitFileState=masked"))
        let masked = try await host.run(SystemdModule.self, ["name": .string(Self.unit), "state": "started"])
        #expect(masked.failed)
        _ = try await host.expectConverges(
            SystemdModule.self, ["name": .string(Self.unit), "masked": false], snapshot: Self.unitSnapshot)
        // Awaited, not deferred to a detached task: one still running at process exit can crash it.
        try await host.sh(cleanup)
        await connection.close()
    }

    @Test func serviceAndPackageFactsOnTheLab() async throws {
        guard let connection = try await Lab.connectFresh() else { return }
        let host = HostRunner(connection, become: Lab.root)
        let facts = try await host.run(ServiceFactsModule.self, [:])
        #expect(host.roundTrips == 1)
        let services = try #require(facts.values["ansible_facts"]?["services"])
        #expect(services["ssh.service"] == .dict(["name": "ssh.service", "state": "running", "status": "enabled", "source": "systemd"]))
        #expect(services["postgresql@.service"]?["state"] == "unknown")
        let packages = try await host.run(PackageFactsModule.self, [:])
        #expect(packages.values["ansible_facts"]?["packages"]?["postgresql-15"]?.listValue?.first?["arch"] == "amd64")
        await connection.close()
    }
}
