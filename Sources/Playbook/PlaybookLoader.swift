import Declarations
import Foundation
import OrderedCollections
import PGHACore
import Vault

/// Loads playbooks, task files and roles (ansible-core 2.19 dialect) into the model, expanding every
/// static import and checking everything that can be checked before a host is touched.
///
/// Errors are `PGHAError`s of kind `.syntax` (YAML) or `.semantic`, located at the offending line
/// with the line's text attached.
///
/// What the engine receives:
/// - `import_tasks` and `import_role` are expanded in place (a role as a `Block` with `role` set);
///   `include_tasks` and `include_role` stay tasks, to be loaded with `loadTasks`/`loadRole` when
///   they run. Their `tags`/`when` belong to the include task only; `apply:` stays in `args`.
/// - A task's arguments that are one template (`copy: "{{ args }}"`, `args: "{{ args }}"`) arrive
///   as `_variable_params`, to be rendered into a mapping per host.
/// - Keywords without a field of their own: `Keywords.extra` (inheritable: `remote_user`,
///   `connection`, `port`, `become_flags`, `become_exe`, `throttle`, `timeout`,
///   `module_defaults`, `debugger`) and `Task.extra` (`async`, `poll`, `delegate_facts`).
/// - Handlers are flat: blocks in `handlers:` are dissolved into their (keyword-inheriting) tasks.
public struct PlaybookLoader: Sendable {
    /// Directories searched for roles after `roles/` beside the playbook.
    public var roleSearchPaths: [String]
    /// Every action a task may name, with its arguments (`Engine.ActionRegistry.catalog`).
    public var catalog: ActionCatalog
    /// The strategies a play may name (`Engine.Strategies.names`).
    public var strategies: [String]
    /// The playbook's directory for run-time loads (`roles/` beside it is searched first). When
    /// nil, it is inferred from the including task's file (the directory above `roles/`, or the
    /// file's own directory).
    public var playbookDirectory: String?
    /// Decrypts vaulted playbooks, task files and role vars/defaults, and inline `!vault` values.
    public var vault: VaultContext
    /// When set, every string of every file loaded is parsed as Jinja2 as it loads
    /// (`TemplateSyntaxCheck`), files loaded at run time included.
    public var templateSyntax: TemplateSyntax?
    /// Where collections are installed (`CollectionRoles.configuredPaths`), searched for roles
    /// named `namespace.collection.role` after `collections/` beside the playbook.
    public var collectionPaths: [String]

    public init(
        roleSearchPaths: [String], catalog: ActionCatalog, strategies: [String], playbookDirectory: String? = nil,
        vault: VaultContext = .none, templateSyntax: TemplateSyntax? = nil, collectionPaths: [String] = []
    ) {
        self.roleSearchPaths = roleSearchPaths
        self.catalog = catalog
        self.strategies = strategies
        self.playbookDirectory = playbookDirectory
        self.vault = vault
        self.templateSyntax = templateSyntax
        self.collectionPaths = collectionPaths
    }

    /// The engine's run-time seam: `include_tasks` of `file` (already resolved) from the task at
    /// `location`. A `listen:` in the file is accepted, as the include may be a handler.
    public func loadTasks(
        file: String, role: RoleInstance?, inheriting keywords: Keywords, location: SourceLocation
    ) throws -> [TaskNode] {
        let path = PathUtil.absolute(file)
        let directory = playbookDirectory ?? Self.inferPlaybookDirectory(from: location.file)
        let session = LoadSession(loader: self, playbookDirectory: directory)
        session.listenAnywhere = true
        let scope = Scope(file: path, playDirectory: directory, role: role, keywords: keywords, handlers: false, depth: 0)
        return try session.tasks.parseTaskFile(path, scope: scope, importedAt: location)
    }

    /// The engine's run-time seam: `include_role` from the task at `location`.
    public func loadRole(
        name: String, tasksFrom: String?, parameters: OrderedDictionary<String, Value>, inheriting keywords: Keywords,
        location: SourceLocation, validateArguments: Bool
    ) throws -> (tasks: [TaskNode], handlers: [Task], role: RoleInstance) {
        try loadRole(
            name: name, parameters: parameters, location: location, tasksFrom: tasksFrom, inheriting: keywords,
            playbookDirectory: playbookDirectory ?? Self.inferPlaybookDirectory(from: location.file),
            validateArguments: validateArguments)
    }

