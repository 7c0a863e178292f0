import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_db`: creates or drops a database, and changes its owner.
public enum PostgresqlDbModule: Module {
    public static let declaration = ActionDeclaration(
        name: "postgresql_db", qualifiedNames: ["community.postgresql.postgresql_db"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("name", .string, required: true, aliases: ["db"]),
                .init("state", .choice(["present", "absent"]), default: "present"),
                .init("owner", .string, default: ""),
                .init("template", .string, default: ""),
                .init("encoding", .string, default: ""),
                .init("lc_collate", .string, default: ""),
                .init("lc_ctype", .string, default: ""),
                .init("conn_limit", .string, default: ""),
                .init("tablespace", .string, default: ""),
                .init("maintenance_db", .string, default: "postgres"),
                .init("force", .bool, default: false),
            ] + Postgres.loginArguments),
        documentation: ActionDocumentation(
            "Add or remove PostgreSQL databases from a remote host",
            examples: """
                - name: A database for the application
                  community.postgresql.postgresql_db:
                    name: app
                    owner: app
                  become: true
                  become_user: postgres
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = try args.requiredString("name")
        let maintenance = args.string("maintenance_db") ?? "postgres"
        let probe = try await Postgres.psql(
            args, db: maintenance,
            Postgres.setVariable("name", name) + Postgres.setVariable("encoding", args.string("encoding") ?? "")
                + "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datconnlimit, "
                + "encoding = pg_char_to_encoding(:'encoding') FROM pg_database WHERE datname = :'name';\n",
            context: context)
        guard probe.succeeded else { return Postgres.failure(probe, "Database query failed") }
        let row = Postgres.rows(probe.stdoutText).first
        var values: OrderedDictionary<String, Value> = ["db": .string(name)]
        var commands: [String] = []
        var sql = Postgres.setVariable("name", name)
        let before: OrderedDictionary<String, Value> =
            row.map { r in ["owner": .string(r[0]), "encoding": .string(r[1]), "lc_collate": .string(r[2]), "lc_ctype": .string(r[3]), "state": "present"] }
            ?? ["state": "absent"]
        var after = before
        func given(_ key: String) -> String? { args.string(key).flatMap { $0.isEmpty ? nil : $0 } }

        if args.string("state") == "absent" {
            if row != nil {
                let force = args.bool("force") == true ? " WITH (FORCE)" : ""
                commands.append("DROP DATABASE \"\(name)\"\(force)")
                sql += "DROP DATABASE :\"name\"\(force);\n"
                after = ["state": "absent"]
            }
        } else if let row, row.count >= 6 {
            // The server compares encodings (UTF-8 and UTF8 are the same one), the module locales as text.
            if given("encoding") != nil && row[5] != "t" {
                return .failure("Changing database encoding is not supported. Current encoding: \(row[1])")
            }
            if let wanted = given("lc_collate"), wanted != row[2] {
                return .failure("Changing LC_COLLATE is not supported. Current LC_COLLATE: \(row[2])")
            }
            if let wanted = given("lc_ctype"), wanted != row[3] {
                return .failure("Changing LC_CTYPE is not supported.Current LC_CTYPE: \(row[3])")
            }
            if let owner = given("owner"), owner != row[0] {
                sql += Postgres.setVariable("owner", owner) + "ALTER DATABASE :\"name\" OWNER TO :\"owner\";\n"
                commands.append("ALTER DATABASE \"\(name)\" OWNER TO \"\(owner)\"")
                after["owner"] = .string(owner)
            }
            if let limit = given("conn_limit"), Int(limit) != Int(row[4]) {
                guard let value = Int(limit) else { return .failure("conn_limit must be an integer") }
                sql += "ALTER DATABASE :\"name\" CONNECTION LIMIT \(value);\n"
                commands.append("ALTER DATABASE \"\(name)\" CONNECTION LIMIT \(value)")
            }
        } else {
            var clause = ""
            var shown = ""
            for (key, keyword, identifier) in [
                ("owner", "OWNER", true), ("template", "TEMPLATE", true), ("encoding", "ENCODING", false),
                ("lc_collate", "LC_COLLATE", false), ("lc_ctype", "LC_CTYPE", false), ("tablespace", "TABLESPACE", true),
            ] {
                guard let value = given(key) else { continue }
                sql += Postgres.setVariable("pgha_\(key)", value)
                clause += " \(keyword) " + (identifier ? ":\"pgha_\(key)\"" : ":'pgha_\(key)'")
                shown += " \(keyword) " + (identifier ? "\"\(value)\"" : "'\(value)'")
                after[key] = .string(value)
            }
            if let limit = given("conn_limit"), let value = Int(limit) {
                clause += " CONNECTION LIMIT \(value)"
                shown += " CONNECTION LIMIT \(value)"
            }
            sql += "CREATE DATABASE :\"name\"\(clause);\n"
            commands.append("CREATE DATABASE \"\(name)\"" + shown)
            after["state"] = "present"
        }
        values["executed_commands"] = .list(commands.map { .string($0) })
        guard !commands.isEmpty else { return ModuleResult(values: values) }
        let diffs = context.diffMode ? [HostScript.diff(before, after)] : []
        if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
        let result = try await Postgres.psql(args, db: maintenance, sql, context: context)
        guard result.succeeded else { return Postgres.failure(result, "Database query failed") }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}
