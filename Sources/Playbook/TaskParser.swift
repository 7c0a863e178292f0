import Foundation
import OrderedCollections
import PGHACore

/// Task lists and task files: blocks with rescue/always, and tasks with their keywords and loops.
struct TaskParser {
    let session: LoadSession
    private var keywords: KeywordParser { session.keywords }

    /// Every task keyword (besides module names and `with_*`).
    static let taskKeywords: Set<String> = KeywordParser.inheritableKeywords.union([
        "name", "action", "local_action", "args", "async", "poll", "changed_when", "failed_when", "delay", "retries",
        "until", "delegate_to", "delegate_facts", "loop", "loop_control", "notify", "register", "when", "vars",
        "listen",
    ])

    static let blockKeywords: Set<String> = KeywordParser.inheritableKeywords.union([
        "block", "rescue", "always", "name", "when", "vars", "delegate_to", "delegate_facts", "notify",
    ])

    static let loopKinds: [String: Loop.Kind] = [
        "with_items": .items, "with_list": .list, "with_dict": .dict, "with_indexed_items": .indexedItems,
        "with_together": .together, "with_nested": .nested, "with_cartesian": .nested,
        "with_sequence": .sequence, "with_subelements": .subelements, "with_fileglob": .fileglob,
        "with_lines": .lines,
    ]

    /// The lookups of ansible-core and of community.general (whose short names ansible-core
    /// redirects), which `with_<name>` may name.
    static let ansibleLookups: Set<String> = [
        "config", "csvfile", "dict", "env", "file", "fileglob", "first_found", "indexed_items", "ini", "inventory_hostnames",
        "items", "lines", "list", "nested", "password", "pipe", "random_choice", "sequence", "subelements", "template",
        "together", "unvault", "url", "varnames", "vars", "binary_file", "cartesian", "collection_version", "consul_kv",
        "dependent", "dig", "dnstxt", "etcd", "etcd3", "filetree", "flattened", "hiera", "keyring", "lastpass",
        "merge_variables", "passwordstore", "random_pet", "random_string", "random_words", "redis", "shelvefile",
    ]

    func taskList(_ node: YAMLNode, scope: Scope, section: String) throws -> [TaskNode] {
        switch node.content {
        case .scalar where node.scalarValue.isNull: return []
        case .sequence(let items):
            var result: [TaskNode] = []
            result.reserveCapacity(items.count)
            for item in items { result += try session.attempt([]) { try entry(item, scope: scope) } }
            return result
        default:
            throw Diagnostics.error(
                "'\(section)' must be a list of tasks, got \(Diagnostics.describe(node))", at: node.location,
                hint: node.isMapping ? "start each task with '- '" : nil)
        }
    }

    /// A task file: a list of tasks (an empty file is an empty list).
    func parseTaskFile(_ path: String, scope: Scope, importedAt: SourceLocation?) throws -> [TaskNode] {
        try session.enterImport(path, at: importedAt, what: "import_tasks")
        defer { session.leaveImport() }
        guard let root = try session.yaml(path) else { return [] }
        var fileScope = scope
        fileScope.file = path
        guard root.isSequence || root.scalarValue.isNull && root.isScalar else {
            throw Diagnostics.error(
                "a task file must be a list of tasks, got \(Diagnostics.describe(root))", at: root.location,
                hint: root.isMapping ? "start each task with '- '" : nil)
        }
        return try taskList(root, scope: fileScope, section: "tasks")
    }

    func entry(_ node: YAMLNode, scope: Scope) throws -> [TaskNode] {
        guard node.isMapping else {
            var hint: String? = nil
            if let text = node.scalarValue.stringValue, !text.contains(" ") || text.contains(":") {
                hint = "a task is a mapping such as '- name: ...' followed by the module and its arguments"
            }
            throw Diagnostics.error(
                "a task must be a mapping, got \(Diagnostics.describe(node))"
                    + (node.scalarText.map { $0.isEmpty ? "" : " '\($0)'" } ?? ""),
                at: node.location, hint: hint)
        }
        let taskEntries = session.entries(of: node)
        if taskEntries.isEmpty {
            throw Diagnostics.error("empty task: no module/action detected", at: node.location)
        }
        if taskEntries.contains(where: { $0.key == "block" }) {
            return [try block(node, taskEntries, scope: scope)]
        }
        if let stray = taskEntries.first(where: { $0.key == "rescue" || $0.key == "always" }) {
            throw Diagnostics.error("'\(stray.key)' without 'block' in the same task", at: stray.keyNode.location)
        }
        return try task(node, taskEntries, scope: scope)
    }

