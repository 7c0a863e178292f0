import Declarations
import Foundation
import OrderedCollections
import PGHACore

extension LoadSession {
    /// Every task keyword (besides module names and `with_*`).
    static let taskKeywords: Set<String> = inheritableKeywords.union([
        "name", "action", "local_action", "args", "async", "poll", "changed_when", "failed_when", "delay", "retries",
        "until", "delegate_to", "delegate_facts", "loop", "loop_control", "notify", "register", "when", "vars",
        "listen",
    ])

    static let blockKeywords: Set<String> = inheritableKeywords.union([
        "block", "rescue", "always", "name", "when", "vars", "delegate_to", "delegate_facts", "notify",
    ])

    static let loopKinds: [String: Loop.Kind] = [
        "with_items": .items, "with_list": .list, "with_dict": .dict, "with_indexed_items": .indexedItems,
        "with_together": .together, "with_nested": .nested, "with_cartesian": .nested,
        "with_sequence": .sequence, "with_subelements": .subelements, "with_fileglob": .fileglob,
        "with_lines": .lines,
    ]

    /// The short name of the action a task writes as `action` (short or fully qualified); nil when
    /// no action has that name.
    func canonical(_ action: String) -> String? {
        catalog.declaration(named: action)?.name
    }

    /// The names an action accepts as arguments, free-form text included (for the loader's own
    /// checks of include and import options).
    func argumentNames(of action: String) -> Set<String> {
        guard let spec = catalog.declaration(named: action)?.arguments else { return [] }
        var names = Set(spec.arguments.map(\.name))
        if spec.freeForm != .none { names.insert("_raw_params") }
        return names
    }

    /// Actions that take free-form text at all (in `_raw_params`), for the error that lists them.
    var freeFormActions: [String] {
        catalog.declarations.filter { $0.freeForm != .none }.map(\.name).sorted()
    }

    static func taskSearchDirectories(
        file: String, role: RoleInstance?, playDirectory: String, playbookDirectory: String
    ) -> [String] {
        var directories: [String] = []
        if let role { directories.append(role.path + "/tasks") }
        directories.append(PathUtil.directory(of: file))
        if let role { directories.append(role.path) }
        directories.append(playDirectory)
        directories.append(playbookDirectory)
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
    }

    // MARK: Task lists

    func taskList(_ node: YAMLNode, scope: Scope, section: String) throws -> [TaskNode] {
        switch node.content {
        case .scalar where node.scalarValue.isNull: return []
        case .sequence(let items):
            var result: [TaskNode] = []
            result.reserveCapacity(items.count)
            for item in items { result += try attempt([]) { try entry(item, scope: scope) } }
            return result
        default:
            throw Diagnostics.error(
                "'\(section)' must be a list of tasks, got \(Diagnostics.describe(node))", at: node.location,
                hint: node.isMapping ? "start each task with '- '" : nil)
        }
    }

    /// A task file: a list of tasks (an empty file is an empty list).
    func parseTaskFile(_ path: String, scope: Scope, importedAt: SourceLocation?) throws -> [TaskNode] {
        try enterImport(path, at: importedAt, what: "import_tasks")
        defer { leaveImport() }
        guard let root = try yaml(path) else { return [] }
        var fileScope = scope
        fileScope.file = path
        guard root.isSequence || root.scalarValue.isNull && root.isScalar else {
            throw Diagnostics.error(
                "a task file must be a list of tasks, got \(Diagnostics.describe(root))", at: root.location,
                hint: root.isMapping ? "start each task with '- '" : nil)
        }
        return try taskList(root, scope: fileScope, section: "tasks")
    }

