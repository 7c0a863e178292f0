import Declarations
import Foundation
import OrderedCollections
import PGHACore

/// Playbook files and their plays: `import_playbook`, play keywords and sections, `vars_files`,
/// `serial`; each play ends with the check of its notifications.
struct PlayParser {
    let session: LoadSession
    private var keywords: KeywordParser { session.keywords }

    /// Whether a playbook entry's key is `import_playbook` (short or fully qualified).
    func isImportPlaybook(_ key: String) -> Bool { session.catalog.declaration(named: key)?.name == "import_playbook" }

    func loadPlaybookFile(
        _ path: String, outer: Keywords, importVars: OrderedDictionary<String, Value>, importedAt: SourceLocation?
    ) throws -> [Play] {
        try session.enterImport(path, at: importedAt, what: "import_playbook")
        defer { session.leaveImport() }
        guard let root = try session.yaml(path) else {
            throw Diagnostics.error(
                "the playbook is empty: it must be a list of plays", at: importedAt ?? SourceLocation(file: path, line: 1, column: 1))
        }
        guard let items = root.sequenceItems else {
            throw Diagnostics.error(
                "a playbook must be a list of plays, got \(Diagnostics.describe(root))", at: root.location,
                hint: root.isMapping ? "start each play with '- hosts: ...'" : nil)
        }
        if items.isEmpty {
            throw Diagnostics.error("the playbook is empty: it must be a list of plays", at: root.location)
        }
        var plays: [Play] = []
        for item in items {
            plays += try session.attempt([]) { try playbookEntry(item, path: path, outer: outer, importVars: importVars) }
        }
        return plays
    }

    func playbookEntry(
        _ item: YAMLNode, path: String, outer: Keywords, importVars: OrderedDictionary<String, Value>
    ) throws -> [Play] {
        var plays: [Play] = []
        guard item.isMapping else {
            throw Diagnostics.error(
                "playbook entries must be plays or 'import_playbook' statements, got \(Diagnostics.describe(item))",
                at: item.location)
        }
        let itemEntries = session.entries(of: item)
        if let importEntry = itemEntries.first(where: { isImportPlaybook($0.key) }) {
            plays += try importPlaybook(item, itemEntries, importEntry.value, from: path, outer: outer, importVars: importVars)
        } else if let include = itemEntries.first(where: { $0.key == "include" || $0.key == "ansible.builtin.include" }) {
            throw Diagnostics.error(
                "'include' was removed from Ansible; use 'import_playbook'", at: include.keyNode.location)
        } else {
            plays.append(try parsePlay(item, itemEntries, file: path, outer: outer, importVars: importVars))
        }
        return plays
    }

    func importPlaybook(
        _ item: YAMLNode, _ itemEntries: [(key: String, keyNode: YAMLNode, value: YAMLNode)], _ target: YAMLNode,
        from path: String, outer: Keywords, importVars: OrderedDictionary<String, Value>
    ) throws -> [Play] {
        var own = Keywords()
        var vars = importVars
        for entry in itemEntries {
            switch entry.key {
            case _ where isImportPlaybook(entry.key), "name": continue
            case "when": own.when = try keywords.conditions(entry.value, keyword: "when")
            case "tags": own.tags = try keywords.tags(entry.value)
            case "vars":
                for (key, value) in try keywords.varsMapping(entry.value, keyword: "vars") { vars[key] = value }
            default:
                throw Diagnostics.error(
                    "'\(entry.key)' is not a valid attribute for import_playbook"
                        + Diagnostics.suggestion(for: entry.key, in: ["when", "tags", "vars", "name"]),
                    at: entry.keyNode.location, hint: "import_playbook accepts only name, when, tags and vars")
            }
        }
        guard case .string(let name) = target.scalarValue, !name.isEmpty else {
            throw Diagnostics.error("import_playbook needs a file name, got \(Diagnostics.describe(target))", at: target.location)
        }
        if Diagnostics.isTemplated(name) {
            throw Diagnostics.error(
                "import_playbook file names cannot be templated", at: target.location,
                hint: "imports are resolved before any variable exists")
        }
        let directory = PathUtil.directory(of: path)
        let resolved = PathUtil.join(directory, (name as NSString).expandingTildeInPath)
        guard PathUtil.isFile(resolved) else {
            throw Diagnostics.error("imported playbook '\(name)' not found (looked for \(resolved))", at: target.location)
        }
        return try loadPlaybookFile(resolved, outer: outer.inherited(by: own), importVars: vars, importedAt: target.location)
    }

    static let playKeywords = [
        "hosts", "name", "vars", "vars_files", "vars_prompt", "roles", "pre_tasks", "tasks", "post_tasks", "handlers",
        "gather_facts", "gather_subset", "gather_timeout", "fact_path", "become", "become_user", "become_method",
        "become_flags", "become_exe", "serial", "strategy", "any_errors_fatal", "max_fail_percentage",
        "force_handlers", "tags", "environment", "check_mode", "diff", "no_log", "ignore_errors",
        "ignore_unreachable", "order", "remote_user", "connection", "port", "collections", "module_defaults",
        "run_once", "throttle", "timeout", "debugger",
    ]

