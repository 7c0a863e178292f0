import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.blockinfile`: a block of lines between two marker lines, as blockinfile.py.
public enum BlockInFileModule: Module {
    public static let declaration = ActionDeclaration(
        name: "blockinfile", qualifiedNames: ["ansible.builtin.blockinfile", "ansible.legacy.blockinfile"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("path", .path, required: true, aliases: ["dest", "destfile", "name"]),
                .init("state", .choice(["absent", "present"]), default: "present"),
                .init("marker", .string, default: "# {mark} ANSIBLE MANAGED BLOCK"),
                .init("block", .string, default: "", aliases: ["content"]),
                .init("insertafter", .string),
                .init("insertbefore", .string),
                .init("create", .bool, default: false),
                .init("backup", .bool, default: false),
                .init("marker_begin", .string, default: "BEGIN"),
                .init("marker_end", .string, default: "END"),
                .init("append_newline", .bool, default: false),
                .init("prepend_newline", .bool, default: false),
                .init("validate", .string),
                .init("owner", .string),
                .init("group", .string),
                .init("mode", .mode),
                .init("seuser", .string), .init("serole", .string), .init("setype", .string), .init("selevel", .string),
                .init("attributes", .string, aliases: ["attr"]),
                .init("unsafe_writes", .bool, default: false),
            ], mutuallyExclusive: [["insertbefore", "insertafter"]]),
        documentation: ActionDocumentation(
            "Insert/update/remove a text block surrounded by marker lines",
            examples: """
                - name: Keep the cluster's addresses in /etc/hosts
                  ansible.builtin.blockinfile:
                    path: /etc/hosts
                    marker: "# {mark} CLUSTER HOSTS"
                    block: |
                      10.0.0.11 node1
                      10.0.0.12 node2
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let present = args.string("state") != "absent"
        let loaded = try await TextFileEdit.load(path, args: args, context: context)
        if let failure = directoryFailure(loaded, path) { return failure }
        if !loaded.exists {
            if !present { return ModuleResult(changed: false, msg: "File \(path) not present") }
            if !(args.bool("create") ?? false) {
                return .failure("Path \(path) does not exist !", values: ["rc": 257])
            }
        }
        var insertafter = args.string("insertafter")
        let insertbefore = args.string("insertbefore")
        if insertafter == nil && insertbefore == nil { insertafter = "EOF" }
        let insertRegex: PyRegex?
        do {
            if let a = insertafter, a != "EOF" {
                insertRegex = try PyRegex(a)
            } else if let b = insertbefore, b != "BOF" {
                insertRegex = try PyRegex(b)
            } else {
                insertRegex = nil
            }
        } catch {
            return .failure("invalid regular expression: \(error)")
        }
        let marker = args.string("marker") ?? "# {mark} ANSIBLE MANAGED BLOCK"
        let marker0 = marker.replacingOccurrences(of: "{mark}", with: args.string("marker_begin") ?? "BEGIN") + "\n"
        let marker1 = marker.replacingOccurrences(of: "{mark}", with: args.string("marker_end") ?? "END") + "\n"
        var block = args.string("block") ?? ""
        var blockLines: [String] = []
        if present && !block.isEmpty {
            if !block.hasSuffix("\n") && !block.hasSuffix("\r") { block += "\n" }
            blockLines = [marker0] + TextFileEdit.lines(block) + [marker1]
        }
        var lines = TextFileEdit.lines(loaded.text ?? "")
        var n0: Int?
        var n1: Int?
        for (i, line) in lines.enumerated() {
            if line == marker0 { n0 = i }
            if line == marker1 { n1 = i }
        }
        var at: Int
        if let begin = n0, let end = n1 {
            if begin < end {
                lines.removeSubrange(begin...end)
                at = begin
            } else {
                lines.removeSubrange(end...begin)
                at = end
            }
        } else if let insertRegex {
            var found: Int?
            for (i, line) in lines.enumerated() where insertRegex.matches(line) { found = i }
            if let found {
                at = insertafter != nil ? found + 1 : found
            } else {
                at = lines.count
            }
        } else if insertbefore != nil {
            at = 0
        } else {
            at = lines.count
        }
        if at > 0 && !lines[at - 1].hasSuffix("\n") { lines[at - 1] += "\n" }
        if !blockLines.isEmpty {
            // prepend/append_newline add a blank line only where there is not one already.
            if args.bool("prepend_newline") == true && at > 0 && lines[at - 1] != "\n" {
                blockLines.insert("\n", at: 0)
            }
            if args.bool("append_newline") == true && at < lines.count && lines[at] != "\n" {
                blockLines.append("\n")
            }
        }
        lines.insert(contentsOf: blockLines, at: at)
        let result = lines.joined()
        let msg: String
        if loaded.text == result {
            msg = ""
        } else if !loaded.exists {
            msg = "File created"
        } else if blockLines.isEmpty {
            msg = "Block removed"
        } else {
            msg = "Block inserted"
        }
        let outcome = try await TextFileEdit.apply(loaded, newText: result, args: args, context: context)
        if let failure = outcome.failure { return failure }
        var values: OrderedDictionary<String, Value> = [:]
        if let backup = outcome.backupFile { values["backup_file"] = .string(backup) }
        return ModuleResult(
            changed: outcome.changed || outcome.attributesChanged,
            msg: TextFileEdit.message(msg, changed: outcome.changed, attributesChanged: outcome.attributesChanged),
            values: values,
            diffs: context.diffMode ? TextFileEdit.contentDiff(before: loaded.text, after: result, path: path) : [])
    }
}
