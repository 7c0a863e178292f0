import Declarations
import Foundation
import OrderedCollections
import PGHACore

/// Includes and imports: `import_tasks` and `import_role` expanded in place; literal `include_tasks`
/// and `include_role` loaded once per play to check them; controller-side files and meta actions checked.
struct IncludeLoader {
    let session: LoadSession

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

    func fileArgument(_ normalized: NormalizedAction, allowed: Set<String>, at location: SourceLocation) throws -> (String, SourceLocation)? {
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

    func importTasks(
        _ normalized: NormalizedAction, keywords: Keywords, scope: Scope, at location: SourceLocation
    ) throws -> [TaskNode] {
        guard let (name, fileLocation) = try fileArgument(normalized, allowed: session.actions.argumentNames(of: "import_tasks"), at: location)
        else {
            throw Diagnostics.error("import_tasks needs a file name", at: location)
        }
        if Diagnostics.isTemplated(name) {
            throw Diagnostics.error(
                "import_tasks file names cannot be templated: imports are resolved before variables exist",
                at: fileLocation, hint: "use include_tasks for a file chosen at run time")
        }
        let directories = Self.taskSearchDirectories(
            file: scope.file, role: scope.role, playDirectory: scope.playDirectory, playbookDirectory: session.playbookDirectory)
        guard let path = PathUtil.firstFile(name, in: directories) else {
            throw Diagnostics.error(
                "imported task file '\(name)' not found (searched \(directories.joined(separator: ", ")))", at: fileLocation)
        }
        var inner = scope
        inner.keywords = keywords
        inner.depth += 1
        guard inner.depth < LoadSession.maxNesting * 4 else {
            throw Diagnostics.error("imports are nested too deeply", at: fileLocation)
        }
        return try session.tasks.parseTaskFile(path, scope: inner, importedAt: fileLocation)
    }

    /// Checks a dynamic include whose file is literal: the file must exist, and its tasks are loaded
    /// now (once per play) so their syntax errors are reported before anything runs. The file of
    /// an include that may not run need not exist (setup-RedHat.yml on a Debian-only checkout).
    func checkIncludeTasks(
        _ normalized: NormalizedAction, scope: Scope, at location: SourceLocation, mayNotRun: Bool
    ) throws {
        guard let (name, fileLocation) = try fileArgument(
            normalized, allowed: session.actions.argumentNames(of: "include_tasks"), at: location)
        else {
            throw Diagnostics.error("include_tasks needs a file name", at: location)
        }
        if let apply = normalized.args["apply"], apply.dictValue == nil {
            throw Diagnostics.error("'apply' must be a mapping of keywords", at: normalized.locations["apply"] ?? location)
        }
        if let apply = normalized.args["apply"]?.dictValue {
            for key in apply.keys where !TaskParser.blockKeywords.contains(key) || ["block", "rescue", "always"].contains(key) {
                throw Diagnostics.error(
                    "'\(key)' cannot be applied to included tasks", at: normalized.locations["apply"] ?? location)
            }
        }
        if Diagnostics.isTemplated(name) { return }
        let directories = Self.taskSearchDirectories(
            file: scope.file, role: scope.role, playDirectory: scope.playDirectory, playbookDirectory: session.playbookDirectory)
        guard let path = PathUtil.firstFile(name, in: directories) else {
            if mayNotRun { return }
            throw Diagnostics.error(
                "included task file '\(name)' not found (searched \(directories.joined(separator: ", ")))", at: fileLocation)
        }
        // A file may include itself under a condition (recursion at run time is legal); check it once.
        let key = path + "\u{0}" + (scope.role?.path ?? "")
        guard session.validatedIncludes.insert(key).inserted, !session.importChain.contains(where: { $0.path == path }) else { return }
        var inner = scope
        inner.keywords = Keywords()
        inner.depth += 1
        session.validationDepth += 1
        defer { session.validationDepth -= 1 }
        _ = try session.tasks.parseTaskFile(path, scope: inner, importedAt: fileLocation)
    }

    func roleSpec(
        _ normalized: NormalizedAction, parameters: OrderedDictionary<String, Value>, at location: SourceLocation) throws -> RoleSpec? {
        // Free-form text is not a role name: `include_role: name=ROLE`.
        let allowed = session.actions.argumentNames(of: normalized.action).subtracting(["_raw_params"])
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
        if let validate = normalized.args["rolespec_validate"] {
            switch validate {
            case .bool(let flag): spec.validateArguments = flag
            case .string(let text) where !Diagnostics.isTemplated(text):
                spec.validateArguments = ["yes", "true", "on", "1", "y", "t"].contains(text.lowercased())
            default: break
            }
        }
        spec.tasksFrom = try option("tasks_from")
        spec.varsFrom = try option("vars_from")
        spec.defaultsFrom = try option("defaults_from")
        spec.handlersFrom = try option("handlers_from")
        return spec
    }

    func importRole(
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
        let applied = try session.roles.applyRole(spec, scope: scope, dedupe: false, isDependency: false, collect: false)
        guard let instance = applied.instance else { return applied.dependencyNodes }
        return applied.dependencyNodes + [
            .block(Block(location: location, block: applied.tasks, keywords: applied.keywords, role: instance))
        ]
    }

    func checkIncludeRole(
        _ normalized: NormalizedAction, scope: Scope, at location: SourceLocation, mayNotRun: Bool
    ) throws {
        if let apply = normalized.args["apply"], apply.dictValue == nil {
            throw Diagnostics.error("'apply' must be a mapping of keywords", at: normalized.locations["apply"] ?? location)
        }
        guard let spec = try roleSpec(normalized, parameters: [:], at: location),
            ![spec.tasksFrom, spec.varsFrom, spec.defaultsFrom, spec.handlersFrom].compactMap({ $0 })
                .contains(where: Diagnostics.isTemplated)
        else {
            session.handlersUnknowable = true
            return
        }
        var inner = scope
        inner.keywords = Keywords()
        inner.keywords.extra["collections"] = scope.keywords.extra["collections"]
        inner.role = nil
        // A role may include itself under a condition (legal at run time); check each once.
        let path: String
        do {
            path = try session.roles.resolveRole(spec, scope: inner)
        } catch is PGHAError where mayNotRun {
            // Only an error if the include runs; until then its handlers are unknown.
            session.handlersUnknowable = true
            return
        }
        if session.roleChain.contains(where: { $0.path == path }) { return }
        guard session.validatedIncludes.insert("role\u{0}" + path + "\u{0}" + (spec.tasksFrom ?? "")).inserted else { return }
        session.validationDepth += 1
        defer { session.validationDepth -= 1 }
        let applied = try session.roles.applyRole(spec, scope: inner, dedupe: false, isDependency: false, collect: true)
        for handler in applied.handlers {
            if let name = handler.name {
                if Diagnostics.isTemplated(name) { session.handlersUnknowable = true }
                session.dynamicHandlerNames.insert(name)
                if let role = handler.role { session.dynamicHandlerNames.insert("\(role.name) : \(name)") }
            }
            for topic in handler.listen { session.dynamicHandlerNames.insert(topic) }
        }

    }

    /// Controller-side files named literally (`template: src=`, `copy: src=`, `include_vars:`)
    /// must exist; they are searched for where Ansible looks.
    func checkLocalFiles(_ normalized: NormalizedAction, scope: Scope, at location: SourceLocation) throws {
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
        if session.playbookDirectory != scope.playDirectory { bases += [session.playbookDirectory + "/" + kind, session.playbookDirectory] }
        let expanded = (name as NSString).expandingTildeInPath
        let candidates = expanded.hasPrefix("/") || ContentSource.isBuiltin(expanded) ? [expanded] : bases.map { PathUtil.join($0, expanded) }
        if candidates.contains(where: ContentSource.exists) { return }
        throw Diagnostics.error(
            "\(normalized.action): local file '\(name)' not found", at: normalized.locations[key] ?? location,
            hint: "searched " + bases.joined(separator: ", "))
    }

    func checkMeta(_ normalized: NormalizedAction, at location: SourceLocation) throws {
        guard let value = normalized.args["_raw_params"] ?? normalized.args["free_form"] else {
            throw Diagnostics.error("meta needs an action such as 'flush_handlers'", at: location)
        }
        guard case .string(let text) = value else {
            throw Diagnostics.error("meta needs an action name", at: location)
        }
        let action = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if Diagnostics.isTemplated(action) { return }
        var metaActions: [String] = []
        if case .choice(let choices)? = session.catalog.declaration(named: "meta")?.arguments.argument(named: "_raw_params")?.kind {
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
