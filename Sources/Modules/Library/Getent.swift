import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.getent`: reads a name service database into `ansible_facts.getent_<database>`.
public enum GetentModule: Module {
    public static let declaration = ActionDeclaration(
        name: "getent", qualifiedNames: ["ansible.builtin.getent", "ansible.legacy.getent"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("database", .string, required: true),
            .init("key", .string),
            .init("split", .string),
            .init("fail_key", .bool, default: true),
            .init("service", .string),
        ]),
        documentation: ActionDocumentation(
            "A wrapper to the unix getent utility",
            examples: """
                - name: Read the passwd database
                  ansible.builtin.getent:
                    database: passwd

                - name: Fail unless the postgres user exists
                  ansible.builtin.getent:
                    database: passwd
                    key: postgres
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let database = try args.requiredString("database")
        var words = ["getent"]
        if let service = args.string("service") { words.append("-s " + shellQuote(service)) }
        words.append(shellQuote(database))
        let key = args.string("key")
        if let key { words.append(shellQuote(key)) }
        let result = try await HostScript.run(context, words.joined(separator: " "))
        let tree = "getent_" + database
        switch result.exitStatus {
        case 0: break
        case 1: return .failure("Missing arguments, or database unknown.")
        case 2:
            let msg = "One or more supplied key could not be found in the database."
            if args.bool("fail_key") == false, let key {
                return ModuleResult(msg: msg, values: ["ansible_facts": .dict([tree: .dict([key: .null])])])
            }
            return .failure(msg)
        case 3: return .failure("Enumeration not supported on this database.")
        default: return .failure("Unexpected failure!", values: HostScript.stdoutValues(result))
        }
        // Python's str.split(None) for databases without a colon format, as Ansible does.
        let colon = ["passwd", "shadow", "group", "gshadow"]
        let split = args.string("split") ?? (colon.contains(database) ? ":" : nil)
        var entries = OrderedDictionary<String, Value>()
        var seen: [String: Int] = [:]
        for line in result.stdoutText.split(separator: "\n") {
            let record: [String] =
                split.map { line.components(separatedBy: $0) }
                ?? line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = record.first else { continue }
            let rest = Value.list(record.dropFirst().map { .string($0) })
            // Ansible keeps the records of a repeated key as a list of lists.
            seen[first, default: 0] += 1
            if seen[first] == 1 {
                entries[first] = rest
            } else {
                let earlier = seen[first] == 2 ? [entries[first]!] : entries[first]!.listValue ?? []
                entries[first] = .list(earlier + [rest])
            }
        }
        return ModuleResult(values: ["ansible_facts": .dict([tree: .dict(entries)])])
    }
}
