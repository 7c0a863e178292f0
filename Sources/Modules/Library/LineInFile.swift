import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.lineinfile`: ensures one line is present (or every matching line is absent),
/// following lineinfile.py's present()/absent() line by line.
public enum LineInFileModule: Module {
    public static let declaration = ActionDeclaration(
        name: "lineinfile", qualifiedNames: ["ansible.builtin.lineinfile", "ansible.legacy.lineinfile"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("path", .path, required: true, aliases: ["dest", "destfile", "name"]),
                .init("state", .choice(["absent", "present"]), default: "present"),
                .init("regexp", .string, aliases: ["regex"]),
                .init("search_string", .string),
                .init("line", .string, aliases: ["value"]),
                .init("insertafter", .string),
                .init("insertbefore", .string),
                .init("backrefs", .bool, default: false),
                .init("create", .bool, default: false),
                .init("backup", .bool, default: false),
                .init("firstmatch", .bool, default: false),
                .init("validate", .string),
                .init("owner", .string),
                .init("group", .string),
                .init("mode", .mode),
                .init("seuser", .string), .init("serole", .string), .init("setype", .string), .init("selevel", .string),
                .init("attributes", .string, aliases: ["attr"]),
                .init("unsafe_writes", .bool, default: false),
                .init("others", .string),
            ],
            mutuallyExclusive: [
                ["insertbefore", "insertafter"], ["regexp", "search_string"], ["backrefs", "search_string"],
            ]
        ),
        documentation: ActionDocumentation(
            "Manage lines in text files",
            examples: """
                - name: Keep root from logging in over SSH
                  ansible.builtin.lineinfile:
                    path: /etc/ssh/sshd_config
                    regexp: '^#?PermitRootLogin'
                    line: PermitRootLogin no
                    validate: /usr/sbin/sshd -t -f %s
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let present = args.string("state") != "absent"
        let regexpText = args.string("regexp")
        let search = args.string("search_string")
        let line = args.string("line")
        let backrefs = args.bool("backrefs") ?? false
        if present {
            if backrefs && regexpText == nil { return .failure("regexp is required with backrefs=true") }
            if line == nil { return .failure("line is required with state=present") }
        } else if regexpText == nil && search == nil && line == nil {
            return .failure("one of line, search_string, or regexp is required with state=absent")
        }
        let regexp: PyRegex?
        let insertRegex: PyRegex?
        let insertafter = args.string("insertafter")
        let insertbefore = args.string("insertbefore")
        do {
            regexp = try regexpText.map { try PyRegex($0) }
            if let a = insertafter, a != "BOF", a != "EOF" {
                insertRegex = try PyRegex(a)
            } else if let b = insertbefore, b != "BOF" {
                insertRegex = try PyRegex(b)
            } else {
                insertRegex = nil
            }
        } catch {
            return .failure("invalid regular expression: \(error)")
        }

        let loaded = try await TextFileEdit.load(path, args: args, context: context)
        if let failure = directoryFailure(loaded, path) { return failure }
        var lines: [String]
        var msg = ""
        var values: OrderedDictionary<String, Value> = [:]
        if present {
            if !loaded.exists && !(args.bool("create") ?? false) {
                return .failure("Destination \(path) does not exist !", values: ["rc": 257])
            }
            lines = TextFileEdit.lines(loaded.text ?? "")
            msg = Self.present(
                &lines, regexp: regexp, search: search, line: line ?? "", insertafter: insertafter,
                insertbefore: insertbefore, insertRegex: insertRegex, backrefs: backrefs,
                firstmatch: args.bool("firstmatch") ?? false)
        } else {
            guard loaded.exists else { return ModuleResult(changed: false, msg: "file not present") }
            lines = TextFileEdit.lines(loaded.text ?? "")
            var found = 0
            lines.removeAll { current in
                let hit: Bool
                if let regexp {
                    hit = regexp.matches(current)
                } else if let search {
                    hit = current.contains(search)
                } else {
                    hit = TextFileEdit.chomp(current) == line
                }
                if hit { found += 1 }
                return hit
            }
            if found > 0 { msg = "\(found) line(s) removed" }
            values["found"] = .int(found)
        }
        let newText = lines.joined()
        // An absent file that stays absent (nothing to add) is not created.
        if !loaded.exists && newText.isEmpty && msg.isEmpty { return ModuleResult(changed: false, msg: msg) }
        let outcome = try await TextFileEdit.apply(loaded, newText: newText, args: args, context: context)
        if let failure = outcome.failure { return failure }
        let changed = outcome.changed || outcome.attributesChanged
        values["backup"] = .string(outcome.backupFile ?? "")
        return ModuleResult(
            changed: changed,
            msg: TextFileEdit.message(msg, changed: outcome.changed, attributesChanged: outcome.attributesChanged),
            values: values,
            diffs: context.diffMode ? TextFileEdit.contentDiff(before: loaded.text, after: newText, path: path) : [])
    }

    /// lineinfile.py's present(): edits `lines` and returns the message ("" when unchanged).
    static func present(
        _ lines: inout [String], regexp: PyRegex?, search: String?, line: String, insertafter: String?,
        insertbefore: String?, insertRegex: PyRegex?, backrefs: Bool, firstmatch: Bool
    ) -> String {
        var index = (-1, -1)
        var match: NSTextCheckingResult?
        var matchedLine = ""
        var searchMatched = false
        var exactLineMatch = false
        if let regexp {
            for (n, current) in lines.enumerated() {
                if let m = regexp.firstMatch(current) {
                    index.0 = n
                    match = m
                    matchedLine = current
                    if firstmatch { break }
                }
            }
        }
        if let search {
            for (n, current) in lines.enumerated() where current.contains(search) {
                index.0 = n
                searchMatched = true
                if firstmatch { break }
            }
        }
        if match == nil && !searchMatched {
            for (n, current) in lines.enumerated() {
                if TextFileEdit.chomp(current) == line {
                    index.0 = n
                    exactLineMatch = true
                } else if let insertRegex, insertRegex.matches(current) {
                    if insertafter != nil {
                        index.1 = n + 1
                        if firstmatch { break }
                    }
                    if insertbefore != nil {
                        index.1 = n
                        if firstmatch { break }
                    }
                }
            }
        }
        let added = "line added"
        if index.0 != -1 {
            var newLine = line
            if backrefs, let match, let regexp { newLine = regexp.expand(line, match: match, in: matchedLine) }
            if !newLine.hasSuffix("\n") { newLine += "\n" }
            if regexp == nil && search == nil && !exactLineMatch {
                // Unreachable in practice (index.0 is only set by a match), kept for parity.
                return ""
            }
            if lines[index.0] != newLine {
                lines[index.0] = newLine
                return "line replaced"
            }
            return ""
        }
        if backrefs { return "" }
        if insertbefore == "BOF" || insertafter == "BOF" {
            lines.insert(line + "\n", at: 0)
            return added
        }
        if insertafter == "EOF" || index.1 == -1 {
            if let last = lines.last, !(last.hasSuffix("\n") || last.hasSuffix("\r")) {
                lines.append("\n")
            }
            lines.append(line + "\n")
            return added
        }
        if insertafter != nil {
            if lines.count == index.1 {
                if TextFileEdit.chomp(lines[index.1 - 1]) != line {
                    lines.append(line + "\n")
                    return added
                }
                return ""
            }
            if TextFileEdit.chomp(lines[index.1]) != line {
                lines.insert(line + "\n", at: index.1)
                return added
            }
            return ""
        }
        lines.insert(line + "\n", at: index.1)
        return added
    }
}