    func parsePlay(
        _ node: YAMLNode, _ playEntries: [(key: String, keyNode: YAMLNode, value: YAMLNode)], file: String,
        outer: Keywords, importVars: OrderedDictionary<String, Value>
    ) throws -> Play {
        session.resetPlayState()
        var play = Play(location: node.location, hosts: .null)
        var own = Keywords()
        var hostsSeen = false
        var sections: [String: YAMLNode] = [:]
        let playKeywordSet = Set(Self.playKeywords)
        for entry in playEntries {
            let key = entry.key
            let value = entry.value
            guard playKeywordSet.contains(key) else {
                var hint: String? = nil
                if session.catalog.declaration(named: key) != nil || TaskParser.taskKeywords.contains(key) {
                    hint = "'\(key)' belongs to a task: list tasks under 'tasks:'"
                }
                throw Diagnostics.error(
                    "'\(key)' is not a valid attribute for a play" + Diagnostics.suggestion(for: key, in: Self.playKeywords),
                    at: entry.keyNode.location, hint: hint)
            }
            switch key {
            case "hosts":
                hostsSeen = true
                play.hosts = try hostPattern(value)
            case "name":
                play.name = try keywords.nameText(value)
            case "vars":
                for (name, v) in try keywords.varsMapping(value, keyword: "vars", allowList: true) { play.vars[name] = v }
            case "vars_files":
                play.varsFiles = try varsFiles(value, playFile: file)
            case "vars_prompt":
                throw Diagnostics.error(
                    "vars_prompt is not supported: runs must not wait for input", at: entry.keyNode.location,
                    hint: "pass the value with --extra-vars (-e) instead")
            case "roles", "pre_tasks", "tasks", "post_tasks", "handlers":
                sections[key] = value
            case "gather_facts":
                play.gatherFacts = try keywords.boolish(value, keyword: key)
            case "gather_subset":
                play.gatherSubset = try keywords.stringList(value, keyword: key, splitCommas: true)
            case "gather_timeout":
                play.gatherTimeout = try keywords.intish(value, keyword: key)
            case "fact_path":
                play.factPath = value.value
            case "serial":
                play.serial = try serial(value)
            case "strategy":
                guard case .string(let text) = value.scalarValue, session.strategies.contains(text) else {
                    throw Diagnostics.error(
                        "unsupported strategy '\(value.scalarText ?? Diagnostics.describe(value))': use "
                            + session.strategies.map { "'\($0)'" }.joined(separator: ", "),
                        at: value.location)
                }
                play.strategy = text
            case "any_errors_fatal":
                let v = try keywords.boolish(value, keyword: key)
                own.anyErrorsFatal = v
                if case .bool(let b)? = v { play.anyErrorsFatal = b }
            case "max_fail_percentage":
                play.maxFailPercentage = try percentage(value)
            case "force_handlers":
                let v = try keywords.boolish(value, keyword: key)
                if case .bool(let b)? = v {
                    play.forceHandlers = b
                } else if v != nil {
                    throw Diagnostics.error("force_handlers must be true or false, not a template", at: value.location)
                }
            case "order":
                let orders = ["inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle"]
                guard case .string(let text) = value.scalarValue, orders.contains(text) else {
                    throw Diagnostics.error(
                        "invalid order '\(value.scalarText ?? Diagnostics.describe(value))': use one of \(orders.joined(separator: ", "))",
                        at: value.location)
                }
                play.order = text
            case "collections":
                _ = try keywords.commonKeyword(key, value, into: &own)
            default:
                guard try keywords.commonKeyword(key, value, into: &own) else {
                    throw Diagnostics.error("'\(key)' is not a valid attribute for a play", at: entry.keyNode.location)
                }
                switch key {
                case "remote_user": play.remoteUser = own.extra[key]
                case "connection": play.connection = own.extra[key]
                case "port": play.port = own.extra[key]
                case "module_defaults": play.moduleDefaults = own.extra[key]
                default: break
                }
            }
        }
        guard hostsSeen else {
            throw Diagnostics.error("the play has no 'hosts:': it is required", at: node.location)
        }
        for (name, value) in importVars { play.vars[name] = value }
        let keywords = outer.inherited(by: own)
        play.keywords = keywords
        let scope = Scope(
            file: file, playDirectory: PathUtil.directory(of: file), role: nil, keywords: keywords, handlers: false,
            depth: 0)
        if let roles = sections["roles"] { play.roles = try session.roles.roleEntries(roles, scope: scope) }
        if let node = sections["pre_tasks"] { play.preTasks = try session.tasks.taskList(node, scope: scope, section: "pre_tasks") }
        if let node = sections["tasks"] { play.tasks = try session.tasks.taskList(node, scope: scope, section: "tasks") }
        if let node = sections["post_tasks"] { play.postTasks = try session.tasks.taskList(node, scope: scope, section: "post_tasks") }
        var handlerScope = scope
        handlerScope.handlers = true
        var playHandlers: [Task] = []
        if let node = sections["handlers"] {
            playHandlers = try HandlerCheck.flattenHandlers(try session.tasks.taskList(node, scope: handlerScope, section: "handlers"))
        }
        // A role imported twice brings its handlers once: one notification, one run.
        var seenHandlers = Set<SourceLocation>()
        play.handlers = session.roleHandlers.filter { seenHandlers.insert($0.location).inserted } + playHandlers
        try session.handlerCheck.checkNotifications(play)
        return play
    }

