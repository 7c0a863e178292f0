import Foundation
import OrderedCollections
import PGHACore

/// Roles: where they are, their dependencies, defaults and vars, tasks and handlers.
struct RoleLoader {
    let session: LoadSession
    private var keywords: KeywordParser { session.keywords }

    /// Keywords a `roles:` entry or a dependency may carry; any other key is a role parameter.
    static let roleEntryKeywords: Set<String> = KeywordParser.inheritableKeywords.union(["when", "vars", "delegate_to", "delegate_facts"])

    /// `roles:` of a play: each role (after its dependencies) becomes a block.
    func roleEntries(_ node: YAMLNode, scope: Scope) throws -> [TaskNode] {
        let items: [YAMLNode]
        switch node.content {
        case .scalar where node.scalarValue.isNull: return []
        case .sequence(let list): items = list
        default:
            throw Diagnostics.error("'roles' must be a list of roles, got \(Diagnostics.describe(node))", at: node.location)
        }
        var result: [TaskNode] = []
        for item in items {
            result += try session.attempt([]) {
                let spec = try roleEntrySpec(item, what: "'roles' entries")
                let applied = try applyRole(spec, scope: scope, dedupe: true, isDependency: false, collect: false)
                var nodes = applied.dependencyNodes
                if let instance = applied.instance {
                    nodes.append(.block(Block(location: spec.location, block: applied.tasks, keywords: applied.keywords, role: instance)))
                }
                return nodes
            }
        }
        return result
    }

    /// A role as written in `roles:` or `dependencies:`: a name, or a mapping with `role:` (or
    /// `name:`), keywords, `vars:` and parameters.
    func roleEntrySpec(_ node: YAMLNode, what: String) throws -> RoleSpec {
        switch node.content {
        case .scalar:
            guard case .string(let name) = node.scalarValue, !name.isEmpty else {
                throw Diagnostics.error("\(what) must be role names or mappings, got \(Diagnostics.describe(node))", at: node.location)
            }
            return RoleSpec(name: name, nameLocation: node.location, location: node.location)
        case .sequence:
            throw Diagnostics.error("\(what) must be role names or mappings, got a list", at: node.location)
        case .mapping:
            let roleEntries = session.entries(of: node)
            guard let nameEntry = roleEntries.first(where: { $0.key == "role" }) ?? roleEntries.first(where: { $0.key == "name" })
            else {
                throw Diagnostics.error(
                    "a role entry needs 'role:' (the role's name)", at: node.location,
                    hint: "keys found: " + roleEntries.map(\.key).joined(separator: ", "))
            }
            guard case .string(let name) = nameEntry.value.scalarValue, !name.isEmpty else {
                throw Diagnostics.error(
                    "'\(nameEntry.key)' must be a role name, got \(Diagnostics.describe(nameEntry.value))",
                    at: nameEntry.value.location)
            }
            var spec = RoleSpec(name: name, nameLocation: nameEntry.value.location, location: node.location)
            for entry in roleEntries where entry.key != nameEntry.key {
                if entry.key == "vars" {
                    for (key, value) in try keywords.varsMapping(entry.value, keyword: "vars") { spec.parameters[key] = value }
                } else if (entry.key == "name" && nameEntry.key == "role") || entry.key == "delegate_facts" {
                    continue
                } else if Self.roleEntryKeywords.contains(entry.key),
                    try keywords.commonKeyword(entry.key, entry.value, into: &spec.keywords)
                {
                    continue
                } else {
                    guard Diagnostics.isValidVariableName(entry.key) else {
                        throw Diagnostics.error(
                            "'\(entry.key)' is neither a role keyword nor a valid parameter name", at: entry.keyNode.location)
                    }
                    spec.parameters[entry.key] = entry.value.value
                }
            }
            return spec
        }
    }

