import OrderedCollections
import PGHACore
import Playbook

/// What the engine remembers about one host during a run (part of `RunState`).
struct HostState: Sendable {
    let name: String
    /// `ansible_facts` (also injected as top-level `ansible_*` variables).
    var facts: OrderedDictionary<String, Value> = [:]
    /// Fact names that came from modules other than setup: injected without the `ansible_` prefix.
    var unprefixedFacts: Set<String> = []
    /// `set_fact` and `register` results: survive across plays, as in Ansible.
    var hostFacts: OrderedDictionary<String, Value> = [:]
    /// `include_vars` results.
    var includedVars: OrderedDictionary<String, Value> = [:]
    var stats = HostStats()
    /// Failed in this play (not ignored, not rescued): receives no more tasks.
    var failed = false
    var unreachable = false
    /// `meta: end_host`, or the play ended for it.
    var ended = false
    /// Handler names notified and not yet run, in notification order.
    var notified: OrderedSet<String> = []

    init(name: String) {
        self.name = name
    }

    var isActive: Bool { !failed && !unreachable && !ended }
}

/// What one task did on one host, applied by the play executor after the task finished everywhere.
struct TaskOutcome: Sendable {
    var host: String
    var status: HostStatus
    var result: Value
    var ignored = false
    /// The task failed but errors were ignored (counts as ok + ignored).
    var registered: (name: String, value: Value)?
    var setFacts: OrderedDictionary<String, Value> = [:]
    var includedVars: OrderedDictionary<String, Value> = [:]
    var facts: OrderedDictionary<String, Value> = [:]
    var moduleFacts: OrderedDictionary<String, Value> = [:]
    var notify: [String] = []
    /// A notified name no handler answers to: the run stops, as Ansible's does, without reporting
    /// this result.
    var missingHandler: String?
    var meta: String?
    /// Dynamic includes to run next on this host: (node lists, item vars).
    var includes: [IncludeRequest] = []
    var addHosts: [(host: String, groups: [String], vars: OrderedDictionary<String, Value>)] = []
    var diffs: [DiffText] = []
    /// `delegate_facts: true`: set_fact/facts go to this host instead.
    var factsDelegatedTo: String?
    /// Print the result even without -v (debug output).
    var showResult = false
    /// Whether this host is lost for the rest of the play.
    var unreachable: Bool { status == .unreachable }
    /// The run was interrupted (Ctrl-C) while the task ran here: it neither ran nor failed, and
    /// leaves the run's state as it was.
    var interrupted = false

    init(host: String, status: HostStatus, result: Value) {
        self.host = host
        self.status = status
        self.result = result
    }
}

/// An `include_tasks` / `include_role` resolved for one host (and one loop item).
struct IncludeRequest: Sendable {
    var key: String
    var nodes: [TaskNode]
    var handlers: [Task]
    /// Variables the included tasks see (include params, loop item).
    var vars: OrderedDictionary<String, Value>
    var role: RoleInstance?
    /// `include_role` with `public: true`: the role's defaults and vars stay visible afterwards.
    var isPublic = false
    /// Set by include_role (`role` is the role included, not the including task's).
    var includesRole = false
    /// What the output names the include by: the task file's path, or the role's name.
    var shownName = ""
    /// The loop item's label when the include loops.
    var itemLabel: String?
    /// The included file or role did not load (bad YAML, an unknown module or keyword): as in
    /// Ansible, the include itself succeeds and the run stops when its tasks would start.
    var loadError: PGHAError?
}
