import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_privs`: grants or revokes privileges on database objects (or
/// role membership, or default privileges) as the collection's module builds the statements. As it
/// does, the change runs in a transaction between two readings of the objects' ACLs; a difference
/// is a change, and --check rolls it back. Two round trips: roles and objects, then the transaction.
public enum PostgresqlPrivsModule: Module {
    public static let declaration = ActionDeclaration(
        name: "postgresql_privs", qualifiedNames: ["community.postgresql.postgresql_privs"],
        supportsCheckMode: true,
        arguments: ArgumentSpec(
            [
                .init("login_db", .string, required: true, aliases: ["db", "database"]),
                .init("state", .choice(["present", "absent"]), default: "present"),
                .init("privs", .string, aliases: ["priv"], help: "Comma-separated, e.g. SELECT,INSERT or ALL."),
                .init(
                    "type",
                    .choice([
                        "table", "sequence", "function", "procedure", "database", "schema", "language", "tablespace", "group",
                        "default_privs", "foreign_data_wrapper", "foreign_server", "type", "parameter",
                    ]), default: "table"),
                .init("objs", .string, aliases: ["obj"], help: "Comma-separated objects, or ALL_IN_SCHEMA, or ALL_DEFAULT."),
                .init("schema", .string),
                .init("roles", .string, required: true, aliases: ["role"]),
                .init("target_roles", .string),
                .init("grant_option", .bool, aliases: ["admin_option"]),
                .init("fail_on_role", .bool, default: true),
            ] + Postgres.loginArguments),
        documentation: ActionDocumentation(
            "Grant or revoke privileges on PostgreSQL database objects",
            examples: """
                - name: The application may read and write every table of its schema
                  community.postgresql.postgresql_privs:
                    login_db: appdb
                    privs: SELECT,INSERT,UPDATE,DELETE
                    type: table
                    objs: ALL_IN_SCHEMA
                    schema: public
                    roles: app
                  become: true
                  become_user: postgres

                - name: And connect to its database
                  community.postgresql.postgresql_privs:
                    login_db: appdb
                    privs: CONNECT
                    type: database
                    roles: app
                  become: true
                  become_user: postgres
                """))

    static let validPrivileges: Set<String> = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "CREATE", "CONNECT", "TEMPORARY", "TEMP",
        "EXECUTE", "USAGE", "ALL", "SET", "ALTER_SYSTEM", "MAINTAIN",
    ]
    static let defaultObjects: OrderedDictionary<String, Set<String>> = [
        "TABLES": ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"],
        "SEQUENCES": ["ALL", "SELECT", "UPDATE", "USAGE"], "FUNCTIONS": ["ALL", "EXECUTE"], "TYPES": ["ALL", "USAGE"],
        "SCHEMAS": ["CREATE", "USAGE"],
    ]
    static let implicitRoles: [(String, Int)] = [("PUBLIC", 0), ("CURRENT_USER", 90500), ("SESSION_USER", 90500), ("CURRENT_ROLE", 140000)]

    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    static func identifier(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func array(_ items: [String]) -> String { "ARRAY[" + items.map(literal).joined(separator: ",") + "]::text[]" }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let type = try args.requiredString("type")
        let state = try args.requiredString("state")
        let database = try args.requiredString("login_db")
        var schema = args.string("schema")
        var objsText = args.string("objs")
        let privsText = args.string("privs")
        let grantOption = args.bool("grant_option")
        let failOnRole = try args.requiredBool("fail_on_role")
        if ["table", "sequence", "function", "procedure", "type", "default_privs"].contains(type) {
            schema = objsText == "schemas" || schema == "not-specified" ? nil : (schema ?? "public")
        } else if schema != nil {
            return .failure("Argument \"schema\" is not allowed for type \"\(type)\".")
        }
        if objsText == "ALL_IN_SCHEMA" && !["table", "sequence", "function", "procedure"].contains(type) {
            return .failure(
                "Argument \"objs\": ALL_IN_SCHEMA can be used only for type: table, sequence, function or procedure, \(type) was passed.")
        }
        if type == "database" {
            objsText = objsText ?? database
        } else if objsText?.isEmpty ?? true {
            return .failure("Argument \"objs\" is required for type \"\(type)\".")
        }
        if type == "group" {
            if privsText != nil { return .failure("Argument \"privs\" is not allowed for type \"group\".") }
        } else if privsText?.isEmpty ?? true {
            return .failure("Argument \"privs\" is required for type \"\(type)\".")
        }
        let privileges = (privsText ?? "").split(separator: ",").map { $0.uppercased() }.sorted()
        let invalid = Set(privileges).subtracting(validPrivileges)
        if privsText != nil && !invalid.isEmpty {
            return .failure("Invalid privileges specified: \(invalid.sorted())")
        }

        // First round trip: the server's version, which roles exist, the schema, ALL_IN_SCHEMA's objects.
        let roles = (args.string("roles") ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var probe = "SELECT 'version|' || current_setting('server_version_num');\n"
        probe += "SELECT 'role|' || r FROM unnest(\(array(roles))) r WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r);\n"
        if let schema { probe += "SELECT 'schema|' || nspname FROM pg_catalog.pg_namespace WHERE nspname = \(literal(schema));\n" }
        let probed = try await Postgres.psql(args, db: database, probe, context: context)
        guard probed.succeeded else { return Postgres.failure(probed, "Could not read the database") }
        var version = 0
        var existing = Set<String>()
        var schemaExists = false
        for row in Postgres.rows(probed.stdoutText) where row.count >= 2 {
            switch row[0] {
            case "version": version = Int(row[1]) ?? 0
            case "role": existing.insert(row[1])
            case "schema": schemaExists = true
            default: break
            }
        }
        let implicit = Set(implicitRoles.filter { version >= $0.1 }.map(\.0))
        var quotedRoles: [String] = []
        for role in roles {
            if implicit.contains(role.uppercased()) {
                quotedRoles.append(role.uppercased())
            } else if existing.contains(role) {
                quotedRoles.append(identifier(role))
            } else if failOnRole {
                return .failure("Role '\(role)' does not exist")
            }
        }
        guard !quotedRoles.isEmpty else { return ModuleResult(values: ["queries": []]) }

        // What is granted, on what, and how the ACLs are read before and after.
        let quotedSchema = schema.map(identifier)
        var objects: [String] = []
        var allInSchema: String?
        var status: String
        let relationKinds = "relkind in ('r','p','v','m','f')"
        if objsText == "ALL_IN_SCHEMA" {
            if let schema, !schemaExists { return .failure("Schema \"\(schema)\" does not exist.") }
            allInSchema = ["table": "ALL TABLES IN SCHEMA", "sequence": "ALL SEQUENCES IN SCHEMA",
                "function": "ALL FUNCTIONS IN SCHEMA", "procedure": "ALL PROCEDURES IN SCHEMA"][type]
            let kinds = type == "table" ? relationKinds : "relkind = 'S'"
            let nspFilter = schema.map { "nspname = \(literal($0)) AND " } ?? ""
            switch type {
            case "table", "sequence":
                status = "SELECT relacl::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE \(nspFilter)\(kinds) ORDER BY relname"
            default:
                let kind = type == "function" ? "'f'" : "'p'"
                status = "SELECT proacl::text FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                    + "WHERE \(nspFilter)p.prokind = \(kind) ORDER BY proname, proargtypes"
            }
        } else if type == "default_privs" {
            let requested = objsText == "ALL_DEFAULT"
                ? ["TABLES", "SEQUENCES", "FUNCTIONS", "TYPES"]
                : (objsText ?? "").split(separator: ",").map { $0.uppercased() }
            let unknown = requested.filter { defaultObjects[$0] == nil }
            if !unknown.isEmpty { return .failure("Invalid Object set specified: \(unknown)") }
            let valid = requested.filter { Set(privileges).isSubset(of: defaultObjects[$0] ?? []) }
            if valid.count != requested.count {
                return .failure("Invalid priv specified. Valid object for priv: \(valid). Objects: \(requested)")
            }
            objects = requested
            status = "SELECT defaclacl::text FROM pg_default_acl a JOIN pg_namespace b ON a.defaclnamespace=b.oid"
                + (schema.map { " WHERE b.nspname = \(literal($0))" } ?? "")
        } else {
            objects = (objsText ?? "").split(separator: ",").map(String.init)
            if type == "function" || type == "procedure" { objects = objects.map { $0.replacingOccurrences(of: ":", with: ",") } }
            let names = array(type == "function" || type == "procedure" ? objects.map { String($0.split(separator: "(").first ?? "") } : objects)
            let inSchema = schema.map { "n.nspname = \(literal($0)) AND " } ?? ""
            switch type {
            case "table", "sequence":
                status = "SELECT relacl::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE \(inSchema)\(type == "table" ? relationKinds : "relkind = 'S'") AND relname = ANY (\(names)) ORDER BY relname"
            case "function", "procedure":
                status = "SELECT proacl::text FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                    + "WHERE \(inSchema)proname = ANY (\(names)) ORDER BY proname, proargtypes"
            case "type":
                status = "SELECT t.typacl::text FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
                    + "WHERE \(inSchema)t.typname = ANY (\(names)) ORDER BY typname"
            case "schema": status = "SELECT nspacl::text FROM pg_catalog.pg_namespace WHERE nspname = ANY (\(names)) ORDER BY nspname"
            case "language": status = "SELECT lanacl::text FROM pg_catalog.pg_language WHERE lanname = ANY (\(names)) ORDER BY lanname"
            case "tablespace": status = "SELECT spcacl::text FROM pg_catalog.pg_tablespace WHERE spcname = ANY (\(names)) ORDER BY spcname"
            case "database": status = "SELECT datacl::text FROM pg_catalog.pg_database WHERE datname = ANY (\(names)) ORDER BY datname"
            case "foreign_data_wrapper":
                status = "SELECT fdwacl::text FROM pg_catalog.pg_foreign_data_wrapper WHERE fdwname = ANY (\(names)) ORDER BY fdwname"
            case "foreign_server":
                status = "SELECT srvacl::text FROM pg_catalog.pg_foreign_server WHERE srvname = ANY (\(names)) ORDER BY srvname"
            case "parameter":
                guard version >= 150000 else { return .failure("PostgreSQL version must be >= 15 for type=parameter. Exit") }
                status = "SELECT paracl::text FROM pg_catalog.pg_parameter_acl WHERE parname = ANY (\(names)) ORDER BY parname"
            default:
                status = "SELECT roleid, grantor, member, admin_option FROM pg_catalog.pg_auth_members am "
                    + "JOIN pg_catalog.pg_roles r ON r.oid = am.roleid WHERE r.rolname = ANY(\(names)) ORDER BY roleid, grantor, member"
            }
            if objects.isEmpty { return ModuleResult(values: ["queries": []]) }
        }

        let query = statements(
            type: type, state: state, privileges: privileges, objects: objects, allInSchema: allInSchema,
            schema: quotedSchema, roles: quotedRoles,
            targetRoles: type == "default_privs" ? args.string("target_roles").map { $0.split(separator: ",").map { identifier(String($0)) } } : nil,
            grantOption: grantOption)
        let sql = "BEGIN;\n\(status);\nSELECT '\(HostScript.marker)';\n\(query)\n\(status);\n" + (context.checkMode ? "ROLLBACK;\n" : "COMMIT;\n")
        let result = try await Postgres.psql(args, db: database, sql, context: context)
        guard result.succeeded else {
            return Postgres.failure(result, "Cannot execute SQL '\(query)'")
        }
        let halves = result.stdoutText.components(separatedBy: HostScript.marker + "\n")
        let before = halves.first.map { $0.split(separator: "\n").sorted() } ?? []
        let after = halves.count > 1 ? halves[1].split(separator: "\n").sorted() : []
        return ModuleResult(changed: before != after, values: ["queries": [.string(query)]])
    }

    /// The module's QueryBuilder: GRANT/REVOKE (or ALTER DEFAULT PRIVILEGES) with its grant option handling.
    static func statements(
        type: String, state: String, privileges: [String], objects: [String], allInSchema: String?, schema: String?,
        roles: [String], targetRoles: [String]?, grantOption: Bool?
    ) -> String {
        let forWhom = roles.joined(separator: ",")
        let inSchema = schema.map { " IN SCHEMA \($0)" } ?? ""
        let defaultsFor = targetRoles.map { " FOR ROLE " + $0.joined(separator: ",") } ?? ""
        let privilegeList = privileges.joined(separator: ",").replacingOccurrences(of: "_", with: " ")
        let setWhat: String
        switch type {
        case "group": setWhat = objects.map(identifier).joined(separator: ",")
        case "default_privs": setWhat = privileges.joined(separator: ",")
        default:
            let ids: [String]
            switch type {
            case "function", "procedure":
                ids = objects.map { object in
                    let name = object.split(separator: "(", maxSplits: 1)
                    return "\(schema ?? "None").\"\(name[0])\"(" + (name.count > 1 ? name[1] : "")
                }
            case "table", "sequence", "type": ids = objects.map { "\(schema ?? "None").\"\($0)\"" }
            default: ids = objects.map { "\"\($0)\"" }
            }
            if let allInSchema {
                setWhat = "\(privilegeList) ON \(allInSchema) \(schema ?? "None")"
            } else {
                setWhat = "\(privilegeList) ON \(type.replacingOccurrences(of: "_", with: " ")) \(ids.joined(separator: ","))"
            }
        }
        var lines: [String] = []
        func withGrantOption() {
            guard let index = lines.indices.last else { return }
            switch grantOption {
            case true?: lines[index] += type == "group" ? " WITH ADMIN OPTION;" : " WITH GRANT OPTION;"
            case false?:
                lines[index] += ";"
                if type == "group" {
                    lines.append("REVOKE ADMIN OPTION FOR \(setWhat) FROM \(forWhom);")
                } else if type != "default_privs" {
                    lines.append("REVOKE GRANT OPTION FOR \(setWhat) FROM \(forWhom);")
                }
            case nil: lines[index] += ";"
            }
        }
        if state == "present" {
            if type == "default_privs" {
                for object in objects {
                    lines.append("ALTER DEFAULT PRIVILEGES\(defaultsFor)\(inSchema) REVOKE ALL ON \(object) FROM \(forWhom);")
                }
                for object in objects {
                    lines.append("ALTER DEFAULT PRIVILEGES\(defaultsFor)\(inSchema) GRANT \(setWhat) ON \(object) TO \(forWhom)")
                    withGrantOption()
                }
            } else {
                lines.append("GRANT \(setWhat) TO \(forWhom)")
                withGrantOption()
            }
        } else if type == "default_privs" {
            for object in ["TABLES", "FUNCTIONS", "SEQUENCES", "TYPES"] {
                lines.append("ALTER DEFAULT PRIVILEGES\(defaultsFor)\(inSchema) REVOKE ALL ON \(object) FROM \(forWhom);")
            }
        } else {
            lines.append("REVOKE \(setWhat) FROM \(forWhom);")
        }
        return lines.joined(separator: "\n")
    }
}