    /// Resolves, loads and expands one role application with its dependencies.
    func applyRole(_ spec: RoleSpec, scope: Scope, dedupe: Bool, isDependency: Bool, collect: Bool) throws -> AppliedRole {
        let path = try resolveRole(spec, scope: scope)
        if let index = session.roleChain.firstIndex(where: { $0.path == path }) {
            let chain = session.roleChain[index...].map(\.name) + [spec.name]
            throw Diagnostics.error("role dependency cycle: " + chain.joined(separator: " -> "), at: spec.nameLocation)
        }
        guard session.roleChain.count < LoadSession.maxNesting else {
            throw Diagnostics.error("roles are nested more than \(LoadSession.maxNesting) levels deep", at: spec.nameLocation)
        }
        let meta = try roleMeta(path)
        if dedupe && session.validationDepth == 0 && !meta.allowDuplicates {
            let key = RoleKey(path: path, tasksFrom: spec.tasksFrom, parameters: .dict(spec.parameters))
            if !session.appliedRoles.insert(key).inserted { return AppliedRole() }
        }
        session.roleChain.append((spec.name, path))
        defer { session.roleChain.removeLast() }
        if let message = RolePlugins.warning(rolePath: path, roleName: spec.name),
            !session.warnings.contains(where: { $0.message == message })
        {
            session.warn(message, at: spec.nameLocation)
        }

        var result = AppliedRole()
        let keywords = scope.keywords.inherited(by: spec.keywords)
        result.keywords = keywords
        for var dependency in meta.dependencies {
            dependency.extraSearchDirectories = [PathUtil.directory(of: path)]
            var dependencyScope = scope
            dependencyScope.keywords = keywords
            dependencyScope.role = nil
            dependencyScope.depth += 1
            let applied = try applyRole(dependency, scope: dependencyScope, dedupe: true, isDependency: true, collect: collect)
            result.dependencyNodes += applied.dependencyNodes
            if let instance = applied.instance {
                result.dependencyNodes.append(
                    .block(Block(location: dependency.location, block: applied.tasks, keywords: applied.keywords, role: instance)))
            }
            result.handlers += applied.handlers
        }

        let defaults = try roleVars(path, "defaults", from: spec.defaultsFrom, at: spec.location)
        let vars = try roleVars(path, "vars", from: spec.varsFrom, at: spec.location)
        let collection = CollectionRoles.collection(ofRoleAt: path)
        let name = spec.name.contains("/") || collection != nil ? (path as NSString).lastPathComponent : spec.name
        let instance = RoleInstance(
            name: name, path: path, defaults: defaults, vars: vars, parameters: spec.parameters,
            location: spec.location, isDependency: isDependency, collection: collection,
            allowDuplicates: meta.allowDuplicates)
        result.instance = instance

        var roleScope = Scope(
            file: path + "/tasks/main.yml", playDirectory: scope.playDirectory, role: instance, keywords: keywords,
            handlers: false, depth: scope.depth + 1)
        if let tasksFile = try roleFile(path, "tasks", spec.tasksFrom, at: spec.location) {
            result.tasks = try session.tasks.parseTaskFile(tasksFile, scope: roleScope, importedAt: spec.location)
        }
        if spec.validateArguments, let validation = argumentValidationTask(meta, spec: spec, role: instance, keywords: keywords) {
            result.tasks.insert(.task(validation), at: 0)
        }
        roleScope.handlers = true
        if let handlersFile = try roleFile(path, "handlers", spec.handlersFrom, at: spec.location) {
            let handlers = try HandlerCheck.flattenHandlers(try session.tasks.parseTaskFile(handlersFile, scope: roleScope, importedAt: spec.location))
            if collect {
                result.handlers += handlers
            } else if session.validationDepth > 0 {
                for handler in handlers {
                    if let name = handler.name {
                        session.dynamicHandlerNames.insert(name)
                        session.dynamicHandlerNames.insert("\(instance.name) : \(name)")
                    }
                    for topic in handler.listen { session.dynamicHandlerNames.insert(topic) }
                }
            } else {
                session.roleHandlers += handlers
            }
        }
        return result
    }

