import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_user`: creates, alters or drops a role. The password travels on
/// psql's standard input (a `\set` variable) and is compared with the stored SCRAM verifier locally,
/// so an unchanged password is not re-sent.
public enum PostgresqlUserModule: Module {
    public static let declaration = ActionDeclaration(
        name: "postgresql_user", qualifiedNames: ["community.postgresql.postgresql_user"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
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
            ] + Postgres.loginArguments),
        documentation: ActionDocumentation(
            "Create, alter, or remove a user (role) from a PostgreSQL server instance",
            examples: """
                - name: The application's role
                  community.postgresql.postgresql_user:
                    name: app
                    password: "{{ app_db_password }}"
                    role_attr_flags: LOGIN
                  become: true
                  become_user: postgres
                  no_log: true
                """))

    static let flags: [(String, String)] = [
        ("SUPERUSER", "rolsuper"), ("INHERIT", "rolinherit"), ("CREATEROLE", "rolcreaterole"),
        ("CREATEDB", "rolcreatedb"), ("LOGIN", "rolcanlogin"), ("REPLICATION", "rolreplication"),
        ("BYPASSRLS", "rolbypassrls"),
    ]

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let name = try args.requiredString("name")
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
                var newPassword: String?
                if let password = args.string("password"), args.bool("no_password_changes") != true {
                    if password.isEmpty ? !stored.isEmpty : !SCRAM.matches(password, stored: stored, user: name) {
                        newPassword = password
                        before["password"] = stored.isEmpty ? "(none)" : "(set)"
                        after["password"] = password.isEmpty ? "(none)" : "(changed)"
                    }
                }
                if newPassword != nil || !attrs.isEmpty {
                    let password = newPassword
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