    private func entry(_ node: YAMLNode, scope: Scope) throws -> [TaskNode] {
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
        let taskEntries = entries(of: node)
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

    private func block(
        _ node: YAMLNode, _ blockEntries: [(key: String, keyNode: YAMLNode, value: YAMLNode)], scope: Scope
    ) throws -> TaskNode {
        guard scope.depth < Self.maxNesting else {
            throw Diagnostics.error("blocks are nested more than \(Self.maxNesting) levels deep", at: node.location)
        }
        var own = Keywords()
        var name: String? = nil
        var sections: [String: YAMLNode] = [:]
        for entry in blockEntries {
            switch entry.key {
            case "block", "rescue", "always": sections[entry.key] = entry.value
            case "name": name = try nameText(entry.value)
            case "delegate_facts": continue
            case "notify":
                own.notify = try handlerNames(entry.value, keyword: "notify").map { Expression($0.0, at: $0.1) }
            default:
                if Self.blockKeywords.contains(entry.key), try commonKeyword(entry.key, entry.value, into: &own) {
                    continue
                }
                let candidates = Array(Self.blockKeywords)
                var hint: String? = nil
                if canonical(entry.key) != nil || Self.taskKeywords.contains(entry.key) || entry.key.hasPrefix("with_") {
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
            return try taskList(value, scope: inner, section: key)
        }
        return .block(
            Block(
                name: name, location: node.location, block: try section("block"), rescue: try section("rescue"),
                always: try section("always"), keywords: keywords, role: scope.role))
    }

    // MARK: Tasks

    private typealias Entry = (key: String, keyNode: YAMLNode, value: YAMLNode)

    private func task(_ node: YAMLNode, _ taskEntries: [Entry], scope: Scope) throws -> [TaskNode] {
        var own = Keywords()
        var name: String? = nil
        var actions: [Entry] = []
        var unknown: [Entry] = []
        var argsNode: YAMLNode? = nil
        var loops: [Entry] = []
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
            case "name": name = try nameText(value)
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
                notify += try handlerNames(value, keyword: "notify")
            case "listen":
                guard scope.handlers || listenAnywhere else {
                    throw Diagnostics.error(
                        "'listen' is only valid on handlers", at: entry.keyNode.location)
                }
                listen += try handlerNames(value, keyword: "listen").map(\.0)
            case "changed_when": changedWhen = try conditions(value, keyword: entry.key)
            case "failed_when": failedWhen = try conditions(value, keyword: entry.key)
            case "until":
                let list = try conditions(value, keyword: entry.key)
                if let first = list.first {
                    until = list.count == 1
                        ? first : Expression(list.map { "(\($0.text))" }.joined(separator: " and "), at: first.location)
                }
            case "retries": retries = try intish(value, keyword: entry.key)
            case "delay": delay = try numberish(value, keyword: entry.key)
            case "loop": loops.append(entry)
            case "loop_control": loopControl = value
            case "async": if let v = try intish(value, keyword: entry.key) { extra[entry.key] = v }
            case "poll": if let v = try intish(value, keyword: entry.key) { extra[entry.key] = v }
            case "delegate_facts": if let v = try boolish(value, keyword: entry.key) { extra[entry.key] = v }
            default:
                if Self.taskKeywords.contains(entry.key), try commonKeyword(entry.key, value, into: &own) { continue }
                if entry.key.hasPrefix("with_") {
                    loops.append(entry)
                } else if canonical(entry.key) != nil {
                    actions.append(entry)
                } else {
                    unknown.append(entry)
                }
            }
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
            let candidates = Array(Self.taskKeywords) + catalog.shortNames
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
                warn("local_action runs on localhost: delegate_to '\(other.stringValue ?? "")' is ignored", at: actionEntry.keyNode.location)
            }
            own.delegateTo = .string("localhost")
        }

        let normalized = try normalizeAction(actionEntry, argsNode: argsNode)
        var loop: Loop? = nil
        if let loopEntry = loops.first {
            loop = try parseLoop(loopEntry, control: loopControl)
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
                return try importTasks(normalized, keywords: keywords, scope: scope, at: actionEntry.value.location)
            }
            return try importRole(normalized, own: own, scope: scope, at: location)
        case "include_tasks":
            try checkIncludeTasks(normalized, scope: scope, at: actionEntry.value.location)
        case "include_role":
            try checkIncludeRole(normalized, scope: scope, at: location)
        case "meta":
            try checkMeta(normalized, at: actionEntry.value.location)
        default:
            if normalized.args["_variable_params"] == nil {
                if let declaration = catalog.declaration(named: normalized.action), declaration.argumentsCheckedWhenLoaded {
                    _ = try declaration.arguments.validate(
                        normalized.args, module: declaration.name, locations: normalized.locations,
                        taskLocation: location, allowTemplates: true)
                }
                // A loop may feed `item` into the path, and then only the run knows it.
                try checkLocalFiles(normalized, scope: scope, at: location)
            }
        }