    /// `.../site/roles/web/tasks/main.yml` -> `.../site` (`builtin:roles/web/...` -> `builtin:`);
    /// any other file -> its directory.
    static func inferPlaybookDirectory(from file: String) -> String {
        if file.hasPrefix(ContentSource.builtinRoles + "/") { return ContentSource.builtinPrefix }
        if let range = file.range(of: "/roles/", options: .backwards) {
            return String(file[..<range.lowerBound])
        }
        return PathUtil.directory(of: file)
    }

    /// Loads a playbook with its imported playbooks, roles and task files.
    public func load(playbookPath: String) throws -> Playbook {
        let path = PathUtil.absolute(playbookPath)
        guard PathUtil.isFile(path) else {
            throw PGHAError(.io, "playbook not found", at: SourceLocation(file: path))
        }
        let session = LoadSession(loader: self, playbookDirectory: PathUtil.directory(of: path))
        let plays = try session.plays.loadPlaybookFile(path, outer: Keywords(), importVars: [:], importedAt: nil)
        var playbook = Playbook(path: path, plays: plays)
        playbook.warnings = session.warnings
        return playbook
    }

    /// Every problem `load` would find, not only the first (for `--syntax-check`): loading goes on
    /// after an error with the next play, role entry or task. Empty when the playbook is valid.
    public func validate(playbookPath: String) -> [PGHAError] {
        let path = PathUtil.absolute(playbookPath)
        guard PathUtil.isFile(path) else {
            return [PGHAError(.io, "playbook not found", at: SourceLocation(file: path))]
        }
        let session = LoadSession(loader: self, playbookDirectory: PathUtil.directory(of: path))
        session.collectErrors = true
        do {
            _ = try session.plays.loadPlaybookFile(path, outer: Keywords(), importVars: [:], importedAt: nil)
        } catch let error as PGHAError {
            session.record(error)
        } catch {
            session.record(PGHAError(.semantic, "\(error)", at: SourceLocation(file: path)))
        }
        return session.errors
    }

    /// Loads a task file at run time (`include_tasks`): the tasks inherit `keywords` (the include's
    /// keywords, minus what does not pass to dynamically included tasks, plus `apply:`).
    ///
    /// - Parameters:
    ///   - file: the file's path (see `resolveTasksFile`).
    ///   - role: the role the including task belongs to, if any.
    ///   - handlers: true when the include is itself a handler.
    public func loadTasks(
        file: String, role: RoleInstance?, inheriting keywords: Keywords, playbookDirectory: String? = nil,
        handlers: Bool = false
    ) throws -> [TaskNode] {
        let path = PathUtil.absolute(file)
        let directory = playbookDirectory ?? self.playbookDirectory ?? PathUtil.directory(of: path)
        let session = LoadSession(loader: self, playbookDirectory: directory)
        let scope = Scope(
            file: path, playDirectory: directory, role: role, keywords: keywords, handlers: handlers, depth: 0)
        return try session.tasks.parseTaskFile(path, scope: scope, importedAt: nil)
    }

    /// Loads a role at run time (`include_role`): its dependencies' blocks followed by its own tasks
    /// (tasks carry `role`), its handlers and the role instance.
    public func loadRole(
        name: String, parameters: OrderedDictionary<String, Value>, location: SourceLocation,
        tasksFrom: String? = nil, varsFrom: String? = nil, defaultsFrom: String? = nil,
        handlersFrom: String? = nil, inheriting keywords: Keywords = Keywords(), playbookDirectory: String? = nil,
        validateArguments: Bool = true
    ) throws -> (tasks: [TaskNode], handlers: [Task], role: RoleInstance) {
        let directory = playbookDirectory ?? self.playbookDirectory ?? Self.inferPlaybookDirectory(from: location.file)
        let session = LoadSession(loader: self, playbookDirectory: directory)
        let scope = Scope(
            file: location.file, playDirectory: directory, role: nil, keywords: keywords, handlers: false, depth: 0)
        var spec = RoleSpec(name: name, nameLocation: location, location: location)
        spec.parameters = parameters
        spec.tasksFrom = tasksFrom
        spec.varsFrom = varsFrom
        spec.defaultsFrom = defaultsFrom
        spec.handlersFrom = handlersFrom
        spec.validateArguments = validateArguments
        let applied = try session.roles.applyRole(spec, scope: scope, dedupe: false, isDependency: false, collect: true)
        guard let instance = applied.instance else {
            throw Diagnostics.error("role '\(name)' could not be applied", at: location)
        }
        return (applied.dependencyNodes + applied.tasks, applied.handlers, instance)
    }

