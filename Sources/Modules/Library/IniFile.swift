import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.ini_file`: one option (or section) in an INI file, following ini_file.py's
/// do_ini() (a fake section at the top for options outside any section, edits in place, new
/// options after the section's last non-blank, non-comment line).
public enum IniFileModule: Module {
    public static let declaration = ActionDeclaration(
        name: "ini_file", qualifiedNames: ["community.general.ini_file"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            [
                .init("path", .path, required: true, aliases: ["dest"]),
                .init("section", .string),
                .init("section_has_values", .list),
                .init("option", .string, aliases: ["key"]),
                .init("value", .string),
                .init("values", .list),
                .init("state", .choice(["absent", "present"]), default: "present"),
                .init("exclusive", .bool, default: true),
                .init("backup", .bool, default: false),
                .init("no_extra_spaces", .bool, default: false),
                .init("ignore_spaces", .bool, default: false),
                .init("allow_no_value", .bool, default: false),
                .init("modify_inactive_option", .bool, default: true),
                .init("create", .bool, default: true),
                .init("follow", .bool, default: false),
                .init("owner", .string),
                .init("group", .string),
                .init("mode", .mode),
                .init("seuser", .string), .init("serole", .string), .init("setype", .string), .init("selevel", .string),
                .init("attributes", .string, aliases: ["attr"]),
                .init("unsafe_writes", .bool, default: false),
            ], mutuallyExclusive: [["value", "values"]]),
        documentation: ActionDocumentation(
            "Tweak settings in INI files",
            examples: """
                - name: Set the repository path for pgBackRest
                  community.general.ini_file:
                    path: /etc/pgbackrest.conf
                    section: global
                    option: repo1-path
                    value: /var/lib/pgbackrest
                    mode: "0640"
                """))

    static let fakeSection = "ad01e11446efb704fcdbdb21f2c43757423d91c5"

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let state = args.string("state") ?? "present"
        let option = args.string("option")
        var values: [String?] = []
        if let value = args.string("value") {
            values = [value]
        } else if let list = args["values"]?.listValue {
            values = list.map { $0.isNull ? nil : $0.pythonString }
        }
        let loaded = try await TextFileEdit.load(path, args: args, context: context)
        if let failure = directoryFailure(loaded, path) { return failure }
        if !loaded.exists && !(args.bool("create") ?? true) {
            return .failure("Destination \(path) does not exist!", values: ["rc": 257])
        }
        var text = loaded.text ?? ""
        // io.open(..., encoding="utf-8-sig") drops a byte-order mark.
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let (newText, msg) = Self.edit(
            text, section: args.string("section"), option: option, values: values, state: state,
            exclusive: args.bool("exclusive") ?? true, noExtraSpaces: args.bool("no_extra_spaces") ?? false,
            ignoreSpaces: args.bool("ignore_spaces") ?? false, allowNoValue: args.bool("allow_no_value") ?? false,
            modifyInactive: args.bool("modify_inactive_option") ?? true)
        let outcome = try await TextFileEdit.apply(loaded, newText: newText, args: args, context: context)
        if let failure = outcome.failure { return failure }
        var result: OrderedDictionary<String, Value> = ["path": .string(path)]
        if let backup = outcome.backupFile { result["backup_file"] = .string(backup) }
        return ModuleResult(
            changed: outcome.changed || outcome.attributesChanged, msg: msg, values: result,
            diffs: context.diffMode ? TextFileEdit.contentDiff(before: loaded.text, after: newText, path: path) : [])
    }

    /// ini_file's match_opt / match_active_opt: groups 1 comment, 3 option, 7 value.
    static func matchOption(_ option: String, _ line: String, inactive: Bool) -> String?? {
        let escaped = NSRegularExpression.escapedPattern(for: option)
        let prefix = inactive ? "([#;]?)" : "()"
        guard let regex = try? PyRegex("^\(prefix)( |\\t)*(\(escaped))( |\\t)*(=|$)( |\\t)*(.*)"),
            let m = regex.firstMatch(line)
        else { return nil }
        let range = m.range(at: 7)
        return .some(range.location == NSNotFound ? "" : (line as NSString).substring(with: range))
    }

    static func edit(
        _ text: String, section sectionArg: String?, option: String?, values valuesIn: [String?], state: String,
        exclusive: Bool, noExtraSpaces: Bool, ignoreSpaces: Bool, allowNoValue: Bool, modifyInactive: Bool
    ) -> (String, String) {
        // do_ini deduplicates the values and drops nulls.
        var values: [String?] = []
        for case let value? in valuesIn where !values.contains(value) { values.append(value) }
        var iniLines = TextFileEdit.lines(text)
        var changed = false
        if iniLines.isEmpty { iniLines.append("\n") }
        if !iniLines[iniLines.count - 1].hasSuffix("\n") {
            iniLines[iniLines.count - 1] += "\n"
            changed = true
        }
        iniLines.insert("[\(fakeSection)]", at: 0)
        iniLines.append("[")
        let section = (sectionArg?.isEmpty ?? true) ? fakeSection : sectionArg!
        var withinSection = false
        var sectionStart = 0
        var sectionEnd = 0
        var msg = "OK"
        func assignment(_ o: String, _ v: String) -> String { noExtraSpaces ? "\(o)=\(v)\n" : "\(o) = \(v)\n" }
        let sectionPattern = try? PyRegex(
            "^\\[\\s*\(NSRegularExpression.escapedPattern(for: section.trimmingCharacters(in: .whitespaces)))\\s*]")
        for (index, line) in iniLines.enumerated() {
            if withinSection && line.hasPrefix("[") {
                sectionEnd = index
                break
            }
            if sectionPattern?.firstMatch(line).map({ $0.range.location == 0 }) == true {
                withinSection = true
                sectionStart = index
            }
        }
        let before = Array(iniLines[0..<sectionStart])
        var sectionLines = Array(iniLines[sectionStart..<sectionEnd])
        let after = Array(iniLines[sectionEnd...])
        var changedLines = Array(repeating: false, count: sectionLines.count)
        var optionNoValuePresent = false
        func matches(_ line: String) -> String?? { option.flatMap { matchOption($0, line, inactive: modifyInactive) } }
        func update(_ index: Int, _ newline: String) {
            var optionChanged: Bool?
            if ignoreSpaces, let o = option, let old = matchOption(o, sectionLines[index], inactive: true),
                !sectionLines[index].hasPrefix("#") && !sectionLines[index].hasPrefix(";")
            {
                optionChanged = old != matchOption(o, newline, inactive: true)
            }
            let did = optionChanged ?? (sectionLines[index] != newline)
            if did {
                sectionLines[index] = newline
                changed = true
                msg = "option changed"
            }
            changedLines[index] = true
        }

        if state == "present", let option {
            for index in sectionLines.indices {
                guard let found = matches(sectionLines[index]) else { continue }
                if !values.isEmpty, let matched = found, let at = values.firstIndex(of: matched) {
                    if matched.isEmpty && allowNoValue {
                        update(index, "\(option)\n")
                        optionNoValuePresent = true
                    } else {
                        update(index, assignment(option, matched))
                    }
                    values.remove(at: at)
                } else if values.isEmpty && allowNoValue {
                    update(index, "\(option)\n")
                    optionNoValuePresent = true
                    break
                }
            }
        }
        if state == "present" && exclusive && !allowNoValue {
            if !values.isEmpty {
                for index in sectionLines.indices where !changedLines[index] && matches(sectionLines[index]) != nil {
                    update(index, assignment(option ?? "", values.removeFirst() ?? ""))
                    if values.isEmpty { break }
                }
            }
            var index = sectionLines.count - 1
            while index > 0 {
                if !changedLines[index] && matches(sectionLines[index]) != nil {
                    sectionLines.remove(at: index)
                    changedLines.remove(at: index)
                    changed = true
                    msg = "option changed"
                }
                index -= 1
            }
        }
        if state == "present" {
            var index = sectionLines.count
            while index > 0 {
                let previous = sectionLines[index - 1]
                let blankOrComment = (try? PyRegex("^[ \\t]*([#;].*)?$"))?.matches(previous) ?? false
                if !blankOrComment {
                    if let option, !values.isEmpty {
                        for element in values.reversed() {
                            if let element {
                                sectionLines.insert(assignment(option, element), at: index)
                                msg = "option added"
                                changed = true
                            } else if allowNoValue {
                                sectionLines.insert("\(option)\n", at: index)
                                msg = "option added"
                                changed = true
                            }
                        }
                    } else if let option, values.isEmpty, allowNoValue, !optionNoValuePresent {
                        sectionLines.insert("\(option)\n", at: index)
                        msg = "option added"
                        changed = true
                    }
                    break
                }
                index -= 1
            }
        }
        if state == "absent" {
            if let option {
                let kept = sectionLines.filter { line in
                    guard let found = matchOption(option, line, inactive: false) else { return true }
                    if exclusive { return false }
                    return !values.contains(found)
                }
                if (exclusive || !values.isEmpty) && kept != sectionLines {
                    changed = true
                    msg = "option changed"
                    sectionLines = kept
                }
            } else if !sectionLines.isEmpty {
                sectionLines = []
                msg = "section removed"
                changed = true
            }
        }
        var result = before + sectionLines + after
        result.removeFirst()
        result.removeLast()
        if !withinSection && state == "present" {
            result.append("[\(section)]\n")
            msg = "section and option added"
            if let option, !values.isEmpty {
                for value in values { result.append(value.map { assignment(option, $0) } ?? "\(option)\n") }
            } else if let option, values.isEmpty, allowNoValue {
                result.append("\(option)\n")
            } else {
                msg = "only section added"
            }
            changed = true
        }
        _ = changed
        return (result.joined(), msg)
    }
}
