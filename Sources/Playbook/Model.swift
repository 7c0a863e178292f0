import OrderedCollections
import PGHACore

/// A playbook after loading: every static import (`import_playbook`, `import_tasks`, `import_role`,
/// `roles:`, role `meta` dependencies) already expanded, every keyword checked.
public struct Playbook: Sendable {
    /// Absolute path of the playbook file.
    public var path: String
    public var plays: [Play]
    /// Things Ansible accepts but that are probably mistakes (duplicate mapping keys, `{{ }}` in `when`).
    public var warnings: [PGHAError] = []

    public init(path: String, plays: [Play]) {
        self.path = path
        self.plays = plays
    }

    /// The directory holding the playbook (`playbook_dir`).
    public var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}

/// A string to be templated, with the place it was written (`when:`, `until:`, `changed_when:`, ...).
public struct Expression: Sendable, Hashable {
    public var text: String
    public var location: SourceLocation

    public init(_ text: String, at location: SourceLocation) {
        self.text = text
        self.location = location
    }
}

/// Keywords that plays, roles and blocks pass down to the tasks inside them.
///
/// Values stay unrendered (`become: "{{ use_sudo }}"` is legal); the engine renders them per host.
public struct Keywords: Sendable {
    /// All conditions must hold; inherited conditions come first.
    public var when: [Expression] = []
    public var tags: [String] = []
    public var become: Value?
    public var becomeUser: Value?
    public var becomeMethod: Value?
    public var ignoreErrors: Value?
    public var ignoreUnreachable: Value?
    public var checkMode: Value?
    public var diff: Value?
    public var noLog: Value?
    /// Environments from outer to inner; later ones win.
    public var environment: [Value] = []
    /// Block/task `vars:` (outer to inner scopes are merged by the loader, inner wins).
    public var vars: OrderedDictionary<String, Value> = [:]
    public var delegateTo: Value?
    public var runOnce: Value?
    public var anyErrorsFatal: Value?
    /// Inheritable keywords without a field of their own: `remote_user`, `connection`, `port`,
    /// `become_flags`, `become_exe`, `throttle`, `timeout`, `module_defaults`, `debugger`.
    public var extra: OrderedDictionary<String, Value> = [:]
    /// A block's `notify:` (handler names with where each was written): tasks inside that have no
    /// `notify` of their own notify these. The loader has already copied them into `Task.notify`.
    public var notify: [Expression]?

    public init() {}

    /// The keywords a child sees: the parent's, overridden by the child's own.
    public func inherited(by child: Keywords) -> Keywords {
        var result = self
        result.when = when + child.when
        var seen = Set(tags)
        result.tags = tags + child.tags.filter { seen.insert($0).inserted }
        if child.become != nil { result.become = child.become }
        if child.becomeUser != nil { result.becomeUser = child.becomeUser }
        if child.becomeMethod != nil { result.becomeMethod = child.becomeMethod }
        if child.ignoreErrors != nil { result.ignoreErrors = child.ignoreErrors }
        if child.ignoreUnreachable != nil { result.ignoreUnreachable = child.ignoreUnreachable }
        if child.checkMode != nil { result.checkMode = child.checkMode }
        if child.diff != nil { result.diff = child.diff }
        if child.noLog != nil { result.noLog = child.noLog }
        result.environment = environment + child.environment
        for (key, value) in child.vars { result.vars[key] = value }
        if child.delegateTo != nil { result.delegateTo = child.delegateTo }
        if child.runOnce != nil { result.runOnce = child.runOnce }
        if child.anyErrorsFatal != nil { result.anyErrorsFatal = child.anyErrorsFatal }
        for (key, value) in child.extra { result.extra[key] = value }
        if child.notify != nil { result.notify = child.notify }
        return result
    }
}