    func hostPattern(_ node: YAMLNode) throws -> Value {
        switch node.content {
        case .scalar:
            let text: String
            switch node.scalarValue {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            default:
                throw Diagnostics.error("'hosts' must be a host pattern, got \(Diagnostics.describe(node))", at: node.location)
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty {
                throw Diagnostics.error("'hosts' is empty", at: node.location)
            }
            return .string(text)
        case .sequence(let items):
            var parts: [String] = []
            for item in items {
                guard item.isScalar, let text = item.scalarText, !item.scalarValue.isNull else {
                    throw Diagnostics.error(
                        "'hosts' list entries must be host patterns, got \(Diagnostics.describe(item))", at: item.location)
                }
                parts.append(text)
            }
            if parts.isEmpty { throw Diagnostics.error("'hosts' is an empty list", at: node.location) }
            return .string(parts.joined(separator: ","))
        case .mapping:
            throw Diagnostics.error("'hosts' must be a host pattern, got a mapping", at: node.location)
        }
    }

    func varsFiles(_ node: YAMLNode, playFile: String) throws -> [Value] {
        let items: [YAMLNode]
        switch node.content {
        case .scalar where node.scalarValue.isNull: return []
        case .scalar: items = [node]
        case .sequence(let list): items = list
        case .mapping: throw Diagnostics.error("'vars_files' must be a list of file names, got a mapping", at: node.location)
        }
        let directories = [PathUtil.directory(of: playFile), session.playbookDirectory]
        var result: [Value] = []
        for item in items {
            let alternatives = item.isSequence ? item.sequenceItems ?? [] : [item]
            var names: [String] = []
            for alternative in alternatives {
                guard case .string(let name) = alternative.scalarValue, !name.isEmpty else {
                    throw Diagnostics.error(
                        "'vars_files' entries must be file names, got \(Diagnostics.describe(alternative))",
                        at: alternative.location)
                }
                names.append(name)
            }
            if names.isEmpty {
                throw Diagnostics.error("empty list in 'vars_files'", at: item.location)
            }
            // Templated names are resolved per host at run time; literal ones can be checked now.
            if !names.contains(where: Diagnostics.isTemplated),
                !names.contains(where: { PathUtil.firstFile($0, in: directories) != nil })
            {
                let what = names.count == 1 ? "vars file '\(names[0])' not found" : "none of the vars files \(names) exists"
                throw Diagnostics.error(what + " (searched \(directories.joined(separator: ", ")))", at: item.location)
            }
            result.append(item.value)
        }
        return result
    }

    func serial(_ node: YAMLNode) throws -> [Value] {
        func one(_ item: YAMLNode) throws -> Value {
            switch item.scalarValue {
            case .int(let i) where i >= 0 && item.isScalar: return .int(i)
            case .string(let s):
                if Diagnostics.isTemplated(s) { return .string(s) }
                let trimmed = s.trimmingCharacters(in: .whitespaces)
                if trimmed.hasSuffix("%"), let p = Double(trimmed.dropLast()), p >= 0 { return .string(trimmed) }
                if let i = Int(trimmed), i >= 0 { return .int(i) }
                fallthrough
            default:
                throw Diagnostics.error(
                    "'serial' must be a non-negative number, a percentage such as '30%', or a list of those; got "
                        + (item.scalarText.map { "'\($0)'" } ?? Diagnostics.describe(item)),
                    at: item.location)
            }
        }
        switch node.content {
        case .sequence(let items):
            if items.isEmpty { throw Diagnostics.error("'serial' is an empty list", at: node.location) }
            return try items.map(one)
        case .scalar where node.scalarValue.isNull: return []
        default: return [try one(node)]
        }
    }

    func percentage(_ node: YAMLNode) throws -> Double? {
        let number: Double?
        switch node.scalarValue {
        case .null: return nil
        case .int(let i): number = Double(i)
        case .double(let d): number = d
        case .string(let s): number = Double(s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: ""))
        default: number = nil
        }
        guard node.isScalar, let value = number, value >= 0, value <= 100 else {
            throw Diagnostics.error(
                "'max_fail_percentage' must be a number from 0 to 100, got "
                    + (node.scalarText.map { "'\($0)'" } ?? Diagnostics.describe(node)),
                at: node.location)
        }
        return value
    }
}
