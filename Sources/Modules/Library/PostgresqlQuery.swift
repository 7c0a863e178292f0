import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.postgresql.postgresql_query`: runs one statement with positional (`%s`) or named
/// (`%(name)s`) arguments, bound through psql variables (quoted by psql, sent on stdin). Column types
/// come from `\gdesc` in the same psql session, so results are typed as psycopg would return them.
public enum PostgresqlQueryModule: Module {
    public static let declaration = ActionDeclaration(
        name: "postgresql_query", qualifiedNames: ["community.postgresql.postgresql_query"],
        supportsCheckMode: true,
        arguments: ArgumentSpec(
            [
                .init("query", .string, required: true),
                .init("positional_args", .list),
                .init("named_args", .dict),
                .init("db", .string, aliases: ["login_db"]),
                .init("autocommit", .bool, default: false),
                .init("encoding", .string),
                .init("search_path", .list),
                .init("as_single_query", .bool, default: true),
            ] + Postgres.loginArguments, mutuallyExclusive: [["positional_args", "named_args"]]),
        documentation: ActionDocumentation(
            "Run PostgreSQL queries",
            examples: """
                - name: Count the application's users
                  community.postgresql.postgresql_query:
                    db: app
                    query: SELECT count(*) FROM users WHERE active = %s
                    positional_args: [true]
                  become: true
                  become_user: postgres
                  register: active_users
                """))

    static let end = "__pgha_query_end__"
    static let null = "__pgha_null__"

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        var query = try args.requiredString("query").trimmingCharacters(in: .whitespacesAndNewlines)
        while query.hasSuffix(";") { query = String(query.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        var sql = ""
        func bind(_ value: Value, _ variable: String) -> String {
            switch value {
            case .null: return "NULL"
            case .int(let i): return String(i)
            case .double(let d): return JSON.formatDouble(d)
            case .bool(let b): return b ? "TRUE" : "FALSE"
            default:
                sql += Postgres.setVariable(variable, value.pythonString ?? JSON.encode(value))
                return ":'\(variable)'"
            }
        }
        var bound = query
        if let positional = args["positional_args"]?.listValue {
            var result = ""
            var rest = Substring(query)
            var index = 0
            while let range = rest.range(of: "%s") {
                guard index < positional.count else { return .failure("not enough arguments for format string") }
                result += rest[..<range.lowerBound] + bind(positional[index], "pgha_p\(index)")
                rest = rest[range.upperBound...]
                index += 1
            }
            bound = result + rest
        } else if let named = args["named_args"]?.dictValue {
            for (key, value) in named {
                bound = bound.replacingOccurrences(of: "%(\(key))s", with: bind(value, "pgha_n_\(key.filter { $0.isLetter || $0.isNumber || $0 == "_" })"))
            }
        }
        if let path = args.stringItems("search_path"), !path.isEmpty {
            sql += "SET search_path TO " + path.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" }.joined(separator: ", ") + ";\n"
        }
        if let encoding = args.string("encoding") { sql += Postgres.setVariable("pgha_enc", encoding) + "SET client_encoding TO :'pgha_enc';\n" }
        // Check mode runs the statement in a transaction that is rolled back, as Ansible does.
        let transactional = context.checkMode || args.bool("autocommit") != true
        sql += "\(bound) \\gdesc\n\\echo \(end)\n"
        if transactional { sql += "BEGIN;\n" }
        sql += "\\pset format csv\n\\pset tuples_only off\n\\pset null \(null)\n\(bound);\n\\echo \(end) :ROW_COUNT\n"
        if transactional { sql += context.checkMode ? "ROLLBACK;\n" : "COMMIT;\n" }
        let result = try await Postgres.psql(args, db: args.string("db"), sql, context: context)
        guard result.succeeded else { return Postgres.failure(result, "Cannot execute SQL '\(query)'") }
        let sections = result.stdoutText.components(separatedBy: end)
        guard sections.count >= 3 else { return .failure("unexpected psql output: \(result.stdoutText)") }
        var types: [String] = []
        let description = sections[0].trimmingCharacters(in: .newlines)
        let returnsRows = !description.hasPrefix("The command has no result")
        if returnsRows {
            types = Postgres.rows(description).map { $0.count > 1 ? $0.last! : "text" }
        }
        let rowCount = Int(sections[2].split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        var rows: [Value] = []
        if returnsRows {
            let records = parseCSV(sections[1].hasPrefix("\n") ? String(sections[1].dropFirst()) : sections[1])
            if let header = records.first {
                for record in records.dropFirst() {
                    var row = OrderedDictionary<String, Value>()
                    for (index, column) in header.enumerated() where index < record.count {
                        row[column] = typed(record[index], index < types.count ? types[index] : "text")
                    }
                    rows.append(.dict(row))
                }
            }
        }
        let verb = query.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.map { $0.uppercased() } ?? ""
        let status: String
        switch verb {
        case "INSERT": status = "INSERT 0 \(rowCount)"
        case "SELECT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE": status = "\(verb == "WITH" || verb == "VALUES" || verb == "TABLE" ? "SELECT" : verb) \(rowCount)"
        default: status = verb
        }
        var changed = false
        if !status.hasPrefix("SELECT") {
            changed = ["INSERT", "UPDATE", "DELETE", "MERGE"].contains(verb) ? rowCount > 0 : true
        }
        let values: OrderedDictionary<String, Value> = [
            "query": .string(bound), "query_list": [.string(try args.requiredString("query"))],
            "query_all_results": .list([.list(rows)]), "query_result": .list(rows),
            "rowcount": .int(returnsRows ? rows.count : rowCount), "statusmessage": .string(status),
        ]
        return ModuleResult(changed: changed, values: values)
    }

    static func typed(_ text: String, _ type: String) -> Value {
        if text == null { return .null }
        switch type {
        case "integer", "smallint", "bigint", "oid": return Int(text).map { .int($0) } ?? .string(text)
        case "real", "double precision", "numeric": return Double(text).map { .double($0) } ?? .string(text)
        case "boolean": return .bool(text == "t")
        case "json", "jsonb": return (try? JSON.decode(text)) ?? .string(text)
        default: return .string(text)
        }
    }

    /// psql's CSV: quoted fields may hold commas, doubled quotes and newlines.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}
