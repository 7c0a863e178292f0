import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_user`: creates, alters or drops a role. The password travels on
/// psql's standard input (a `\set` variable) and is compared with the stored SCRAM verifier locally,
/// so an unchanged password is not re-sent.
public enum PostgresqlUserModule: Module {
    public static let name = "postgresql_user"
    public static let qualifiedNames = ["community.postgresql.postgresql_user"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec(
        [
            .init("name", .string, required: true, aliases: ["user"]),
            .init("password", .string, secret: true),
            .init("db", .string, aliases: ["login_db"]),
            .init("fail_on_user", .bool, default: true, aliases: ["fail_on_role"]),
            .init("role_attr_flags", .string, default: ""),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("encrypted", .bool, default: true),
            .init("expires", .string),
            .init("no_password_changes", .bool, default: false),
            .init("conn_limit", .int),
            .init("comment", .string),
        ] + Postgres.loginArguments)

    static let flags: [(String, String)] = [
        ("SUPERUSER", "rolsuper"), ("INHERIT", "rolinherit"), ("CREATEROLE", "rolcreaterole"),
        ("CREATEDB", "rolcreatedb"), ("LOGIN", "rolcanlogin"), ("REPLICATION", "rolreplication"),
        ("BYPASSRLS", "rolbypassrls"),
    ]

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = args.string("name")!
        var wantedFlags: [String: Bool] = [:]
        for raw in (args.string("role_attr_flags") ?? "").split(whereSeparator: { $0 == "," || $0 == " " }) {
            var flag = raw.uppercased()
            let on = !flag.hasPrefix("NO")
            if flag.hasPrefix("NO") { flag = String(flag.dropFirst(2)) }
            guard flags.contains(where: { $0.0 == flag }) else {
                return .failure("Invalid role_attr_flags specified: \(raw)")
            }
            wantedFlags[flag] = on
        }
        let columns = flags.map(\.1).joined(separator: ", ")
        let probe = try await Postgres.psql(
            args, db: args.string("db"),
            Postgres.setVariable("name", name)
                + "SELECT \(columns), rolconnlimit, coalesce(rolvaliduntil::text, ''), coalesce(rolpassword, ''), coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_authid WHERE rolname = :'name';\n",
            context: context)
        guard probe.succeeded else { return Postgres.failure(probe, "reading role \(name) failed") }
        let row = Postgres.rows(probe.stdoutText).first
        var values: OrderedDictionary<String, Value> = ["user": .string(name)]
        var queries: [String] = []
        var sql = Postgres.setVariable("name", name)
        var before: OrderedDictionary<String, Value> = ["state": row == nil ? "absent" : "present"]
        var after = before

        if args.string("state") == "absent" {
            guard row != nil else {
                values["queries"] = []
                return ModuleResult(values: values)
            }
            queries.append("DROP ROLE \"\(name)\"")
            sql += "DROP ROLE :\"name\";\n"
            after = ["state": "absent"]
        } else {
            var current: [String: Bool] = [:]
            var attrs: [String] = []
            if let row, row.count >= flags.count + 4 {
                for (index, flag) in flags.enumerated() { current[flag.0] = row[index] == "t" }
                for flag in flags.map(\.0) { before[flag.lowercased()] = .bool(current[flag]!) }
                let connLimit = Int(row[flags.count]) ?? -1
                let stored = row[flags.count + 2]
                for (flag, on) in wantedFlags.sorted(by: { $0.key < $1.key }) where current[flag] != on {
                    attrs.append(on ? flag : "NO" + flag)
                    after[flag.lowercased()] = .bool(on)
                }
                if let limit = args.int("conn_limit"), limit != connLimit {
                    attrs.append("CONNECTION LIMIT \(limit)")
                    before["conn_limit"] = .int(connLimit)
                    after["conn_limit"] = .int(limit)
                }
                if let expires = args.string("expires"), expires != row[flags.count + 1] {
                    attrs.append("VALID UNTIL '\(expires.replacingOccurrences(of: "'", with: "''"))'")
                    after["expires"] = .string(expires)
                }
                var setsPassword = false
                if let password = args.string("password"), args.bool("no_password_changes") != true {
                    if password.isEmpty ? !stored.isEmpty : !SCRAM.matches(password, stored: stored, user: name) {
                        setsPassword = true
                        before["password"] = stored.isEmpty ? "(none)" : "(set)"
                        after["password"] = password.isEmpty ? "(none)" : "(changed)"
                    }
                }
                if setsPassword || !attrs.isEmpty {
                    let password = setsPassword ? args.string("password")! : nil
                    if let password { sql += Postgres.setVariable("pgha_password", password) }
                    let passwordSQL = password.map { $0.isEmpty ? " PASSWORD NULL" : " PASSWORD :'pgha_password'" } ?? ""
                    let shown = password.map { $0.isEmpty ? " PASSWORD NULL" : " PASSWORD '********'" } ?? ""
                    let attrSQL = attrs.isEmpty ? "" : " " + attrs.joined(separator: " ")
                    sql += "ALTER ROLE :\"name\" WITH\(passwordSQL)\(attrSQL);\n"
                    queries.append("ALTER USER \"\(name)\" WITH\(shown)\(attrSQL)")
                }
            } else {
                for (flag, on) in wantedFlags.sorted(by: { $0.key < $1.key }) { attrs.append(on ? flag : "NO" + flag) }
                if let limit = args.int("conn_limit") { attrs.append("CONNECTION LIMIT \(limit)") }
                if let expires = args.string("expires") {
                    attrs.append("VALID UNTIL '\(expires.replacingOccurrences(of: "'", with: "''"))'")
                }
                var passwordSQL = ""
                var shown = ""
                if let password = args.string("password"), !password.isEmpty {
                    sql += Postgres.setVariable("pgha_password", password)
                    passwordSQL = " PASSWORD :'pgha_password'"
                    shown = " PASSWORD '********'"
                }
                let attrSQL = attrs.isEmpty ? "" : " " + attrs.joined(separator: " ")
                // CREATE USER: LOGIN unless the flags say otherwise, as Ansible creates roles.
                sql += "CREATE USER :\"name\" WITH\(passwordSQL)\(attrSQL);\n"
                queries.append("CREATE USER \"\(name)\" WITH\(shown)\(attrSQL)")
                after = ["state": "present"]
                for (flag, on) in wantedFlags { after[flag.lowercased()] = .bool(on) }
            }
            if let comment = args.string("comment"), row == nil || row![flags.count + 3] != comment {
                sql += Postgres.setVariable("pgha_comment", comment) + "COMMENT ON ROLE :\"name\" IS :'pgha_comment';\n"
                queries.append("COMMENT ON ROLE \"\(name)\" IS '\(comment)'")
                after["comment"] = .string(comment)
            }
        }
        values["queries"] = .list(queries.map { .string($0) })
        guard !queries.isEmpty else { return ModuleResult(values: values) }
        let diffs = context.diffMode ? [HostScript.diff(before, after)] : []
        if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
        let result = try await Postgres.psql(args, db: args.string("db"), sql, context: context)
        guard result.succeeded else {
            if args.string("state") == "absent", args.bool("fail_on_user") == false {
                return ModuleResult(msg: "Unable to remove user: \(result.stderrText)", values: values)
            }
            return Postgres.failure(result, "Unable to change role \(name)")
        }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}

/// `community.postgresql.postgresql_db`: creates or drops a database, and changes its owner.
public enum PostgresqlDbModule: Module {
    public static let name = "postgresql_db"
    public static let qualifiedNames = ["community.postgresql.postgresql_db"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec(
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
        ] + Postgres.loginArguments)

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = args.string("name")!
        let maintenance = args.string("maintenance_db") ?? "postgres"
        let probe = try await Postgres.psql(
            args, db: maintenance,
            Postgres.setVariable("name", name)
                + "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datconnlimit FROM pg_database WHERE datname = :'name';\n",
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
        } else if let row, row.count >= 5 {
            for (key, index) in [("encoding", 1), ("lc_collate", 2), ("lc_ctype", 3)] {
                if let wanted = given(key), wanted.lowercased() != row[index].lowercased() {
                    let label = key == "encoding" ? "encoding" : key == "lc_collate" ? "collate" : "ctype"
                    return .failure("Changing database \(label) is not supported. Current \(label): \(row[index])")
                }
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