    /// Finds a role directory: `roles/` beside the playbook, the search paths, then the playbook's
    /// directory itself; a name with a slash is a path.
    func resolveRole(_ spec: RoleSpec, scope: Scope) throws -> String {
        let name = spec.name
        if Diagnostics.isTemplated(name) {
            throw Diagnostics.error(
                "role names cannot be templated here: roles are resolved before variables exist", at: spec.nameLocation,
                hint: "use include_role for a role chosen at run time")
        }
        let expanded = (name as NSString).expandingTildeInPath
        // `namespace.collection.role`, or a short name in the play's `collections:` or the
        // including role's own collection, is a collection's role first.
        let collectionRoots = [scope.playDirectory + "/collections", session.playbookDirectory + "/collections"]
            + session.collectionPaths
        var qualified: [(collection: String, role: String)] = []
        if let split = CollectionRoles.split(expanded) {
            qualified = [split]
        } else if !expanded.contains("/") && !expanded.contains(".") {
            let listed = scope.keywords.extra["collections"]?.listValue?.compactMap(\.stringValue) ?? []
            qualified = (listed + [scope.role?.collection].compactMap { $0 }).map { ($0, expanded) }
        }
        for (collection, role) in qualified {
            if let found = CollectionRoles.find(role: role, in: collection, roots: collectionRoots)
                ?? CollectionRoles.find(role: role, in: collection, roots: CollectionRoles.pythonSysPath)
            {
                return found
            }
        }
        var candidates: [String] = []
        if expanded.hasPrefix("/") {
            candidates = [expanded]
        } else if expanded.contains("/") || expanded.hasPrefix(".") {
            candidates = [scope.playDirectory, session.playbookDirectory, PathUtil.directory(of: spec.location.file)].map {
                PathUtil.join($0, expanded)
            }
        } else {
            candidates = spec.extraSearchDirectories.map { PathUtil.join($0, expanded) }
            candidates.append(PathUtil.join(scope.playDirectory + "/roles", expanded))
            candidates.append(PathUtil.join(session.playbookDirectory + "/roles", expanded))
            candidates += session.roleSearchPaths.map { PathUtil.join(PathUtil.absolute($0), expanded) }
            candidates.append(PathUtil.join(scope.playDirectory, expanded))
        }
        var seen = Set<String>()
        candidates = candidates.filter { seen.insert($0).inserted }
        if let found = candidates.first(where: PathUtil.isDirectory) { return found }
        var searched = candidates
        if let split = CollectionRoles.split(expanded) {
            searched = collectionRoots.map { "\($0)/ansible_collections/\(split.collection.replacingOccurrences(of: ".", with: "/"))/roles" }
                + ["the Python environment's ansible_collections"] + candidates
        }
        throw Diagnostics.error(
            "role '\(name)' not found", at: spec.nameLocation,
            hint: "searched: " + searched.joined(separator: ", "))
    }

    /// `tasks/main.yml` and friends: `name` (default "main") with .yml, .yaml, .json or no extension.
    /// Nil when the default file is absent; an error when an explicitly named one is.
    func roleFile(_ rolePath: String, _ directory: String, _ name: String?, at location: SourceLocation) throws -> String? {
        let base = rolePath + "/" + directory + "/" + (name ?? "main")
        let hasExtension = ["yml", "yaml", "json"].contains((base as NSString).pathExtension)
        let candidates = hasExtension ? [base] : [base + ".yml", base + ".yaml", base + ".json", base]
        if let found = candidates.first(where: PathUtil.isFile) { return found }
        if let name {
            throw Diagnostics.error(
                "\(directory)_from: '\(name)' not found in role at \(rolePath)", at: location,
                hint: "looked for " + candidates.joined(separator: ", "))
        }
        return nil
    }

    /// `defaults/` or `vars/`: `main.yml` (or `name`), or every file of a `main/` directory in order.
    func roleVars(
        _ rolePath: String, _ directory: String, from name: String?, at location: SourceLocation
    ) throws -> OrderedDictionary<String, Value> {
        let base = rolePath + "/" + directory + "/" + (name ?? "main")
        var files: [String] = []
        if PathUtil.isDirectory(base) && !PathUtil.isFile(base + ".yml") && !PathUtil.isFile(base + ".yaml") {
            let contents = ContentSource.entries(ofDirectory: base) ?? []
            files = contents.filter { ["yml", "yaml", "json"].contains(($0 as NSString).pathExtension) }.sorted()
                .map { base + "/" + $0 }.filter(PathUtil.isFile)
        } else if let file = try roleFile(rolePath, directory, name, at: location) {
            files = [file]
        }
        var result = OrderedDictionary<String, Value>()
        for file in files {
            for (key, value) in try varsFile(file) { result[key] = value }
        }
        return result
    }

