import Foundation
import PGHACore

/// What ansible.cfg is to Ansible: found by walking up from the working directory to a
/// `pgha-play.yml`, it names the default inventory and where playbooks and roles live, so
/// `pgha-play site.yml` works from the project's directory without flags. The file is optional:
/// without one, the working directory plays its part.
///
/// Where things are looked for:
/// - inventory: `-i`, else `inventory:` of pgha-play.yml, else the first of `hosts.ini`,
///   `inventory/` and `inventory.ini` in the project's directory (the working directory when
///   there is no pgha-play.yml);
/// - a playbook named bare (`site.yml`): the path as given, then `playbook_dirs` (default
///   `playbooks/`), then the playbooks built into pgha-play;
/// - a role: `roles/` beside the playbook, then `roles_path` (default `roles/`), then the roles
///   built into pgha-play, so a project's `roles/haproxy` overrides the built-in haproxy.
public struct ProjectConfiguration: Sendable {
    /// Directory holding pgha-play.yml (nil when none was found).
    public var root: String?
    public var defaultInventory: String?
    /// The user's playbook directories (the built-in playbooks are searched after them).
    public var playbookDirectories: [String] = []
    /// The roles path: the user's directories, then `ContentSource.builtinRoles`.
    public var roleSearchPaths: [String] = []
    /// `collections_path` (absolute): where installed collections are, as in ansible.cfg.
    public var collectionPaths: [String] = []
    /// `vault_password_file` (absolute): the vault password used when none is given on the command line.
    public var vaultPasswordFile: String?

    public init(root: String? = nil) {
        self.root = root
    }

    public static let fileName = "pgha-play.yml"

    /// Inventories tried, in order, in the project's directory when none is named.
    public static let conventionalInventories = ["hosts.ini", "inventory", "inventory.ini"]

    public static func discover(from directory: String) -> ProjectConfiguration {
        var current = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = current.appendingPathComponent(fileName).path
            if FileManager.default.fileExists(atPath: candidate) {
                return (try? load(candidate)) ?? ProjectConfiguration(root: current.path).withDefaults(base: current.path)
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        return ProjectConfiguration().withDefaults(base: URL(fileURLWithPath: directory).standardizedFileURL.path)
    }

    public static func load(_ path: String) throws -> ProjectConfiguration {
        let root = (path as NSString).deletingLastPathComponent
        var config = ProjectConfiguration(root: root)
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : root + "/" + p }
        if let node = try YAMLLoader.load(contentsOf: path), case .dict(let dict) = node.value {
            if let inventory = dict["inventory"]?.stringValue { config.defaultInventory = absolute(inventory) }
            if let dirs = dict["playbook_dirs"]?.listValue { config.playbookDirectories = dirs.compactMap(\.stringValue).map(absolute) }
            if let roles = dict["roles_path"]?.listValue { config.roleSearchPaths = roles.compactMap(\.stringValue).map(absolute) }
            // A list, or a colon-separated string as in ansible.cfg.
            let collections = dict["collections_path"]?.listValue?.compactMap(\.stringValue)
                ?? dict["collections_path"]?.stringValue.map { $0.split(separator: ":").map(String.init) } ?? []
            config.collectionPaths = collections.filter { !$0.isEmpty }.map { absolute(($0 as NSString).expandingTildeInPath) }
            if let file = dict["vault_password_file"]?.stringValue, !file.isEmpty {
                config.vaultPasswordFile = absolute((file as NSString).expandingTildeInPath)
            }
        }
        return config.withDefaults(base: root)
    }

    /// What pgha-play.yml left unsaid, relative to `base`; the built-in roles last on the roles path.
    func withDefaults(base: String) -> ProjectConfiguration {
        var config = self
        if config.defaultInventory == nil {
            config.defaultInventory = Self.conventionalInventories.map { base + "/" + $0 }.first {
                FileManager.default.fileExists(atPath: $0)
            }
        }
        if config.playbookDirectories.isEmpty { config.playbookDirectories = [base + "/playbooks"] }
        if config.roleSearchPaths.isEmpty { config.roleSearchPaths = [base + "/roles"] }
        config.roleSearchPaths.append(ContentSource.builtinRoles)
        return config
    }

    /// Where installed collections are, as ansible-core's COLLECTIONS_PATHS setting resolves it:
    /// ANSIBLE_COLLECTIONS_PATH beats `collections_path` here, which beats the default
    /// (`~/.ansible/collections:/usr/share/ansible/collections`).
    public func collectionSearchPaths(environment: [String: String]) -> [String] {
        if let fromEnvironment = environment["ANSIBLE_COLLECTIONS_PATH"] {
            return fromEnvironment.split(separator: ":").map { URL(fileURLWithPath: (String($0) as NSString).expandingTildeInPath).standardizedFileURL.path }
        }
        if !collectionPaths.isEmpty { return collectionPaths }
        let home = environment["ANSIBLE_HOME"] ?? (NSHomeDirectory() + "/.ansible")
        return [home + "/collections", "/usr/share/ansible/collections"]
    }

    /// A playbook path as given (relative to `currentDirectory`), else under the project's playbook
    /// directories, else built in (`builtin:playbooks/NAME`).
    public func resolvePlaybook(_ name: String, currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> String {
        if ContentSource.isBuiltin(name) {
            guard ContentSource.isFile(name) else {
                throw PGHAError(.io, "the playbook \(name) could not be found", hint: "`pgha-play playbooks list` shows the built-in playbooks")
            }
            return ContentSource.standardize(name)
        }
        let given = ContentSource.join(currentDirectory, (name as NSString).expandingTildeInPath)
        if ContentSource.isFile(given) { return given }
        let directories = playbookDirectories + [ContentSource.builtinPlaybooks]
        for directory in directories {
            let candidate = ContentSource.join(directory, name)
            if ContentSource.isFile(candidate) { return candidate }
        }
        throw PGHAError(
            .io, "the playbook \(name) could not be found",
            hint: "looked in \(([currentDirectory] + directories).joined(separator: ", ")); `pgha-play playbooks list` shows the built-in playbooks")
    }

    /// The user's directory of the role `name` on the roles path (not the built-in one), if any.
    public func userRoleDirectory(named name: String) -> String? {
        roleSearchPaths.filter { !ContentSource.isBuiltin($0) }.map { ContentSource.join($0, name) }.first(where: ContentSource.isDirectory)
    }
}
