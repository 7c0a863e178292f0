import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// Runs as root against this machine, with throwaway pghatest_* names removed afterwards.
@Suite(.serialized) struct UserGroupModuleTests {
    static func runner() -> HostRunner? {
        guard requireRoot() else { return nil }
        return HostRunner(LocalConnection(), become: nil)
    }

    static func cleanup(_ host: HostRunner, users: [String], groups: [String]) async {
        for user in users { _ = try? await host.connection.inner.run(CommandRequest("userdel -r \(user) 2>/dev/null; true")) }
        for group in groups { _ = try? await host.connection.inner.run(CommandRequest("groupdel \(group) 2>/dev/null; true")) }
    }

    @Test func groupConvergesWithCheckModeAndDiff() async throws {
        guard let host = Self.runner() else { return }
        await Self.cleanup(host, users: [], groups: ["pghatest_g1"])
        defer { Task { await Self.cleanup(host, users: [], groups: ["pghatest_g1"]) } }
        let snap = "getent group pghatest_g1 || echo none"
        let (check, first, _) = try await host.expectConverges(
            GroupModule.self, ["name": "pghatest_g1", "gid": 47011, "system": true], snapshot: snap)
        #expect(check.values["gid"] == 47011)
        #expect(first.values["gid"] == 47011 && first.values["system"] == true && first.values["state"] == "present")
        #expect(try await host.sh(snap).hasPrefix("pghatest_g1:x:47011:"))
        host.diffMode = true
        let moved = try await host.run(GroupModule.self, ["name": "pghatest_g1", "gid": 47012])
        #expect(moved.changed && moved.values["gid"] == 47012)
        #expect(moved.diffs.first?.before.contains("47011") == true && moved.diffs.first?.after.contains("47012") == true)
        _ = try await host.expectConverges(GroupModule.self, ["name": "pghatest_g1", "state": "absent"], snapshot: snap)
        #expect(try await host.sh(snap) == "none\n")
        #expect(host.roundTrips == 1)
    }

    @Test func groupArgumentErrors() {
        #expect(validationError(GroupModule.self, ["gid": 5])?.contains("missing required arguments: name") == true)
        #expect(validationError(GroupModule.self, ["name": "x", "gidd": 5])?.contains("did you mean 'gid'") == true)
        #expect(validationError(GroupModule.self, ["name": "x", "gid": "abc"])?.contains("cannot be converted to an int") == true)
        #expect(validationError(GroupModule.self, ["name": "x", "state": "gone"])?.contains("value must be one of") == true)
    }

    @Test func userLifecycleIsIdempotentAndKeepsThePasswordOffCommandLines() async throws {
        guard let host = Self.runner() else { return }
        let users = ["pghatest_u1"]
        let groups = ["pghatest_ug1", "pghatest_ug2"]
        await Self.cleanup(host, users: users, groups: groups)
        defer { Task { await Self.cleanup(host, users: users, groups: groups) } }
        try await host.sh("groupadd pghatest_ug1 && groupadd pghatest_ug2")
        // SHA-512 crypt of "secret" with salt "saltsalt" (openssl passwd -6).
        let hash = try await host.sh("openssl passwd -6 -salt saltsalt secret").trimmingCharacters(in: .newlines)
        let snap = "getent passwd pghatest_u1 || echo none; getent shadow pghatest_u1 | cut -d: -f2; id -Gn pghatest_u1 2>/dev/null; ls -d /home/pghatest_u1 2>/dev/null; true"
        let args: OrderedDictionary<String, Value> = [
            "name": "pghatest_u1", "uid": 47021, "group": "pghatest_ug1", "groups": "pghatest_ug2",
            "shell": "/bin/sh", "comment": "PGHA test", "password": .string(hash),
        ]
        let (_, first, _) = try await host.expectConverges(UserModule.self, args, snapshot: snap)
        #expect(first.values["uid"] == 47021 && first.values["shell"] == "/bin/sh")
        #expect(first.values["password"] == "NOT_LOGGING_PASSWORD")
        #expect(!host.connection.commands.contains(where: { $0.contains(hash) }), "password hash on a command line")
        let state = try await host.sh(snap)
        #expect(state.contains("pghatest_u1:x:47021:"))
        #expect(state.contains(hash))
        #expect(state.contains("pghatest_ug1 pghatest_ug2"))
        #expect(state.contains("/home/pghatest_u1"))

        // append adds without dropping; groups without append replaces.
        try await host.sh("groupadd pghatest_ug3 || true")
        defer { Task { _ = try? await host.connection.inner.run(CommandRequest("groupdel pghatest_ug3")) } }
        host.diffMode = true
        let appended = try await host.run(UserModule.self, ["name": "pghatest_u1", "groups": ["pghatest_ug3"], "append": true])
        #expect(appended.changed)
        #expect(appended.diffs.first?.after.contains("pghatest_ug3") == true)
        #expect(try await host.sh("id -Gn pghatest_u1") == "pghatest_ug1 pghatest_ug2 pghatest_ug3\n")
        let again = try await host.run(UserModule.self, ["name": "pghatest_u1", "groups": ["pghatest_ug3"], "append": true])
        #expect(!again.changed)
        let replaced = try await host.run(UserModule.self, ["name": "pghatest_u1", "groups": ["pghatest_ug3"]])
        #expect(replaced.changed)
        #expect(try await host.sh("id -Gn pghatest_u1") == "pghatest_ug1 pghatest_ug3\n")

        let locked = try await host.run(UserModule.self, ["name": "pghatest_u1", "password_lock": true])
        #expect(locked.changed)
        #expect(try await host.sh("getent shadow pghatest_u1 | cut -d: -f2").hasPrefix("!"))
        #expect(!(try await host.run(UserModule.self, ["name": "pghatest_u1", "password_lock": true])).changed)
        // The same hash while locked is not a change (Ansible compares past the lock mark).
        #expect(!(try await host.run(UserModule.self, ["name": "pghatest_u1", "password": .string(hash)])).changed)

        _ = try await host.expectConverges(
            UserModule.self, ["name": "pghatest_u1", "state": "absent", "remove": true], snapshot: snap)
        #expect(try await host.sh(snap) == "none\n")
    }

