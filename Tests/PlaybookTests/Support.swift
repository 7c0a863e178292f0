import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Playbook

/// A catalog with a handful of modules, enough to exercise canonicalisation and argument checks.
struct FakeCatalog: ModuleCatalog {
    /// Module -> allowed arguments (nil: anything) and required ones.
    static let modules: [String: (allowed: Set<String>?, required: Set<String>)] = [
        "copy": (["src", "dest", "content", "mode", "owner", "group", "backup", "force", "remote_src"], ["dest"]),
        "file": (["path", "state", "mode", "owner", "group", "src", "recurse"], ["path"]),
        "template": (["src", "dest", "mode", "owner", "group", "backup"], ["src", "dest"]),
        "command": (["_raw_params", "chdir", "creates", "removes", "argv", "stdin", "cmd"], []),
        "shell": (["_raw_params", "chdir", "creates", "removes", "executable", "stdin", "cmd"], []),
        "raw": (nil, []), "script": (nil, []),
        "service": (["name", "state", "enabled"], ["name"]),
        "systemd": (["name", "state", "enabled", "daemon_reload"], []),
        "apt": (["name", "state", "update_cache"], []),
        "lineinfile": (["path", "line", "regexp", "state", "create"], ["path"]),
        "postgresql_query": (["query", "db", "login_user"], ["query"]),
        "sysctl": (["name", "value", "state"], ["name"]),
        "debug": (["msg", "var", "verbosity"], []),
        "set_fact": (nil, []), "assert": (["that", "fail_msg", "success_msg", "quiet"], ["that"]),
        "fail": (["msg"], []), "meta": (nil, []), "include_tasks": (nil, []), "import_tasks": (nil, []),
        "include_role": (nil, []), "import_role": (nil, []), "include_vars": (nil, []), "add_host": (nil, []),
        "group_by": (nil, []), "setup": (nil, []), "gather_facts": (nil, []), "pause": (nil, []), "ping": (nil, []),
        "wait_for_connection": (nil, []), "set_stats": (nil, []), "validate_argument_spec": (nil, []),
        "wait_for": (nil, []), "user": (nil, []),
    ]

    func canonicalName(for action: String) -> String? {
        var name = action
        for prefix in ["ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.", "community.postgresql."]
        where action.hasPrefix(prefix) {
            name = String(action.dropFirst(prefix.count))
        }
        return Self.modules[name] != nil ? name : nil
    }

    func validateStatically(
        module: String, args: OrderedDictionary<String, Value>, locations: [String: PGHACore.SourceLocation],
        taskLocation: PGHACore.SourceLocation
    ) throws {
        guard let spec = Self.modules[module] else { return }
        if let allowed = spec.allowed {
            for key in args.keys where !allowed.contains(key) {
                throw PGHAError(.semantic, "\(module): unsupported parameter '\(key)'", at: locations[key] ?? taskLocation)
                    .withSourceLine()
            }
        }
        for key in spec.required.sorted() where args[key] == nil {
            throw PGHAError(.semantic, "\(module): missing required argument '\(key)'", at: taskLocation).withSourceLine()
        }
        if module == "file", case .string(let state)? = args["state"], !state.contains("{{"),
            !["file", "directory", "absent", "link", "touch", "hard"].contains(state)
        {
            throw PGHAError(.semantic, "file: invalid state '\(state)'", at: locations["state"] ?? taskLocation)
        }
    }

    var knownModuleNames: [String] { Array(Self.modules.keys) }
}

/// A temporary directory holding a project's files, removed when the value is released.
final class Project {
    let root: String

    init(_ files: [String: String]) throws {
        root = NSTemporaryDirectory() + "pb-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (path, text) in files { try write(path, text) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    var loader: PlaybookLoader { PlaybookLoader(roleSearchPaths: [root + "/shared-roles"], moduleCatalog: FakeCatalog()) }

    func load(_ playbook: String = "site.yml") throws -> Playbook {
        try loader.load(playbookPath: path(playbook))
    }

    /// Loads and returns the error, failing the test if loading succeeded or threw something else.
    func loadError(_ playbook: String = "site.yml", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> PGHAError? {
        do {
            _ = try load(playbook)
            Issue.record("expected a load error", sourceLocation: sourceLocation)
            return nil
        } catch let error as PGHAError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// Loads a single-file playbook (with `files/a`, for tasks copying `src: a`).
func loadPlaybook(_ text: String) throws -> Playbook {
    try Project(["site.yml": text, "files/a": "a\n"]).load()
}

/// The tasks of a node list, blocks flattened in order.
func flatTasks(_ nodes: [TaskNode]) -> [Task] {
    nodes.flatMap { node -> [Task] in
        switch node {
        case .task(let task): return [task]
        case .block(let block): return flatTasks(block.block) + flatTasks(block.rescue) + flatTasks(block.always)
        }
    }
}

extension Play {
    var allTasks: [Task] { flatTasks(preTasks) + flatTasks(roles) + flatTasks(tasks) + flatTasks(postTasks) }
}
