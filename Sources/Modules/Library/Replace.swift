import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.replace`: every match of a regular expression (multiline), optionally only
/// between `after` and `before`, replaced with a Python-style template.
public enum ReplaceModule: Module {
    public static let declaration = ActionDeclaration(
        name: "replace", qualifiedNames: ["ansible.builtin.replace", "ansible.legacy.replace"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("path", .path, required: true, aliases: ["dest", "destfile", "name"]),
            .init("regexp", .string, required: true),
            .init("replace", .string, default: ""),
            .init("after", .string),
            .init("before", .string),
            .init("backup", .bool, default: false),
            .init("validate", .string),
            .init("encoding", .string, default: "utf-8"),
            .init("owner", .string),
            .init("group", .string),
            .init("mode", .mode),
            .init("seuser", .string), .init("serole", .string), .init("setype", .string), .init("selevel", .string),
            .init("attributes", .string, aliases: ["attr"]),
            .init("unsafe_writes", .bool, default: false),
            .init("others", .string),
        ]),
        documentation: ActionDocumentation(
            "Replaces every match of a regular expression in a file",
            examples: """
                - name: Point every mirror at the local one
                  ansible.builtin.replace:
                    path: /etc/apt/sources.list
                    regexp: 'https?://deb\\.debian\\.org'
                    replace: http://mirror.internal
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let loaded = try await TextFileEdit.load(path, args: args, context: context)
        if let failure = directoryFailure(loaded, path) { return failure }
        guard loaded.exists, let contents = loaded.text else {
            return .failure("Path \(path) does not exist !", values: ["rc": 257])
        }
        let after = args.string("after")
        let before = args.string("before")
        var pattern = ""
        if let after, let before {
            pattern = "\(after)(?P<subsection>.*?)\(before)"
        } else if let after {
            pattern = "\(after)(?P<subsection>.*)"
        } else if let before {
            pattern = "(?P<subsection>.*)\(before)"
        }
        let ns = contents as NSString
        var section = contents
        var range = NSRange(location: 0, length: ns.length)
        var newText = contents
        var msg = ""
        do {
            if !pattern.isEmpty {
                let sectionRegex = try PyRegex(pattern, dotAll: true)
                if let match = sectionRegex.firstMatch(contents) {
                    range = match.range(withName: "subsection")
                    section = ns.substring(with: range)
                } else {
                    section = ""
                    range = NSRange(location: 0, length: 0)
                }
            }
            let regex = try PyRegex(args.string("regexp") ?? "", multiline: true)
            let (replaced, count) = regex.substitute(args.string("replace") ?? "", in: section)
            if count > 0 && replaced != section {
                newText = ns.replacingCharacters(in: range, with: replaced)
                msg = "\(count) replacements made"
            }
        } catch {
            return .failure("invalid regular expression: \(error)")
        }
        let outcome = try await TextFileEdit.apply(loaded, newText: newText, args: args, context: context)
        if let failure = outcome.failure { return failure }
        var values: OrderedDictionary<String, Value> = [:]
        if let backup = outcome.backupFile { values["backup_file"] = .string(backup) }
        return ModuleResult(
            changed: outcome.changed || outcome.attributesChanged,
            msg: TextFileEdit.message(msg, changed: outcome.changed, attributesChanged: outcome.attributesChanged),
            values: values,
            diffs: context.diffMode
                ? TextFileEdit.contentDiff(before: contents, after: newText, path: path, header: path) : [])
    }
}
