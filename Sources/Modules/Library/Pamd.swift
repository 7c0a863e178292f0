import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.general.pamd`: edits one rule (or its arguments) of a PAM service file, parsed and
/// written back as the collection's module does: every rule re-rendered in its `type(11) control
/// path args` layout and a `# Updated by Ansible - <time>` mark as the second line. One round trip
/// reads the file (and the host's clock); one writes it.
public enum PamdModule: Module {
    static let validTypes = ["account", "-account", "auth", "-auth", "password", "-password", "session", "-session"]

    public static let declaration = ActionDeclaration(
        name: "pamd", qualifiedNames: ["community.general.pamd"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([
            .init("name", .string, required: true, help: "The service file under `path`, e.g. sshd."),
            .init("type", .choice(validTypes), required: true),
            .init("control", .string, required: true),
            .init("module_path", .string, required: true),
            .init("new_type", .choice(validTypes)),
            .init("new_control", .string),
            .init("new_module_path", .string),
            .init("module_arguments", .list),
            .init("state", .choice(["absent", "after", "args_absent", "args_present", "before", "updated"]), default: "updated"),
            .init("path", .path, default: "/etc/pam.d"),
            .init("backup", .bool, default: false),
        ]),
        documentation: ActionDocumentation(
            "Manage PAM Modules",
            examples: """
                - name: Lock accounts after failed logins
                  community.general.pamd:
                    name: common-auth
                    type: auth
                    control: required
                    module_path: pam_unix.so
                    new_type: auth
                    new_control: required
                    new_module_path: pam_faillock.so
                    module_arguments: [preauth, silent, deny=5]
                    state: before

                - name: No dynamic motd over SSH
                  community.general.pamd:
                    name: sshd
                    type: session
                    control: optional
                    module_path: pam_motd.so
                    state: absent
                """))

    /// One line of the file: a rule, or anything else kept as written.
    enum Line {
        case text(String, kind: Kind)
        case rule(Rule)

        enum Kind { case comment, include, empty }
    }

    struct Rule {
        var type: String
        /// Simple (`required`) or the words of a bracketed control (`success=1`, `default=ignore`).
        var control: Either
        var path: String
        var args: [String]

        enum Either: Equatable {
            case simple(String)
            case complex([String])
        }

        init(type: String, control: String, path: String, args: [String]) {
            self.type = type
            self.control = Rule.parseControl(control)
            self.path = path
            self.args = PamdModule.arguments(args)
        }

        static func parseControl(_ text: String) -> Either {
            guard text.hasPrefix("[") else { return .simple(text) }
            let inner = text.replacingOccurrences(of: " = ", with: "=").replacingOccurrences(of: "[", with: "")
                .replacingOccurrences(of: "]", with: "")
            return .complex(inner.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
        }

        var controlText: String {
            switch control {
            case .simple(let text): return text
            case .complex(let words): return "[" + words.joined(separator: " ") + "]"
            }
        }

        func matches(_ type: String, _ control: String, _ path: String) -> Bool {
            type == self.type && control == controlText && path == self.path
        }

        /// `'{0: <11}{1} {2} {3}'`.
        var rendered: String {
            let padded = type.count < 11 ? type + String(repeating: " ", count: 11 - type.count) : type
            return padded + controlText + " " + path + (args.isEmpty ? "" : " " + args.joined(separator: " "))
        }

        var problem: String? {
            if !PamdModule.validTypes.contains(type) { return "Rule type, \(type), is not valid in rule \(rendered)" }
            switch control {
            case .simple(let text):
                let simple = ["required", "requisite", "sufficient", "optional", "include", "substack", "definitive"]
                if !simple.contains(text) { return "Rule control, \(text), is not valid in rule \(rendered)" }
            case .complex(let words):
                for word in words {
                    let pair = word.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
                    guard pair.count == 2 else { return "Rule control value, \(word), is not valid in rule \(rendered)" }
                    if !PamdModule.controlValues.contains(pair[0]) {
                        return "Rule control value, \(pair[0]), is not valid in rule \(rendered)"
                    }
                    if !["ignore", "bad", "die", "ok", "done", "reset"].contains(pair[1]) && !(Int(pair[1]).map { $0 >= 0 } ?? false) {
                        return "Rule control action, \(pair[1]), is not valid in rule \(rendered)"
                    }
                }
            }
            return nil
        }
    }

    static let controlValues: Set<String> = [
        "success", "open_err", "symbol_err", "service_err", "system_err", "buf_err", "perm_denied", "auth_err",
        "cred_insufficient", "authinfo_unavail", "user_unknown", "maxtries", "new_authtok_reqd", "acct_expired",
        "session_err", "cred_unavail", "cred_expired", "cred_err", "no_module_data", "conv_err", "authtok_err",
        "authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again", "ignore", "abort",
        "authtok_expired", "module_unknown", "bad_item", "conv_again", "incomplete", "default",
    ]

    /// `parse_module_arguments`: each argument split into its words, a bracketed one kept whole.
    static func arguments(_ items: [String]) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #"(\[.*\]|\S*)"#) else { return items }
        return items.flatMap { item in
            regex.matches(in: item, range: NSRange(item.startIndex..., in: item)).compactMap { match in
                Range(match.range, in: item).map { String(item[$0]) }
            }.filter { !$0.isEmpty }
        }
    }

    static func parse(_ content: String) -> [Line]? {
        guard let rule = try? NSRegularExpression(
            pattern: #"(-?(?:auth|account|session|password))\s+(\[.*\]|\S*)\s+(\S*)\s*(.*)\s*"#)
        else { return nil }
        var lines: [Line] = []
        var text = content
        if text.hasSuffix("\n") { text.removeLast() }
        guard !content.isEmpty else { return [] }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#") {
                lines.append(.text(line, kind: .comment))
            } else if trimmed.hasPrefix("@include") {
                lines.append(.text(line, kind: .include))
            } else if line.trimmingCharacters(in: .whitespaces).isEmpty {
                lines.append(.text(line, kind: .empty))
            } else {
                guard let match = rule.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else { return nil }
                func group(_ index: Int) -> String { Range(match.range(at: index), in: line).map { String(line[$0]) } ?? "" }
                lines.append(.rule(Rule(type: group(1), control: group(2), path: group(3), args: [group(4)])))
            }
        }
        return lines
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let type = try args.requiredString("type")
        let control = try args.requiredString("control")
        let modulePath = try args.requiredString("module_path")
        let state = try args.requiredString("state")
        let given = args.stringItemsKeepingEmpty("module_arguments")
        switch state {
        case "args_present", "args_absent":
            if given == nil { return .failure("state is \(state) but all of the following are missing: module_arguments") }
        case "before", "after":
            let missing = ["new_control", "new_type", "new_module_path"].filter { args.string($0) == nil }
            if !missing.isEmpty { return .failure("state is \(state) but all of the following are missing: \(missing.joined(separator: ", "))") }
        default: break
        }
        let file = (try args.requiredString("path") as NSString).appendingPathComponent(try args.requiredString("name"))
        let loaded = try await TextFileEdit.load(file, args: ModuleArguments([:]), context: context, extras: ["date '+%Y-%m-%dT%H:%M:%S.%6N'"])
        guard let content = loaded.text else {
            return .failure("Unable to open/read PAM module file \(file) with error [Errno 2] No such file or directory: '\(file)'.")
        }
        guard var lines = parse(content) else { return .failure("Unable to parse the PAM service file \(file)") }
        let matching = lines.indices.filter { if case .rule(let rule) = lines[$0] { return rule.matches(type, control, modulePath) } else { return false } }
        var changes = 0
        func newRule() -> Rule {
            Rule(type: args.string("new_type") ?? "", control: args.string("new_control") ?? "", path: args.string("new_module_path") ?? "",
                 args: given ?? [])
        }
        func neighbour(of index: Int, step: Int) -> Int? {
            var position = index + step
            while lines.indices.contains(position) {
                if case .text(_, let kind) = lines[position], kind != .include { position += step } else { return position }
            }
            return nil
        }
        func ruleMatchesNew(_ index: Int) -> Bool {
            guard case .rule(let rule) = lines[index] else { return false }
            return rule.matches(args.string("new_type") ?? "", args.string("new_control") ?? "", args.string("new_module_path") ?? "")
        }
        switch state {
        case "updated":
            let newArgs = given.map { $0.count == 1 && $0[0].isEmpty ? [] : arguments($0) }
            for index in matching {
                guard case .rule(var rule) = lines[index] else { continue }
                // As update_rule: each given field that differs is set, and counts as a change.
                var changed = false
                if let value = args.string("new_type"), !value.isEmpty, rule.type != value { (rule.type, changed) = (value, true) }
                if let value = args.string("new_control"), !value.isEmpty, rule.controlText != value {
                    (rule.control, changed) = (Rule.parseControl(value), true)
                }
                if let value = args.string("new_module_path"), !value.isEmpty, rule.path != value { (rule.path, changed) = (value, true) }
                if let newArgs, rule.args != newArgs { (rule.args, changed) = (newArgs, true) }
                if changed { changes += 1 }
                lines[index] = .rule(rule)
            }
        case "before":
            // Later matches first, so earlier indices stay valid. As the module's linked list does,
            // the new rule goes right after the previous rule: comments in between are lost.
            for index in matching.reversed() {
                if let previous = neighbour(of: index, step: -1) {
                    if ruleMatchesNew(previous) { continue }
                    lines.replaceSubrange((previous + 1)..<index, with: [.rule(newRule())])
                } else {
                    lines.insert(.rule(newRule()), at: index)
                }
                changes += 1
            }
        case "after":
            for index in matching.reversed() {
                let next = neighbour(of: index, step: 1)
                if let next, ruleMatchesNew(next) { continue }
                lines.replaceSubrange((index + 1)..<(next ?? lines.count), with: [.rule(newRule())])
                changes += 1
            }
        case "args_present":
            let wanted = arguments(given ?? [])
            if wanted.contains(where: { $0.hasPrefix("[") }) {
                return .failure("Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'.")
            }
            for index in matching {
                guard case .rule(var rule) = lines[index] else { continue }
                var changed = false
                let current = rule.args.filter { !$0.hasPrefix("[") }
                let currentPairs = Dictionary(current.filter { $0.contains("=") }.map { pair($0) }, uniquingKeysWith: { $1 })
                var added: [String] = []
                for argument in wanted where !argument.contains("=") && !current.contains(argument) && !added.contains(argument) {
                    added.append(argument)
                }
                for argument in wanted where argument.contains("=") {
                    let (key, value) = pair(argument)
                    if let old = currentPairs[key] {
                        if old != value, let at = rule.args.firstIndex(of: key + "=" + old) {
                            rule.args[at] = key + "=" + value
                            changed = true
                        }
                    } else if !added.contains(key + "=" + value) {
                        added.append(key + "=" + value)
                    }
                }
                if !added.isEmpty {
                    rule.args += added
                    changed = true
                }
                if changed { changes += 1 }
                lines[index] = .rule(rule)
            }
        case "args_absent":
            let unwanted = Set(arguments(given ?? []))
            for index in matching {
                guard case .rule(var rule) = lines[index], !Set(rule.args).isDisjoint(with: unwanted) else { continue }
                rule.args.removeAll { unwanted.contains($0) }
                lines[index] = .rule(rule)
                changes += 1
            }
        default:
            for index in matching.reversed() { lines.remove(at: index) }
            changes = matching.count
        }
        for line in lines {
            switch line {
            case .rule(let rule):
                if let problem = rule.problem { return .failure(problem) }
            case .text(let text, let kind):
                let valid = kind == .empty || (kind == .comment && text.hasPrefix("#")) || (kind == .include && text.hasPrefix("@include"))
                if !valid { return .failure("Rule is not valid " + text) }
            }
        }
        var values: OrderedDictionary<String, Value> = ["change_count": .int(changes), "backupdest": ""]
        guard changes > 0, !context.checkMode else { return ModuleResult(changed: changes > 0, values: values) }
        var rendered = lines.map { line -> String in
            switch line {
            case .rule(let rule): return rule.rendered
            case .text(let text, _): return text
            }
        }
        let mark = "# Updated by Ansible - " + isoTime(loaded.extras.first ?? "")
        if rendered.count <= 1 {
            rendered.insert(contentsOf: ["", mark], at: 0)
        } else if rendered[1].hasPrefix("# Updated by Ansible") {
            rendered[1] = mark
        } else {
            rendered.insert(mark, at: 1)
        }
        let outcome = try await TextFileEdit.apply(
            loaded, newText: rendered.joined(separator: "\n") + "\n",
            args: ModuleArguments(["backup": .bool(try args.requiredBool("backup"))]), context: context)
        if let failure = outcome.failure { return failure }
        if let backup = outcome.backupFile { values["backupdest"] = .string(backup) }
        return ModuleResult(changed: true, values: values)
    }

    static func pair(_ argument: String) -> (String, String) {
        let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "")
    }

    /// Python's `datetime.isoformat()`: microseconds only when there are some.
    static func isoTime(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.hasSuffix(".000000") ? String(trimmed.dropLast(7)) : trimmed
    }
}

extension ModuleArguments {
    /// A list argument as strings, empty items kept (pamd's `module_arguments: ['']` clears them).
    func stringItemsKeepingEmpty(_ name: String) -> [String]? {
        guard let value = self[name] else { return nil }
        if let list = value.listValue { return list.compactMap(\.pythonString) }
        return value.pythonString.map { [$0] }
    }
}