/// A role as applied in one place of a play, with what it brings.
///
/// A reference type so every task of the role shares one instance (the engine keys role variable
/// scopes and `role_path` on it).
public final class RoleInstance: Sendable {
    public let name: String
    /// Absolute path of the role directory (`role_path`).
    public let path: String
    /// `defaults/main.yml`: the lowest precedence of all variables.
    public let defaults: OrderedDictionary<String, Value>
    /// `vars/main.yml`: above play vars and vars_files.
    public let vars: OrderedDictionary<String, Value>
    /// Parameters from the `roles:` entry or `import_role`/`include_role` `vars:`.
    public let parameters: OrderedDictionary<String, Value>
    /// Where the role was applied.
    public let location: SourceLocation
    /// True for a role pulled in through another role's `meta/main.yml` dependencies.
    public let isDependency: Bool
    /// The collection a role named `namespace.collection.role` comes from (`namespace.collection`).
    public let collection: String?
    /// `allow_duplicates` of the role's meta: it may run again with the same parameters.
    public let allowDuplicates: Bool

    public init(
        name: String, path: String, defaults: OrderedDictionary<String, Value>,
        vars: OrderedDictionary<String, Value>, parameters: OrderedDictionary<String, Value>,
        location: SourceLocation, isDependency: Bool = false, collection: String? = nil, allowDuplicates: Bool = false
    ) {
        self.name = name
        self.path = path
        self.defaults = defaults
        self.vars = vars
        self.parameters = parameters
        self.location = location
        self.isDependency = isDependency
        self.collection = collection
        self.allowDuplicates = allowDuplicates
    }

    /// Which applications of a role are the same role to Ansible's role cache: the same
    /// directory with the same parameters.
    public var identity: String { path + "\u{0}" + JSON.encode(.dict(parameters), style: .compact) }

    /// `ansible_role_name`: the name with its collection (`namespace.collection.role`).
    public var qualifiedName: String { collection.map { "\($0).\(name)" } ?? name }
}

/// A loop: `loop:`, `with_items:`, `with_dict:`, ... with `loop_control`.
public struct Loop: Sendable {
    public enum Kind: String, Sendable {
        /// `loop:`: the value must render to a list.
        case loop
        /// `with_items`: flattens one level.
        case items
        case list
        /// `with_dict`: a dict becomes [{key, value}].
        case dict
        case indexedItems = "indexed_items"
        case together
        case nested
        case sequence
        case subelements
        case fileglob
        case lines
        /// Any other `with_<name>`: the lookup plugin `name` run on the terms, as Ansible runs it.
        case lookup
    }

    public var kind: Kind
    /// The plugin of a `.lookup` loop (`first_found` for `with_first_found`).
    public var lookupName: String?
    public var items: Value
    public var location: SourceLocation
    public var loopVar: String = "item"
    public var indexVar: String?
    public var label: Value?
    public var pause: Double?
    public var extended: Bool = false
    /// `loop_control.break_when`: stop looping once all these hold after an item.
    public var breakWhen: [Expression] = []

    public init(kind: Kind, items: Value, location: SourceLocation) {
        self.kind = kind
        self.items = items
        self.location = location
    }
}

/// One task: a module (or engine action such as `set_fact`) with its arguments and keywords.
public struct Task: Sendable {
    public var name: String?
    public var location: SourceLocation
    /// The action as written, e.g. "ansible.builtin.copy" or "copy".
    public var actionAsWritten: String
    /// Short module name, e.g. "copy", "include_tasks", "meta".
    public var action: String
    /// Module arguments: a dict; free-form text (command, shell, raw, include_tasks x.yml, meta
    /// flush_handlers) arrives under `_raw_params`.
    public var args: OrderedDictionary<String, Value>
    /// Where each argument was written, for argument errors.
    public var argLocations: [String: SourceLocation] = [:]
    public var keywords: Keywords
    /// The tags of the enclosing play, role and blocks, without the task's own: what the tasks of a
    /// dynamic include inherit (the include's own tags select the include alone, as in Ansible).
    public var inheritedTags: [String] = []
    public var loop: Loop?
    public var register: String?
    public var notify: [String] = []
    /// Where each `notify` entry was written (parallel to `notify`).
    public var notifyLocations: [SourceLocation] = []
    /// Handlers only: topics this handler also answers to.
    public var listen: [String] = []
    public var changedWhen: [Expression]?
    public var failedWhen: [Expression]?
    public var until: Expression?
    public var retries: Value?
    public var delay: Value?
    public var role: RoleInstance?
    /// Task-only keywords without a field of their own: `async`, `poll`, `delegate_facts`.
    public var extra: OrderedDictionary<String, Value> = [:]
    /// Why the task cannot run (an unknown module or loop), found when it was loaded but reported
    /// only if it runs: it is in content that may never run (under a condition, in a rescue, a
    /// handler, an included file), where Ansible reports it only then.
    public var deferredError: PGHAError?