    func block(
        _ node: YAMLNode, _ blockEntries: [(key: String, keyNode: YAMLNode, value: YAMLNode)], scope: Scope
    ) throws -> TaskNode {
        guard scope.depth < LoadSession.maxNesting else {
            throw Diagnostics.error("blocks are nested more than \(LoadSession.maxNesting) levels deep", at: node.location)
        }
        var own = Keywords()
        var name: String? = nil
        var sections: [String: YAMLNode] = [:]
        for entry in blockEntries {
            switch entry.key {
            case "block", "rescue", "always": sections[entry.key] = entry.value
            case "name": name = try keywords.nameText(entry.value)
            case "delegate_facts": continue
            case "notify":
                own.notify = try keywords.handlerNames(entry.value, keyword: "notify").map { Expression($0.0, at: $0.1) }
            default:
                if Self.blockKeywords.contains(entry.key), try keywords.commonKeyword(entry.key, entry.value, into: &own) {
                    continue
                }
                let candidates = Array(Self.blockKeywords)
                var hint: String? = nil
                if session.actions.canonical(entry.key) != nil || Self.taskKeywords.contains(entry.key) || entry.key.hasPrefix("with_") {
                    hint = "a block holds tasks: move '\(entry.key)' into a task inside 'block:'"
                }
                throw Diagnostics.error(
                    "'\(entry.key)' is not a valid attribute for a block"
                        + Diagnostics.suggestion(for: entry.key, in: candidates.sorted()),
                    at: entry.keyNode.location, hint: hint)
            }
        }
        if scope.handlers, let section = ["rescue", "always"].first(where: { sections[$0] != nil }) {
            throw Diagnostics.error("'\(section)' is not supported in handlers", at: sections[section]!.location)
        }
        let keywords = scope.keywords.inherited(by: own)
        var inner = scope
        inner.keywords = keywords
        inner.depth += 1
        func section(_ key: String) throws -> [TaskNode] {
            guard let value = sections[key] else { return [] }
            var sectionScope = inner
            if key == "rescue" { sectionScope.inRescue = true }
            return try taskList(value, scope: sectionScope, section: key)
        }
        return .block(
            Block(
                name: name, location: node.location, block: try section("block"), rescue: try section("rescue"),
                always: try section("always"), keywords: keywords, role: scope.role))
    }

    typealias MappingEntry = (key: String, keyNode: YAMLNode, value: YAMLNode)