    /// Finds the file an `include_tasks`/`import_tasks` names, as Ansible searches: the role's
    /// `tasks/`, the including file's directory, then the playbook's directory.
    public func resolveTasksFile(
        _ name: String, includedFrom location: SourceLocation, role: RoleInstance?, playbookDirectory: String
    ) -> String? {
        PathUtil.firstFile(name, in: IncludeLoader.taskSearchDirectories(
            file: location.file, role: role, playDirectory: playbookDirectory, playbookDirectory: playbookDirectory))
    }
}

/// Where task parsing is: the file, the role, the inherited keywords.
struct Scope {
    var file: String
    /// Directory of the playbook file holding the current play.
    var playDirectory: String
    var role: RoleInstance?
    var keywords: Keywords
    var handlers: Bool
    var depth: Int
    /// Inside a `rescue:` section: what is here runs only after a failure.
    var inRescue = false

    /// Whether a task with its own `when` conditions (`ownConditions`) may never run here: it or
    /// an enclosing block, role or import has a condition, it is a handler or in a rescue, or it
    /// is in a file that is only included at run time. Such a task is checked as Ansible checks
    /// it: an unknown module, unknown arguments, a missing file and a missing handler are errors
    /// only if it runs. What is certain to run is checked before anything runs.
    func mayNotRun(ownConditions: [Expression], session: LoadSession) -> Bool {
        !keywords.when.isEmpty || !ownConditions.isEmpty || handlers || inRescue || session.validationDepth > 0
    }
}

/// One role application as written (`roles:` entry, `import_role`, dependency, `include_role`).
struct RoleSpec {
    var name: String
    var nameLocation: SourceLocation
    var location: SourceLocation
    var parameters: OrderedDictionary<String, Value> = [:]
    var keywords = Keywords()
    var tasksFrom: String?
    var varsFrom: String?
    var defaultsFrom: String?
    var handlersFrom: String?
    /// Extra directories to search first (a dependency's parent role's siblings).
    var extraSearchDirectories: [String] = []
    /// Check the role's argument spec first (false with `rolespec_validate: false`).
    var validateArguments = true
}

struct AppliedRole {
    var dependencyNodes: [TaskNode] = []
    var tasks: [TaskNode] = []
    var handlers: [Task] = []
    var instance: RoleInstance?
    var keywords = Keywords()
}

struct RoleKey: Hashable {
    var path: String
    var tasksFrom: String?
    var parameters: Value
}

struct RoleMeta {
    var dependencies: [RoleSpec] = []
    var allowDuplicates = false
    /// `argument_specs` by entry point (`main`, or a tasks_from name), with where they were read.
    var argumentSpecs: OrderedDictionary<String, Value> = [:]
    var argumentSpecsLocation: SourceLocation?
}

/// Paths of controller files, on disk or built in (`builtin:roles/...`, see `ContentSource`).
enum PathUtil {
    static func absolute(_ path: String) -> String {
        if ContentSource.isBuiltin(path) { return ContentSource.standardize(path) }
        let expanded = (path as NSString).expandingTildeInPath
        let joined = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        return (joined as NSString).standardizingPath
    }

    static func directory(of path: String) -> String { ContentSource.directory(of: path) }

    static func join(_ directory: String, _ name: String) -> String { ContentSource.join(directory, name) }

    static func isFile(_ path: String) -> Bool { ContentSource.isFile(path) }

    static func isDirectory(_ path: String) -> Bool { ContentSource.isDirectory(path) }

    static func firstFile(_ name: String, in directories: [String]) -> String? {
        let expanded = (name as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") || ContentSource.isBuiltin(expanded) {
            return isFile(expanded) ? ContentSource.standardize(expanded) : nil
        }
        for directory in directories {
            let candidate = join(directory, expanded)
            if isFile(candidate) { return candidate }
        }
        return nil
    }
}