    public init(location: SourceLocation, action: String, actionAsWritten: String, args: OrderedDictionary<String, Value>, keywords: Keywords) {
        self.location = location
        self.action = action
        self.actionAsWritten = actionAsWritten
        self.args = args
        self.keywords = keywords
    }

    /// What the output shows: the name, or `action` when unnamed (`include_role : NAME` for a role
    /// include), prefixed by `role : ` as Ansible does (a collection's role by its full name).
    public var displayName: String {
        var base = name ?? actionAsWritten
        if name == nil, action == "include_role" || action == "import_role", case .string(let role)? = args["name"] {
            base += " : " + role
        }
        if let role { return "\(role.qualifiedName) : \(base)" }
        return base
    }
}

/// `block:` with its `rescue:` and `always:` sections.
public struct Block: Sendable {
    public var name: String?
    public var location: SourceLocation
    public var block: [TaskNode]
    public var rescue: [TaskNode]
    public var always: [TaskNode]
    /// Keywords already merged with the enclosing scopes' (tasks inside inherit from these).
    public var keywords: Keywords
    public var role: RoleInstance?

    public init(
        name: String? = nil, location: SourceLocation, block: [TaskNode], rescue: [TaskNode] = [],
        always: [TaskNode] = [], keywords: Keywords, role: RoleInstance? = nil
    ) {
        self.name = name
        self.location = location
        self.block = block
        self.rescue = rescue
        self.always = always
        self.keywords = keywords
        self.role = role
    }
}

public indirect enum TaskNode: Sendable {
    case task(Task)
    case block(Block)
}

/// One play. Task lists hold fully inherited keywords: a task's `keywords` already include the
/// play's, role's and enclosing blocks'.
public struct Play: Sendable {
    public var name: String?
    public var location: SourceLocation
    /// Host pattern, possibly templated (`hosts: "{{ target }}"`).
    public var hosts: Value
    public var vars: OrderedDictionary<String, Value> = [:]
    /// Files as written (may be templated; a nested list means "first that exists").
    public var varsFiles: [Value] = []
    public var gatherFacts: Value?
    public var gatherSubset: [String] = []
    public var serial: [Value] = []
    /// "linear" or "free".
    public var strategy: String = "linear"
    public var anyErrorsFatal: Bool = false
    public var maxFailPercentage: Double?
    public var forceHandlers: Bool = false
    /// `order:`: inventory, reverse_inventory, sorted, reverse_sorted or shuffle.
    public var order: String = "inventory"
    /// `remote_user:` (a play-level default: inventory `ansible_user` still wins).
    public var remoteUser: Value?
    /// `connection:` (e.g. "local").
    public var connection: Value?
    public var port: Value?
    /// `module_defaults:` as written.
    public var moduleDefaults: Value?
    public var gatherTimeout: Value?
    /// `fact_path:`.
    public var factPath: Value?
    /// Play-level keywords (tags, become, environment, ...) that every task inherits.
    public var keywords: Keywords = Keywords()
    public var preTasks: [TaskNode] = []
    /// `roles:` expanded into blocks (one per role, dependencies first), run before `tasks`.
    public var roles: [TaskNode] = []
    public var tasks: [TaskNode] = []
    public var postTasks: [TaskNode] = []
    /// Play handlers and those of every role, in definition order.
    public var handlers: [Task] = []

    public init(location: SourceLocation, hosts: Value) {
        self.location = location
        self.hosts = hosts
    }
}