    func task(_ node: YAMLNode, _ taskEntries: [MappingEntry], scope: Scope) throws -> [TaskNode] {
        var own = Keywords()
        var name: String? = nil
        var actions: [MappingEntry] = []
        var unknown: [MappingEntry] = []
        var argsNode: YAMLNode? = nil
        var loops: [MappingEntry] = []
        var loopControl: YAMLNode? = nil
        var register: String? = nil
        var notify: [(String, SourceLocation)] = []
        var listen: [String] = []
        var changedWhen: [Expression]? = nil
        var failedWhen: [Expression]? = nil
        var until: Expression? = nil
        var retries: Value? = nil
        var delay: Value? = nil
        var extra = OrderedDictionary<String, Value>()

        for entry in taskEntries {
            let value = entry.value
            switch entry.key {
            case "name": name = try keywords.nameText(value)
            case "action", "local_action": actions.append(entry)
            case "args": argsNode = value
            case "register":
                guard case .string(let text) = value.scalarValue, value.isScalar else {
                    if value.scalarValue.isNull && value.isScalar { continue }
                    throw Diagnostics.error(
                        "'register' must be a variable name, got \(Diagnostics.describe(value))", at: value.location)
                }
                guard Diagnostics.isValidVariableName(text) else {
                    throw Diagnostics.error("invalid variable name in 'register': '\(text)'", at: value.location)
                }
                register = text
            case "notify":
                notify += try keywords.handlerNames(value, keyword: "notify")
            case "listen":
                guard scope.handlers || session.listenAnywhere else {
                    throw Diagnostics.error(
                        "'listen' is only valid on handlers", at: entry.keyNode.location)
                }
                listen += try keywords.handlerNames(value, keyword: "listen").map(\.0)
            case "changed_when": changedWhen = try keywords.conditions(value, keyword: entry.key)
            case "failed_when": failedWhen = try keywords.conditions(value, keyword: entry.key)
            case "until":
                let list = try keywords.conditions(value, keyword: entry.key)
                if let first = list.first {
                    until = list.count == 1
                        ? first : Expression(list.map { "(\($0.text))" }.joined(separator: " and "), at: first.location)
                }
            case "retries": retries = try keywords.intish(value, keyword: entry.key)
            case "delay": delay = try keywords.numberish(value, keyword: entry.key)
            case "loop": loops.append(entry)
            case "loop_control": loopControl = value
            case "async": if let v = try keywords.intish(value, keyword: entry.key) { extra[entry.key] = v }
            case "poll": if let v = try keywords.intish(value, keyword: entry.key) { extra[entry.key] = v }
            case "delegate_facts": if let v = try keywords.boolish(value, keyword: entry.key) { extra[entry.key] = v }
            default:
                if Self.taskKeywords.contains(entry.key), try keywords.commonKeyword(entry.key, value, into: &own) { continue }
                if entry.key.hasPrefix("with_") {
                    loops.append(entry)
                } else if session.actions.canonical(entry.key) != nil {
                    actions.append(entry)
                } else {
                    unknown.append(entry)
                }
            }
        }

        let mayNotRun = scope.mayNotRun(ownConditions: own.when, session: session)
        // A module this catalog lacks (yum on a Debian-only run, a collection's module) is only an
        // error if the task runs.
        if mayNotRun, actions.isEmpty, unknown.count == 1, Self.couldBeModuleName(unknown[0].key) {
            actions = unknown
            unknown = []
        }
        if let first = unknown.first {
            var hint: String? = nil
            if let module = actions.first, module.key != "action", module.key != "local_action",
                module.value.scalarValue.isNull
            {
                hint = "module arguments must be indented under '\(module.key):'"
            } else if first.key == "include" {
                hint = "'include' was removed from Ansible: use include_tasks or import_tasks"
            }
            let candidates = Array(Self.taskKeywords) + session.catalog.shortNames
            throw Diagnostics.error(
                "unknown module or keyword '\(first.key)'" + Diagnostics.suggestion(for: first.key, in: candidates.sorted()),
                at: first.keyNode.location, hint: hint)
        }
        if actions.count > 1 {
            if Set(actions.map(\.key)).isSuperset(of: ["action", "local_action"]) {
                throw Diagnostics.error(
                    "action and local_action are mutually exclusive", at: actions[1].keyNode.location)
            }
            throw Diagnostics.error(
                "conflicting action statements: " + actions.map(\.key).joined(separator: ", "),
                at: actions[1].keyNode.location, hint: "a task runs exactly one module; split it into two tasks")
        }
        guard let actionEntry = actions.first else {
            throw Diagnostics.error(
                "no module/action detected in task (keys: " + taskEntries.map(\.key).joined(separator: ", ") + ")",
                at: node.location)
        }
        if loops.count > 1 {
            throw Diagnostics.error(
                "only one loop per task: " + loops.map(\.key).joined(separator: ", "), at: loops[1].keyNode.location)
        }
        if actionEntry.key == "local_action" {
            // Ansible lets local_action win over an explicit delegate_to.
            if let other = own.delegateTo, other != "localhost" {
                session.warn("local_action runs on localhost: delegate_to '\(other.stringValue ?? "")' is ignored", at: actionEntry.keyNode.location)
            }
            own.delegateTo = .string("localhost")
        }

        let normalized = try session.actions.normalizeAction(actionEntry, argsNode: argsNode, acceptUnknown: mayNotRun)
        var deferredError = normalized.unresolved
        var loop: Loop? = nil
        if let loopEntry = loops.first {
            do {
                loop = try parseLoop(loopEntry, control: loopControl)
            } catch let error as PGHAError where mayNotRun {
                deferredError = deferredError ?? error
            }
        }

        let keywords = scope.keywords.inherited(by: own)
        let location = node.location
        switch normalized.action {
        case "import_tasks", "import_role":
            if let loopEntry = loops.first {
                throw Diagnostics.error(
                    "loops cannot be used on '\(normalized.action)'; use '\(normalized.action.replacingOccurrences(of: "import", with: "include"))' instead",
                    at: loopEntry.keyNode.location)
            }
            if normalized.action == "import_tasks" {
                return try session.includes.importTasks(normalized, keywords: keywords, scope: scope, at: actionEntry.value.location)
            }
            return try session.includes.importRole(normalized, own: own, scope: scope, at: location)
        case _ where normalized.unresolved != nil:
            break
        case "include_tasks":
            try session.includes.checkIncludeTasks(
                normalized, scope: scope, at: actionEntry.value.location, mayNotRun: mayNotRun)
        case "include_role":
            try session.includes.checkIncludeRole(normalized, scope: scope, at: location, mayNotRun: mayNotRun)
        case "meta":
            try session.includes.checkMeta(normalized, at: actionEntry.value.location)
        default:
            // Arguments and local files of a task that may not run are checked when it runs.
            if normalized.args["_variable_params"] == nil && !mayNotRun {
                if let declaration = session.catalog.declaration(named: normalized.action), declaration.argumentsCheckedWhenLoaded {
                    _ = try declaration.arguments.validate(
                        normalized.args, module: declaration.name, locations: normalized.locations,
                        taskLocation: location, allowTemplates: true)
                }
                // A loop may feed `item` into the path, and then only the run knows it.
                try session.includes.checkLocalFiles(normalized, scope: scope, at: location)
            }
        }

        var task = Task(
            location: location, action: normalized.action, actionAsWritten: normalized.written,
            args: normalized.args, keywords: keywords)
        task.name = name
        task.inheritedTags = scope.keywords.tags
        task.argLocations = normalized.locations
        task.loop = loop
        task.register = register
        if notify.isEmpty, let inherited = keywords.notify {
            task.notify = inherited.map(\.text)
            task.notifyLocations = inherited.map(\.location)
        } else {
            task.notify = notify.map(\.0)
            task.notifyLocations = notify.map(\.1)
        }
        task.listen = listen
        task.changedWhen = changedWhen
        task.failedWhen = failedWhen
        task.until = until
        task.retries = retries
        task.delay = delay
        task.role = scope.role
        task.extra = extra
        task.deferredError = deferredError
        return [.task(task)]
    }