    func varsFile(_ path: String) throws -> OrderedDictionary<String, Value> {
        guard let root = try session.yaml(path) else { return [:] }
        switch root.content {
        case .mapping:
            var result = OrderedDictionary<String, Value>()
            for entry in session.entries(of: root) { result[entry.key] = entry.value.value }
            return result
        case .scalar where root.scalarValue.isNull: return [:]
        default:
            throw Diagnostics.error("a variables file must be a mapping, got \(Diagnostics.describe(root))", at: root.location)
        }
    }

    /// Ansible's first task of a role with an argument spec for its entry point (`main`, or the
    /// tasks_from name): validate_argument_spec of the spec's options against the role's
    /// parameters and variables, tagged `always`.
    func argumentValidationTask(_ meta: RoleMeta, spec: RoleSpec, role: RoleInstance, keywords: Keywords) -> Task? {
        let entryPoint = spec.tasksFrom ?? "main"
        guard let entry = meta.argumentSpecs[entryPoint], entry.isTruthy else { return nil }
        var name = "Validating arguments against arg spec '\(entryPoint)'"
        if let summary = entry["short_description"] { name += " - " + (summary.stringValue ?? JSON.encode(summary)) }
        var own = Keywords()
        own.tags = ["always"]
        var task = Task(
            location: meta.argumentSpecsLocation ?? spec.location, action: "validate_argument_spec",
            actionAsWritten: "ansible.builtin.validate_argument_spec",
            args: [
                "argument_spec": entry["options"] ?? .dict([:]),
                "provided_arguments": .dict(spec.parameters),
                "validate_args_context": [
                    "type": "role", "name": .string(spec.name), "argument_spec_name": .string(entryPoint), "path": .string(role.path),
                ],
            ],
            keywords: keywords.inherited(by: own))
        task.name = name
        task.role = role
        return task
    }

    func roleMeta(_ rolePath: String) throws -> RoleMeta {
        let file = [rolePath + "/meta/main.yml", rolePath + "/meta/main.yaml", rolePath + "/meta/main"]
            .first(where: PathUtil.isFile)
        var meta = RoleMeta()
        // meta/argument_specs.yml wins over meta/main.yml's `argument_specs` (they are not merged).
        let specsFile = [rolePath + "/meta/argument_specs.yml", rolePath + "/meta/argument_specs.yaml"].first(where: PathUtil.isFile)
        if let specsFile, let specs = try session.yaml(specsFile) {
            meta.argumentSpecs = specs["argument_specs"]?.value.dictValue ?? [:]
            meta.argumentSpecsLocation = specs["argument_specs"]?.location ?? specs.location
        }
        guard let file, let root = try session.yaml(file) else { return meta }
        guard root.isMapping else {
            if root.isScalar && root.scalarValue.isNull { return meta }
            throw Diagnostics.error("role meta must be a mapping, got \(Diagnostics.describe(root))", at: root.location)
        }
        for entry in session.entries(of: root) {
            switch entry.key {
            case "dependencies":
                switch entry.value.content {
                case .scalar where entry.value.scalarValue.isNull: break
                case .sequence(let items):
                    meta.dependencies = try items.map { try roleEntrySpec($0, what: "role dependencies") }
                default:
                    throw Diagnostics.error(
                        "'dependencies' must be a list of roles, got \(Diagnostics.describe(entry.value))",
                        at: entry.value.location)
                }
            case "allow_duplicates":
                if case .bool(let b)? = try keywords.boolish(entry.value, keyword: entry.key) { meta.allowDuplicates = b }
            case "argument_specs" where specsFile == nil:
                meta.argumentSpecs = entry.value.value.dictValue ?? [:]
                meta.argumentSpecsLocation = entry.value.location
            default:
                // galaxy_info, collections, ...: documentation for other tools.
                continue
            }
        }
        return meta
    }
}
