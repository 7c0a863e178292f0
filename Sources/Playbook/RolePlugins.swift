import Foundation

/// Python plugins a role ships (`library/`, `filter_plugins/`, ...): pgha-play runs no Python, so
/// the loader names them in a warning when the role loads; a task or template that uses one fails
/// when it runs, naming the missing module or filter.
enum RolePlugins {
    /// The plugin directories Ansible reads from a role, and what each holds.
    static let directories: [(name: String, kind: String)] = [
        ("library", "module"), ("module_utils", "module utility"), ("action_plugins", "action plugin"),
        ("filter_plugins", "filter plugin"), ("test_plugins", "test plugin"), ("lookup_plugins", "lookup plugin"),
        ("callback_plugins", "callback plugin"), ("connection_plugins", "connection plugin"), ("vars_plugins", "vars plugin"),
        ("strategy_plugins", "strategy plugin"),
    ]

    /// The warning for the role at `path`, or nil when it ships no Python.
    static func warning(rolePath path: String, roleName: String) -> String? {
        var found: [String] = []
        for directory in directories {
            let full = path + "/" + directory.name
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: full) else { continue }
            for file in files.sorted() where file.hasSuffix(".py") && file != "__init__.py" {
                let stem = String(file.dropLast(3))
                found.append(directory.name == "library" ? "\(directory.name)/\(file) (module '\(stem)')" : "\(directory.name)/\(file)")
            }
        }
        guard !found.isEmpty else { return nil }
        return "role '\(roleName)' ships Python plugins pgha-play cannot run: " + found.joined(separator: ", ")
            + "; a task or template that uses one fails when it runs"
    }
}
