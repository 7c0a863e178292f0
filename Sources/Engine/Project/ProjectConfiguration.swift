import Foundation
import PGHACore

/// What ansible.cfg is to Ansible: found by walking up from the working directory to a
/// `pgha-play.yml`, it names the default inventory and where playbooks and roles live, so
/// `pgha-play site.yml` works from the repo root without flags.
public struct ProjectConfiguration: Sendable {
    /// Directory holding pgha-play.yml (nil when none was found).
    public var root: String?
    public var defaultInventory: String?
    public var playbookDirectories: [String] = []
    public var roleSearchPaths: [String] = []
    /// `collections_path` (absolute): where installed collections are, as in ansible.cfg.
    public var collectionPaths: [String] = []
    /// `vault_password_file` (absolute): the vault password used when none is given on the command line.
    public var vaultPasswordFile: String?

    public init(root: String? = nil) {
        self.root = root
    }

    public static let fileName = "pgha-play.yml"

    public static func discover(from directory: String) -> ProjectConfiguration {
        var current = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = current.appendingPathComponent(fileName).path
            if FileManager.default.fileExists(atPath: candidate) {
                return (try? load(candidate)) ?? ProjectConfiguration(root: current.path)
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        var config = ProjectConfiguration()
        config.roleSearchPaths = BuiltinRoles.searchPaths
        return config
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
        config.roleSearchPaths += BuiltinRoles.searchPaths
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

    /// A playbook path as given, or under the project's playbook directories.
    public func resolvePlaybook(_ name: String) throws -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: name) { return URL(fileURLWithPath: name).standardizedFileURL.path }
        for directory in playbookDirectories {
            let candidate = directory + "/" + name
            if fm.fileExists(atPath: candidate) { return candidate }
        }
        throw PGHAError(
            .io, "the playbook \(name) could not be found",
            hint: playbookDirectories.isEmpty ? nil : "also looked in \(playbookDirectories.joined(separator: ", "))")
    }
}

/// Roles shipped with pgha-play: installed beside the binary (share/pgha-play/roles), or the
/// source tree's roles/ when running from a build directory.
public enum BuiltinRoles {
    public static var searchPaths: [String] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var candidates: [String] = []
        var directory = executable.deletingLastPathComponent()
        candidates.append(directory.appendingPathComponent("../share/pgha-play/roles").standardizedFileURL.path)
        for _ in 0..<5 {
            directory = directory.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                candidates.append(directory.appendingPathComponent("roles").path)
                break
            }
        }
        return candidates.filter { FileManager.default.fileExists(atPath: $0) }
    }
}