    @Test func userFailsOnUnknownGroup() async throws {
        guard let host = Self.runner() else { return }
        let result = try await host.run(UserModule.self, ["name": "pghatest_u2", "group": "pghatest_nosuchgroup"])
        #expect(result.failed && result.msg == "Group pghatest_nosuchgroup does not exist")
        #expect(try await host.sh("getent passwd pghatest_u2 || echo none") == "none\n")
        #expect(validationError(UserModule.self, ["name": "x", "create_home": "maybe"])?.contains("not a valid boolean") == true)
        #expect(validationError(UserModule.self, ["user": "x", "createhome": false]) == nil)
    }

    @Test func getentReadsDatabasesLikeAnsible() async throws {
        let host = HostRunner(LocalConnection(), become: nil)
        let root = try await host.run(GetentModule.self, ["database": "passwd", "key": "root"])
        #expect(root.values["ansible_facts"]?["getent_passwd"]?["root"] == ["x", "0", "0", "root", "/root", "/bin/bash"])
        #expect(host.roundTrips == 1)
        let missing = try await host.run(GetentModule.self, ["database": "passwd", "key": "pghatest_nobody"])
        #expect(missing.failed && missing.msg == "One or more supplied key could not be found in the database.")
        let tolerated = try await host.run(
            GetentModule.self, ["database": "passwd", "key": "pghatest_nobody", "fail_key": false])
        #expect(!tolerated.failed && tolerated.values["ansible_facts"]?["getent_passwd"]?["pghatest_nobody"] == .null)
        let hosts = try await host.run(GetentModule.self, ["database": "hosts", "key": "localhost"])
        #expect(hosts.values["ansible_facts"]?["getent_hosts"]?.dictValue?.isEmpty == false)
        let unknown = try await host.run(GetentModule.self, ["database": "pghatest_db"])
        #expect(unknown.failed && unknown.msg == "Missing arguments, or database unknown.")
    }

    @Test func factsModulesReadOnce() async throws {
        let host = HostRunner(LocalConnection(), become: nil)
        let packages = try await host.run(PackageFactsModule.self, [:])
        #expect(host.roundTrips == 1)
        let bash = try #require(packages.values["ansible_facts"]?["packages"]?["bash"]?.listValue?.first)
        let version = try await host.sh("dpkg-query -W -f='${Version}' bash")
        #expect(bash["version"] == .string(version) && bash["source"] == "apt" && bash["name"] == "bash")
        #expect(validationError(PackageFactsModule.self, ["strategy": "some"]) != nil)
        #expect(try await host.run(PackageFactsModule.self, ["manager": "rpm"]).failed)
    }
}
