import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

@Suite struct PgHbaModuleTests {
    static let original = """
        # Database administrative login by Unix domain socket
        local   all             postgres                                peer
        local   all             all                                     peer
        host    all             all             127.0.0.1/32            scram-sha-256
        host    replication     all             ::1/128                 scram-sha-256

        """

    @Test(arguments: TestTarget.all)
    func addsReplacesAndRemovesRulesSortingAsTheCollection(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let dest = box.path("pg_hba.conf")
        try await box.sh("printf '%s' \(shellQuote(Self.original)) > \(shellQuote(dest)) && chmod 640 \(shellQuote(dest))")
        let add: OrderedDictionary<String, Value> = [
            "dest": .string(dest), "contype": "host", "databases": "replication", "users": "replicator",
            "source": "10.77.0.0/16", "method": "scram-sha-256",
        ]
        _ = try await box.expectCheckModeChangesNothing(PostgresqlPgHbaModule.self, add)
        box.diffMode = true
        let (first, trips1, trips2) = try await box.expectIdempotent(PostgresqlPgHbaModule.self, add)
        #expect(trips1 == 2 && trips2 == 1)
        #expect(first.values["msgs"] == ["Adding rule host\treplication\treplicator\t10.77.0.0/16\tscram-sha-256", "Changed"])
        #expect(first.diffs.first?.beforeHeader == dest)
        // community.postgresql 4.x sorts on change: comments first, then the most specific source,
        // database and user; empty lines go, and there is no final newline.
        let text = try await box.sh("cat \(shellQuote(dest))")
        #expect(text == """
            # Database administrative login by Unix domain socket
            local   all             postgres                                peer
            local   all             all                                     peer
            host    replication     all             ::1/128                 scram-sha-256
            host    all             all             127.0.0.1/32            scram-sha-256
            host\treplication\treplicator\t10.77.0.0/16\tscram-sha-256
            """)
        // The collection copies a private temporary file over the destination, mode and all.
        #expect(try await box.sh("stat -c %a \(shellQuote(dest))") == "600\n")

        // Same key, other method: replaced where it stands.
        var md5 = add
        md5["method"] = "md5"
        md5["source"] = "127.0.0.1/32"
        md5["databases"] = "all"
        md5["users"] = "all"
        let replaced = try await box.run(PostgresqlPgHbaModule.self, md5).result
        #expect(replaced.changed)
        let lines = try await box.sh("cat \(shellQuote(dest))").split(separator: "\n")
        #expect(lines[4] == "host\tall\tall\t127.0.0.1/32\tmd5")
        #expect(lines.count == 6)

        var absent = add
        absent["state"] = "absent"
        _ = try await box.expectIdempotent(PostgresqlPgHbaModule.self, absent)
        #expect(!(try await box.sh("cat \(shellQuote(dest))")).contains("replicator"))
        let rules = replaced.values["pg_hba"]?.listValue ?? []
        #expect(rules.first == .dict(["type": "local", "db": "all", "usr": "postgres", "method": "peer"]))
        #expect(rules.last == .dict(["type": "host", "db": "replication", "usr": "replicator", "src": "10.77.0.0/16", "method": "scram-sha-256"]))
    }

    @Test(arguments: TestTarget.all)
    func missingFileNeedsCreate(target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let args: OrderedDictionary<String, Value> = ["dest": .string(box.path("new.conf")), "contype": "local", "method": "peer"]
        let (failed, _) = try await box.run(PostgresqlPgHbaModule.self, args)
        #expect(failed.failed)
        var create = args
        create["create"] = true
        _ = try await box.expectIdempotent(PostgresqlPgHbaModule.self, create)
        #expect(try await box.sh("cat \(shellQuote(box.path("new.conf")))") == "local\tall\tall\tpeer")
        #expect(validationError(PostgresqlPgHbaModule.self, ["dest": "/x", "method": "md6"])?.contains("value must be one of") == true)
    }
}
