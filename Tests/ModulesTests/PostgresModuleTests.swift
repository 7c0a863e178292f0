import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// The PostgreSQL modules against the fresh host's PostgreSQL 15 (node4, PGHA_LAB_TESTS=1), as
/// become_user postgres over the unix socket, with pghatest_* roles and databases dropped afterwards.
@Suite(.serialized) struct PostgresModuleTests {
    static let postgres = Become(user: "postgres")

    @Test func scramVerifierMatchesPostgresFormat() {
        // Produced by PostgreSQL 15 (lab node3) for CREATE ROLE ... PASSWORD 'pencil'.
        let stored = "SCRAM-SHA-256$4096:Bh12tRKNQ81F819/BcBUsw==$0iRcS+2zTG3Lx2D28bE6rai4qKjl9fc1AOMUf34Aopo=:H9PWFOJesw4kQZX6djWI57xyTxzHGP79Vs7rdv23JjY="
        #expect(SCRAM.verify("pencil", against: stored))
        #expect(!SCRAM.verify("pencil2", against: stored))
        #expect(SCRAM.matches("secret", stored: "md5" + Digest.md5(Array("secretbob".utf8)), user: "bob"))
    }

    @Test func userAndDatabaseConverge() async throws {
        guard let connection = try await Lab.connectFresh() else { return }
        let host = HostRunner(connection, become: Self.postgres)
        let cleanup = "psql -X -q -c 'DROP DATABASE IF EXISTS pghatest_db' -c 'DROP ROLE IF EXISTS pghatest_role' -c 'DROP ROLE IF EXISTS pghatest_owner2'"
        try await host.sh(cleanup)
        let snapshot = "psql -X -A -t -c \"SELECT rolname, rolcanlogin, rolcreatedb, rolconnlimit, rolpassword FROM pg_authid WHERE rolname LIKE 'pghatest%' ORDER BY 1\" -c \"SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'pghatest%'\""
        let password = "s3cret 'quoted' \\ pass"
        let args: OrderedDictionary<String, Value> = [
            "name": "pghatest_role", "password": .string(password), "role_attr_flags": "CREATEDB,NOSUPERUSER",
            "conn_limit": 5,
        ]
        host.diffMode = true
        let (check, first, second) = try await host.expectConverges(PostgresqlUserModule.self, args, snapshot: snapshot)
        #expect(check.values["queries"] == ["CREATE USER \"pghatest_role\" WITH PASSWORD '********' CREATEDB NOSUPERUSER CONNECTION LIMIT 5"])
        #expect(first.values["user"] == "pghatest_role")
        #expect(second.values["queries"] == [])
        #expect(host.roundTrips == 1)
        #expect(!host.connection.commands.contains(where: { $0.contains("s3cret") }), "password on a command line")
        let stored = try await host.sh(snapshot)
        #expect(stored.contains("pghatest_role|t|t|5|SCRAM-SHA-256$"))
        // The server can authenticate the role with the password.
        let login = try await connection.run(
            CommandRequest("PGPASSWORD=\"$(cat)\" psql -X -A -t -h 127.0.0.1 -U pghatest_role -d postgres -c 'select 1'",
                stdin: Array(password.utf8), become: Self.postgres))
        #expect(login.stdoutText == "1\n", "\(login.stderrText)")

        // A new password is detected through the stored verifier; flags change in place.
        let changed = try await host.run(
            PostgresqlUserModule.self, ["name": "pghatest_role", "password": "other", "role_attr_flags": "NOCREATEDB"])
        #expect(changed.changed)
        #expect(changed.values["queries"] == ["ALTER USER \"pghatest_role\" WITH PASSWORD '********' NOCREATEDB"])
        #expect(changed.diffs.first?.after.contains("other") == false)
        #expect(!(try await host.run(PostgresqlUserModule.self, ["name": "pghatest_role", "password": "other"])).changed)

        try await host.sh("psql -X -q -c 'CREATE ROLE pghatest_owner2'")
        let dbArgs: OrderedDictionary<String, Value> = [
            "name": "pghatest_db", "owner": "pghatest_role", "encoding": "UTF8", "template": "template0",
        ]
        let (dbCheck, _, _) = try await host.expectConverges(PostgresqlDbModule.self, dbArgs, snapshot: snapshot)
        #expect(dbCheck.values["executed_commands"] == ["CREATE DATABASE \"pghatest_db\" OWNER \"pghatest_role\" TEMPLATE \"template0\" ENCODING 'UTF8'"])
        #expect(try await host.sh(snapshot).contains("pghatest_db|pghatest_role"))
        _ = try await host.expectConverges(
            PostgresqlDbModule.self, ["name": "pghatest_db", "owner": "pghatest_owner2"], snapshot: snapshot)
        let encoding = try await host.run(PostgresqlDbModule.self, ["name": "pghatest_db", "encoding": "LATIN1"])
        #expect(encoding.failed && encoding.msg == "Changing database encoding is not supported. Current encoding: UTF8")
        _ = try await host.expectConverges(PostgresqlDbModule.self, ["name": "pghatest_db", "state": "absent"], snapshot: snapshot)
        _ = try await host.expectConverges(
            PostgresqlUserModule.self, ["name": "pghatest_role", "state": "absent"], snapshot: snapshot)
        #expect(!(try await host.sh(snapshot)).contains("pghatest_role"))
        try await host.sh(cleanup)
        await connection.close()
    }