    /// A task key that may name a module: `yum`, `community.general.pacman` (not `when:` typos
    /// with spaces or other characters no module name has).
    static func couldBeModuleName(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first != ".", key.unicodeScalars.last != "." else { return false }
        return key.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(
            { !$0.isEmpty && Diagnostics.isValidVariableName(String($0)) })
    }

    func parseLoop(_ entry: MappingEntry, control: YAMLNode?) throws -> Loop {
        let kind: Loop.Kind
        if entry.key == "loop" {
            kind = .loop
            switch entry.value.content {
            case .sequence: break
            case .scalar where entry.value.scalarValue.stringValue.map(Diagnostics.isTemplated) ?? false: break
            default:
                throw Diagnostics.error(
                    "'loop' must be a list or a template that renders to one, got \(Diagnostics.describe(entry.value))",
                    at: entry.value.location,
                    hint: entry.value.isMapping ? "use \"{{ mapping | dict2items }}\" to loop over a mapping" : nil)
            }
        } else if let known = Self.loopKinds[entry.key] {
            kind = known
        } else if Self.ansibleLookups.contains(String(entry.key.dropFirst("with_".count))) || entry.key.dropFirst(5).contains(".") {
            // with_<plugin> for a lookup Ansible has: it runs when the task does, and a plugin
            // pgha-play lacks is named then. An unknown name is an error now, as in Ansible.
            kind = .lookup
        } else {
            throw Diagnostics.error(
                "unsupported loop '\(entry.key)'" + Diagnostics.suggestion(for: entry.key, in: Array(Self.loopKinds.keys).sorted()),
                at: entry.keyNode.location,
                hint: "'\(entry.key)' names no lookup plugin; loops: loop, " + Self.loopKinds.keys.sorted().joined(separator: ", "))
        }
        var loop = Loop(kind: kind, items: entry.value.value, location: entry.keyNode.location)
        if kind == .lookup { loop.lookupName = String(entry.key.dropFirst("with_".count)) }
        guard let control, !(control.isScalar && control.scalarValue.isNull) else { return loop }
        guard control.isMapping else {
            throw Diagnostics.error("'loop_control' must be a mapping, got \(Diagnostics.describe(control))", at: control.location)
        }
        let keys = ["loop_var", "index_var", "label", "pause", "extended", "extended_allitems", "break_when"]
        for item in session.entries(of: control) {
            switch item.key {
            case "loop_var", "index_var":
                guard case .string(let name) = item.value.scalarValue, Diagnostics.isValidVariableName(name) else {
                    throw Diagnostics.error(
                        "'\(item.key)' must be a variable name, got "
                            + (item.value.scalarText.map { "'\($0)'" } ?? Diagnostics.describe(item.value)),
                        at: item.value.location)
                }
                if item.key == "loop_var" { loop.loopVar = name } else { loop.indexVar = name }
            case "label": loop.label = item.value.value
            case "pause":
                switch item.value.scalarValue {
                case .int(let i) where i >= 0: loop.pause = Double(i)
                case .double(let d) where d >= 0: loop.pause = d
                default:
                    throw Diagnostics.error(
                        "'pause' must be a number of seconds, got \(Diagnostics.describe(item.value))", at: item.value.location)
                }
            case "extended":
                if case .bool(let b)? = try keywords.boolish(item.value, keyword: item.key) { loop.extended = b }
            case "extended_allitems": _ = try keywords.boolish(item.value, keyword: item.key)
            case "break_when": loop.breakWhen = try keywords.conditions(item.value, keyword: item.key)
            default:
                throw Diagnostics.error(
                    "'\(item.key)' is not a valid loop_control option" + Diagnostics.suggestion(for: item.key, in: keys),
                    at: item.keyNode.location)
            }
        }
        return loop
    }
}