        var task = Task(
            location: location, action: normalized.action, actionAsWritten: normalized.written,
            args: normalized.args, keywords: keywords)
        task.name = name
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
        return [.task(task)]
    }

    private func handlerNames(_ node: YAMLNode, keyword: String) throws -> [(String, SourceLocation)] {
        let items: [YAMLNode]
        switch node.content {
        case .scalar where node.scalarValue.isNull: return []
        case .scalar: items = [node]
        case .sequence(let list): items = list
        case .mapping:
            throw Diagnostics.error("'\(keyword)' must be a handler name or a list of them, got a mapping", at: node.location)
        }
        return try items.map { item in
            guard item.isScalar, !item.scalarValue.isNull else {
                throw Diagnostics.error(
                    "'\(keyword)' entries must be handler names, got \(Diagnostics.describe(item))", at: item.location)
            }
            return (item.scalarValue.stringValue ?? item.keyString, item.location)
        }
    }

    private func numberish(_ node: YAMLNode, keyword: String) throws -> Value? {
        if case .double(let d) = node.scalarValue, node.isScalar { return .double(d) }
        return try intish(node, keyword: keyword)
    }

    // MARK: Actions and arguments

    struct NormalizedAction {
        var written: String
        var action: String
        var args: OrderedDictionary<String, Value>
        var locations: [String: SourceLocation]
    }

    private func normalizeAction(_ entry: Entry, argsNode: YAMLNode?) throws -> NormalizedAction {
        var written = entry.key
        var valueNode: YAMLNode? = entry.value
        var inlineText: (String, SourceLocation)? = nil
        var dictArgs: [Entry] = []

        if entry.key == "action" || entry.key == "local_action" {
            let value = entry.value
            switch value.content {
            case .scalar:
                guard case .string(let text) = value.scalarValue, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw Diagnostics.error("'\(entry.key)' needs a module name", at: value.location)
                }
                let tokens: [String]
                do { tokens = try KeyValueArgs.split(text) } catch {
                    throw Diagnostics.error(
                        "failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(text)",
                        at: value.location)
                }
                written = (tokens.first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                let rest = tokens.dropFirst().joined(separator: " ")
                let restOffset = text.range(of: written).map { text.distance(from: text.startIndex, to: $0.upperBound) + 1 } ?? 0
                inlineText = rest.isEmpty ? nil : (rest, value.location.offset(lines: 0, column: value.location.column + restOffset))
                valueNode = nil
            case .mapping:
                let parts = entries(of: value)
                guard let module = parts.first(where: { $0.key == "module" }) else {
                    throw Diagnostics.error("'\(entry.key)' mapping needs a 'module' key", at: value.location)
                }
                guard case .string(let text) = module.value.scalarValue else {
                    throw Diagnostics.error("'module' must be a module name", at: module.value.location)
                }
                let tokens = (try? KeyValueArgs.split(text)) ?? [text]
                written = (tokens.first ?? text).trimmingCharacters(in: .whitespacesAndNewlines)
                let rest = tokens.dropFirst().joined(separator: " ")
                if !rest.isEmpty { inlineText = (rest, module.value.location) }
                dictArgs = parts.filter { $0.key != "module" }
                valueNode = nil
            case .sequence:
                throw Diagnostics.error("'\(entry.key)' must be a string or a mapping, got a list", at: value.location)
            }
        }

        guard let action = canonical(written) else {
            throw Diagnostics.error(
                "unknown module '\(written)'" + Diagnostics.suggestion(for: written, in: catalog.shortNames),
                at: entry.value.location)
        }
        if action == "import_playbook" {
            throw Diagnostics.error(
                "import_playbook is only valid at the top level of a playbook, not as a task",
                at: entry.keyNode.location, hint: "write it as an entry of the playbook, beside the plays")
        }

        var args = OrderedDictionary<String, Value>()
        var locations: [String: SourceLocation] = [:]
        if let argsNode {
            switch argsNode.content {
            case .mapping:
                for arg in entries(of: argsNode) {
                    args[arg.key] = arg.value.value
                    locations[arg.key] = arg.keyNode.location
                }
            case .scalar where argsNode.scalarValue.isNull: break
            case .scalar where argsNode.scalarValue.stringValue.map(Diagnostics.isTemplated) ?? false:
                args["_variable_params"] = argsNode.value
                locations["_variable_params"] = argsNode.location
            default:
                throw Diagnostics.error(
                    "'args' must be a mapping, got \(Diagnostics.describe(argsNode))", at: argsNode.location)
            }
        }

        let freeForm = catalog.declaration(named: action)?.freeForm ?? .none
        func addKeyValue(_ text: String, at location: SourceLocation, plain: Bool) throws {
            let options: [KeyValueArgs.Option]
            do { options = try KeyValueArgs.parse(text, checkRaw: freeForm == .commandLine) } catch {
                throw Diagnostics.error(
                    "failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(text)", at: location)
            }
            let singleLine = plain && !text.contains("\n")
            for option in options {
                args[option.key] = .string(option.value)
                if singleLine, let offset = option.offset {
                    locations[option.key] = location.offset(lines: 0, column: location.column + offset)
                } else {
                    locations[option.key] = location
                }
            }
        }

        if let valueNode {
            switch valueNode.content {
            case .scalar:
                switch valueNode.scalarValue {
                case .null: break
                case .string(let text):
                    let plain: Bool
                    if case .scalar(_, let isPlain) = valueNode.content { plain = isPlain } else { plain = false }
                    try addKeyValue(text, at: valueNode.location, plain: plain)
                default:
                    throw Diagnostics.error(
                        "unexpected parameter type for '\(written)': \(Diagnostics.describe(valueNode)); arguments must be a mapping or 'key=value' text",
                        at: valueNode.location, hint: "quote the value to pass it as text")
                }
            case .mapping:
                for arg in entries(of: valueNode) {
                    args[arg.key] = arg.value.value
                    locations[arg.key] = arg.keyNode.location
                }
            case .sequence:
                throw Diagnostics.error(
                    "unexpected parameter type for '\(written)': a list; arguments must be a mapping or 'key=value' text",
                    at: valueNode.location)
            }
        }
        for arg in dictArgs {
            args[arg.key] = arg.value.value
            locations[arg.key] = arg.keyNode.location
        }
        if let (text, location) = inlineText { try addKeyValue(text, at: location, plain: true) }
        if freeForm != .commandLine, let reserved = args.keys.first(where: { $0.hasPrefix("_ansible_") }) {
            throw Diagnostics.error(
                "invalid parameter '\(reserved)' for '\(written)': the prefix '_ansible_' is reserved for internal use",
                at: locations[reserved] ?? entry.value.location)
        }

        if let raw = args["_raw_params"], raw != .string(""), freeForm == .none {
            let text = raw.stringValue ?? ""
            if Diagnostics.isTemplated(text) {
                args.removeValue(forKey: "_raw_params")
                args["_variable_params"] = raw
                locations["_variable_params"] = locations["_raw_params"]
            } else {
                throw Diagnostics.error(
                    "'\(written)' does not support free-form text ('\(text)'): give key=value arguments or a mapping",
                    at: locations["_raw_params"] ?? entry.value.location,
                    hint: "only these actions take free-form text: " + freeFormActions.joined(separator: ", "))
            }
        }
        return NormalizedAction(written: written, action: action, args: args, locations: locations)
    }

    private func parseLoop(_ entry: Entry, control: YAMLNode?) throws -> Loop {
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
        } else {
            throw Diagnostics.error(
                "unsupported loop '\(entry.key)'" + Diagnostics.suggestion(for: entry.key, in: Array(Self.loopKinds.keys).sorted()),
                at: entry.keyNode.location,
                hint: "supported: loop, " + Self.loopKinds.keys.sorted().joined(separator: ", "))
        }
        var loop = Loop(kind: kind, items: entry.value.value, location: entry.keyNode.location)
        guard let control, !(control.isScalar && control.scalarValue.isNull) else { return loop }
        guard control.isMapping else {
            throw Diagnostics.error("'loop_control' must be a mapping, got \(Diagnostics.describe(control))", at: control.location)
        }
        let keys = ["loop_var", "index_var", "label", "pause", "extended", "extended_allitems", "break_when"]
        for item in entries(of: control) {
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
                if case .bool(let b)? = try boolish(item.value, keyword: item.key) { loop.extended = b }
            case "extended_allitems": _ = try boolish(item.value, keyword: item.key)
            case "break_when": loop.breakWhen = try conditions(item.value, keyword: item.key)
            default:
                throw Diagnostics.error(
                    "'\(item.key)' is not a valid loop_control option" + Diagnostics.suggestion(for: item.key, in: keys),
                    at: item.keyNode.location)
            }
        }
        return loop
    }

    // MARK: Includes and imports

    private func fileArgument(_ normalized: NormalizedAction, allowed: Set<String>, at location: SourceLocation) throws -> (String, SourceLocation)? {
        for key in normalized.args.keys where !allowed.contains(key) {
            throw Diagnostics.error(
                "'\(key)' is not a valid option for \(normalized.action)"
                    + Diagnostics.suggestion(for: key, in: allowed.filter { !$0.hasPrefix("_") }.sorted()),
                at: normalized.locations[key] ?? location)
        }
        if normalized.args["file"] != nil && normalized.args["_raw_params"] != nil {
            throw Diagnostics.error("\(normalized.action): give the file either free-form or as 'file:', not both", at: location)
        }
        let key = normalized.args["file"] != nil ? "file" : "_raw_params"
        guard let value = normalized.args[key] else { return nil }
        guard case .string(let name) = value, !name.isEmpty else {
            throw Diagnostics.error(
                "\(normalized.action) needs a file name, got \(value.typeName)", at: normalized.locations[key] ?? location)
        }
        return (name, normalized.locations[key] ?? location)
    }

    private func importTasks(
        _ normalized: NormalizedAction, keywords: Keywords, scope: Scope, at location: SourceLocation
    ) throws -> [TaskNode] {
        guard let (name, fileLocation) = try fileArgument(normalized, allowed: argumentNames(of: "import_tasks"), at: location)
        else {
            throw Diagnostics.error("import_tasks needs a file name", at: location)
        }
        if Diagnostics.isTemplated(name) {
            throw Diagnostics.error(
                "import_tasks file names cannot be templated: imports are resolved before variables exist",
                at: fileLocation, hint: "use include_tasks for a file chosen at run time")
        }
        let directories = Self.taskSearchDirectories(
            file: scope.file, role: scope.role, playDirectory: scope.playDirectory, playbookDirectory: playbookDirectory)
        guard let path = PathUtil.firstFile(name, in: directories) else {
            throw Diagnostics.error(
                "imported task file '\(name)' not found (searched \(directories.joined(separator: ", ")))", at: fileLocation)
        }
        var inner = scope
        inner.keywords = keywords
        inner.depth += 1
        guard inner.depth < Self.maxNesting * 4 else {
            throw Diagnostics.error("imports are nested too deeply", at: fileLocation)
        }
        return try parseTaskFile(path, scope: inner, importedAt: fileLocation)
    }

    /// Checks a dynamic include whose file is literal: the file must exist, and its tasks are loaded
    /// now (once per play) so their errors and notifications are reported before anything runs.
    private func checkIncludeTasks(_ normalized: NormalizedAction, scope: Scope, at location: SourceLocation) throws {
        guard let (name, fileLocation) = try fileArgument(
            normalized, allowed: argumentNames(of: "include_tasks"), at: location)
        else {
            throw Diagnostics.error("include_tasks needs a file name", at: location)
        }
        if let apply = normalized.args["apply"], apply.dictValue == nil {
            throw Diagnostics.error("'apply' must be a mapping of keywords", at: normalized.locations["apply"] ?? location)
        }
        if let apply = normalized.args["apply"]?.dictValue {
            for key in apply.keys where !Self.blockKeywords.contains(key) || ["block", "rescue", "always"].contains(key) {
                throw Diagnostics.error(
                    "'\(key)' cannot be applied to included tasks", at: normalized.locations["apply"] ?? location)
            }
        }
        if Diagnostics.isTemplated(name) { return }
        let directories = Self.taskSearchDirectories(
            file: scope.file, role: scope.role, playDirectory: scope.playDirectory, playbookDirectory: playbookDirectory)
        guard let path = PathUtil.firstFile(name, in: directories) else {
            throw Diagnostics.error(
                "included task file '\(name)' not found (searched \(directories.joined(separator: ", ")))", at: fileLocation)
        }
        // A file may include itself under a condition (recursion at run time is legal); check it once.
        let key = path + "\u{0}" + (scope.role?.path ?? "")
        guard validatedIncludes.insert(key).inserted, !importChain.contains(where: { $0.path == path }) else { return }
        var inner = scope
        inner.keywords = Keywords()
        inner.depth += 1
        validationDepth += 1
        defer { validationDepth -= 1 }
        dynamicTasks += try parseTaskFile(path, scope: inner, importedAt: fileLocation)
    }

    private func roleSpec(
        _ normalized: NormalizedAction, parameters: OrderedDictionary<String, Value>, at location: SourceLocation) throws -> RoleSpec? {
        // Free-form text is not a role name: `include_role: name=ROLE`.
        let allowed = argumentNames(of: normalized.action).subtracting(["_raw_params"])
        for key in normalized.args.keys where !allowed.contains(key) {
            throw Diagnostics.error(
                "'\(key)' is not a valid option for \(normalized.action)"
                    + Diagnostics.suggestion(for: key, in: allowed.sorted()),
                at: normalized.locations[key] ?? location,
                hint: key == "_raw_params" ? "write '\(normalized.action): name=ROLE' or give 'name:'" : nil)
        }
        guard let nameValue = normalized.args["name"] else {
            throw Diagnostics.error("\(normalized.action) needs 'name:' (the role)", at: location)
        }
        guard case .string(let name) = nameValue, !name.isEmpty else {
            throw Diagnostics.error(
                "\(normalized.action) 'name' must be a role name", at: normalized.locations["name"] ?? location)
        }
        if Diagnostics.isTemplated(name) { return nil }
        var spec = RoleSpec(name: name, nameLocation: normalized.locations["name"] ?? location, location: location)
        spec.parameters = parameters
        func option(_ key: String) throws -> String? {
            guard let value = normalized.args[key] else { return nil }
            guard case .string(let text) = value else {
                throw Diagnostics.error("'\(key)' must be a file name", at: normalized.locations[key] ?? location)
            }
            return text
        }
        spec.tasksFrom = try option("tasks_from")
        spec.varsFrom = try option("vars_from")
        spec.defaultsFrom = try option("defaults_from")
        spec.handlersFrom = try option("handlers_from")
        return spec
    }

    private func importRole(
        _ normalized: NormalizedAction, own: Keywords, scope: Scope, at location: SourceLocation
    ) throws -> [TaskNode] {
        guard var spec = try roleSpec(normalized, parameters: own.vars, at: location) else {
            throw Diagnostics.error(
                "import_role names cannot be templated: imports are resolved before variables exist",
                at: normalized.locations["name"] ?? location, hint: "use include_role for a role chosen at run time")
        }
        if let templated = [spec.tasksFrom, spec.varsFrom, spec.defaultsFrom, spec.handlersFrom]
            .compactMap({ $0 }).first(where: Diagnostics.isTemplated)
        {
            throw Diagnostics.error("import_role options cannot be templated: '\(templated)'", at: location)
        }
        // The import's own vars are the role's parameters, not task vars.
        spec.keywords = own
        spec.keywords.vars = [:]
        let applied = try applyRole(spec, scope: scope, dedupe: false, isDependency: false, collect: false)
        guard let instance = applied.instance else { return applied.dependencyNodes }
        return applied.dependencyNodes + [
            .block(Block(location: location, block: applied.tasks, keywords: applied.keywords, role: instance))
        ]
    }

    private func checkIncludeRole(_ normalized: NormalizedAction, scope: Scope, at location: SourceLocation) throws {
        if let apply = normalized.args["apply"], apply.dictValue == nil {
            throw Diagnostics.error("'apply' must be a mapping of keywords", at: normalized.locations["apply"] ?? location)
        }
        guard let spec = try roleSpec(normalized, parameters: [:], at: location),
            ![spec.tasksFrom, spec.varsFrom, spec.defaultsFrom, spec.handlersFrom].compactMap({ $0 })
                .contains(where: Diagnostics.isTemplated)
        else {
            handlersUnknowable = true
            return
        }
        var inner = scope
        inner.keywords = Keywords()
        inner.role = nil
        // A role may include itself under a condition (legal at run time); check each once.
        let path = try resolveRole(spec, scope: inner)
        if roleChain.contains(where: { $0.path == path }) { return }
        guard validatedIncludes.insert("role\u{0}" + path + "\u{0}" + (spec.tasksFrom ?? "")).inserted else { return }
        validationDepth += 1
        defer { validationDepth -= 1 }
        let applied = try applyRole(spec, scope: inner, dedupe: false, isDependency: false, collect: true)
        for handler in applied.handlers {
            if let name = handler.name {
                if Diagnostics.isTemplated(name) { handlersUnknowable = true }
                dynamicHandlerNames.insert(name)
                if let role = handler.role { dynamicHandlerNames.insert("\(role.name) : \(name)") }
            }
            for topic in handler.listen { dynamicHandlerNames.insert(topic) }
        }
        dynamicTasks += applied.dependencyNodes + applied.tasks
    }

    /// Controller-side files named literally (`template: src=`, `copy: src=`, `include_vars:`)
    /// must exist; they are searched for where Ansible looks.
    private func checkLocalFiles(_ normalized: NormalizedAction, scope: Scope, at location: SourceLocation) throws {
        let key: String
        let kind: String
        switch normalized.action {
        case "template":
            (key, kind) = ("src", "templates")
        case "copy":
            if let remote = normalized.args["remote_src"], remote.isTruthy && remote != "no" && remote != "false" { return }
            (key, kind) = ("src", "files")
        case "include_vars":
            guard normalized.args["dir"] == nil else { return }
            (key, kind) = (normalized.args["file"] != nil ? "file" : "_raw_params", "vars")
        default:
            return
        }
        guard case .string(let name)? = normalized.args[key], !name.isEmpty, !Diagnostics.isTemplated(name) else { return }
        var bases: [String] = []
        if let role = scope.role { bases += [role.path + "/" + kind, role.path] }
        let fileDirectory = PathUtil.directory(of: scope.file)
        bases += [fileDirectory + "/" + kind, fileDirectory, scope.playDirectory + "/" + kind, scope.playDirectory]
        if playbookDirectory != scope.playDirectory { bases += [playbookDirectory + "/" + kind, playbookDirectory] }
        let expanded = (name as NSString).expandingTildeInPath
        let candidates = expanded.hasPrefix("/") ? [expanded] : bases.map { PathUtil.join($0, expanded) }
        if candidates.contains(where: { FileManager.default.fileExists(atPath: $0) }) { return }
        throw Diagnostics.error(
            "\(normalized.action): local file '\(name)' not found", at: normalized.locations[key] ?? location,
            hint: "searched " + bases.joined(separator: ", "))
    }

    private func checkMeta(_ normalized: NormalizedAction, at location: SourceLocation) throws {
        guard let value = normalized.args["_raw_params"] ?? normalized.args["free_form"] else {
            throw Diagnostics.error("meta needs an action such as 'flush_handlers'", at: location)
        }
        guard case .string(let text) = value else {
            throw Diagnostics.error("meta needs an action name", at: location)
        }
        let action = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if Diagnostics.isTemplated(action) { return }
        var metaActions: [String] = []
        if case .choice(let choices)? = catalog.declaration(named: "meta")?.arguments.argument(named: "_raw_params")?.kind {
            metaActions = choices
        }
        guard metaActions.contains(action) else {
            throw Diagnostics.error(
                "invalid meta action '\(action)'" + Diagnostics.suggestion(for: action, in: metaActions),
                at: normalized.locations["_raw_params"] ?? location,
                hint: "valid: " + metaActions.joined(separator: ", "))
        }
    }
}