    @Test func argumentErrors() {
        #expect(validationError(PostgresqlUserModule.self, ["password": "x"])?.contains("missing required arguments: name") == true)
        #expect(validationError(PostgresqlUserModule.self, ["name": "x", "login_port": "abc"])?.contains("cannot be converted to an int") == true)
        #expect(validationError(PostgresqlDbModule.self, ["db": "x", "state": "dump"])?.contains("value must be one of") == true)
    }
}

@Suite(.serialized) struct PostgresQueryModuleTests {
    @Test func queryReturnsTypedRowsAndBindsArgumentsSafely() async throws {
        guard let connection = try await Lab.connectFresh() else { return }
        let host = HostRunner(connection, become: PostgresModuleTests.postgres)
        let cleanup = "psql -X -q -c 'DROP TABLE IF EXISTS pghatest_t'"
        try await host.sh(cleanup)
        let created = try await host.run(PostgresqlQueryModule.self, ["query": "CREATE TABLE pghatest_t (id int, name text, ok boolean, doc jsonb)"])
        #expect(created.changed && created.values["statusmessage"] == "CREATE", "\(created.msg ?? "")")
        let evil = "x'); DROP TABLE pghatest_t; --"
        let inserted = try await host.run(
            PostgresqlQueryModule.self,
            ["query": "INSERT INTO pghatest_t VALUES (%s, %s, %s, %s)", "positional_args": [1, .string(evil), true, "{\"a\": [1]}"]])
        #expect(inserted.changed && inserted.values["rowcount"] == 1 && inserted.values["statusmessage"] == "INSERT 0 1")
        let selected = try await host.run(
            PostgresqlQueryModule.self, ["query": "SELECT id, name, ok, doc, NULL::text AS n FROM pghatest_t WHERE id = %(id)s", "named_args": ["id": 1]])
        #expect(!selected.changed)
        #expect(selected.values["query_result"] == [["id": 1, "name": .string(evil), "ok": true, "doc": ["a": [1]], "n": .null]])
        #expect(selected.values["rowcount"] == 1 && selected.values["statusmessage"] == "SELECT 1")
        #expect(host.roundTrips == 1)
        // Check mode rolls back.
        let deleted = try await host.run(PostgresqlQueryModule.self, ["query": "DELETE FROM pghatest_t"], check: true)
        #expect(deleted.changed)
        #expect(try await host.sh("psql -X -A -t -c 'SELECT count(*) FROM pghatest_t'") == "1\n")
        let bad = try await host.run(PostgresqlQueryModule.self, ["query": "SELECT nosuchcolumn FROM pghatest_t"])
        #expect(bad.failed && bad.msg?.contains("nosuchcolumn") == true)
        #expect(validationError(PostgresqlQueryModule.self, ["query": "x", "positional_args": [1], "named_args": ["a": 1]])?.contains("mutually exclusive") == true)
        try await host.sh(cleanup)
        await connection.close()
    }
}
