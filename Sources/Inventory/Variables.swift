import Foundation
import OrderedCollections
import PGHACore
import Vault

/// One source of variables for a host, e.g. "inventory group_vars/web.yml".
public struct VariableLayer: Sendable {
    /// What this layer is, for people: "group 'web' in inventory", "playbook host_vars/db1.yml", ...
    public var source: String
    /// Where the layer came from as a whole (the file, or the inventory source).
    public var origin: Origin
    public var values: OrderedDictionary<String, Value>
    /// Per-variable place of definition and secrecy (`!vault` tag or a secret-looking name).
    public var variableOrigins: [String: Origin]

    public init(source: String, origin: Origin, values: OrderedDictionary<String, Value>, variableOrigins: [String: Origin]) {
        self.source = source
        self.origin = origin
        self.values = values
        self.variableOrigins = variableOrigins
    }

    /// The origin of one variable of this layer (falls back to the layer's).
    public func origin(of name: String) -> Origin {
        variableOrigins[name] ?? Origin(location: origin.location, isSecret: Inventory.isSecretName(name))
    }
}

/// A host's inventory variables, lowest precedence first; later layers replace earlier ones key by key.
public typealias VariableLayers = [VariableLayer]

/// Parsed `group_vars`/`host_vars` files, shared between copies of an inventory so each file is read once.
final class VarsFileCache: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: [(key: String, keyNode: YAMLNode, value: YAMLNode)]] = [:]

    func entries(of path: String, vault: VaultContext) throws -> [(key: String, keyNode: YAMLNode, value: YAMLNode)] {
        lock.lock()
        if let cached = files[path] { lock.unlock(); return cached }
        lock.unlock()
        let entries = try Self.read(path, vault: vault)
        lock.lock()
        files[path] = entries
        lock.unlock()
        return entries
    }

    private static func read(_ path: String, vault: VaultContext) throws -> [(key: String, keyNode: YAMLNode, value: YAMLNode)] {
        let text = try InputFile.readText(path, limit: InputLimits.maxYAMLBytes, what: "variables file")
        guard let root = try vault.loadYAML(text, file: path) else { return [] }
        // Ansible ignores files that load as nothing (empty, `~`, `{}`), and rejects any other non-mapping.
        if root.isScalar && root.scalarValue.isNull { return [] }
        guard let entries = root.mappingEntries else {
            throw PGHAError(
                .syntax, "variables file must be a dictionary of variables, got: \(Inventory.yamlType(root))",
                at: root.location).withSourceLine()
        }
        return entries
    }
}

extension Inventory {
    /// `DataLoader.find_vars_files(dir, name)`: `name`, `name.yml`, `name.yaml` or `name.json` (the first
    /// that exists), and when that is a directory, every file below it in sorted order.
    static func varsFiles(in directory: String, name: String) -> [String] {
        let fm = FileManager.default
        let base = (directory as NSString).appendingPathComponent(name)
        for ext in ["", ".yml", ".yaml", ".json"] {
            let candidate = base + ext
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: candidate, isDirectory: &isDirectory) else { continue }
            return isDirectory.boolValue ? varsDirectoryFiles(candidate) : [candidate]
        }
        return []
    }

    private static func varsDirectoryFiles(_ directory: String) -> [String] {
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        var found: [String] = []
        for entry in entries.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        where !entry.hasPrefix(".") && !entry.hasSuffix("~") {
            let path = (directory as NSString).appendingPathComponent(entry)
            let ext = (entry as NSString).pathExtension
            var isDirectory: ObjCBool = false
            _ = fm.fileExists(atPath: path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                if ext.isEmpty { found.append(contentsOf: varsDirectoryFiles(path)) }
            } else if ext.isEmpty || ["yml", "yaml", "json"].contains(ext) {
                found.append(path)
            }
        }
        return found
    }

    /// The directories whose `group_vars/` and `host_vars/` belong to the inventory: each source directory,
    /// or each source file's directory (host lists have none).
    var inventoryVarsDirectories: [String] {
        sources.compactMap { source in
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
            if source.contains(",") && !exists { return nil }
            return isDirectory.boolValue ? source : (source as NSString).deletingLastPathComponent
        }
    }

    private func fileLayers(
        directories: [String], subdirectory: String, entities: [String], label: String
    ) throws -> [VariableLayer] {
        var layers: [VariableLayer] = []
        for directory in directories {
            let varsDirectory = (directory as NSString).appendingPathComponent(subdirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: varsDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            for entity in entities where !entity.hasPrefix("/") {
                for file in Self.varsFiles(in: varsDirectory, name: entity) {
                    let entries = try varsCache.entries(of: file, vault: vault)
                    if entries.isEmpty { continue }
                    var values = OrderedDictionary<String, Value>()
                    var origins: [String: Origin] = [:]
                    for entry in entries {
                        values[entry.key] = entry.value.value
                        origins[entry.key] = Origin(
                            location: entry.keyNode.location,
                            isSecret: entry.value.containsSecret || Self.isSecretName(entry.key))
                    }
                    let relative = String(file.dropFirst(directory.count).drop(while: { $0 == "/" }))
                    layers.append(VariableLayer(
                        source: "\(label) \(relative)", origin: Origin(location: SourceLocation(file: file)),
                        values: values, variableOrigins: origins))
                }
            }
        }
        return layers
    }

    private func groupLayer(_ name: String) -> VariableLayer? {
        guard let group = groups[name] else { return nil }
        return VariableLayer(
            source: "inventory vars of group '\(name)'", origin: Origin(location: group.varOrigins.values.first?.location),
            values: group.vars, variableOrigins: group.varOrigins)
    }

    /// A host's variables from inventory sources and `group_vars`/`host_vars` directories, lowest
    /// precedence first, in ansible-core's order:
    /// group `all` in inventory files < other groups in inventory files (by depth, priority, name) <
    /// inventory `group_vars/all` < playbook `group_vars/all` < inventory `group_vars/<group>` <
    /// playbook `group_vars/<group>` < host vars in inventory files < inventory `host_vars/` <
    /// playbook `host_vars/`.
    ///
    /// Magic variables (`groups`, `group_names`, `inventory_hostname`, ...) are not included; see
    /// `magicVariables(for:)`.
    public func variables(for hostName: String, playbookDirectory: String?) throws -> VariableLayers {
        guard let host = resolvedHost(hostName) else {
            throw PGHAError(.inventory, "host '\(hostName)' is not in the inventory")
        }
        let hostGroups = host.isImplicit ? [] : sortedGroups(of: host.name)
        let inventoryDirectories = inventoryVarsDirectories
        let playDirectories = playbookDirectory.map { [Self.absolutePath($0, currentDirectory: nil)] } ?? []
        var layers: [VariableLayer] = []
        if let all = groupLayer("all"), !all.values.isEmpty { layers.append(all) }
        for group in hostGroups {
            if let layer = groupLayer(group), !layer.values.isEmpty { layers.append(layer) }
        }
        layers += try fileLayers(directories: inventoryDirectories, subdirectory: "group_vars", entities: ["all"], label: "inventory")
        layers += try fileLayers(directories: playDirectories, subdirectory: "group_vars", entities: ["all"], label: "playbook")
        layers += try fileLayers(directories: inventoryDirectories, subdirectory: "group_vars", entities: hostGroups, label: "inventory")
        layers += try fileLayers(directories: playDirectories, subdirectory: "group_vars", entities: hostGroups, label: "playbook")
        if !host.vars.isEmpty {
            layers.append(VariableLayer(
                source: host.isImplicit ? "implicit localhost" : "inventory vars of host '\(host.name)'",
                origin: Origin(location: host.inventoryFile.map { SourceLocation(file: $0) }),
                values: host.vars, variableOrigins: host.varOrigins))
        }
        layers += try fileLayers(directories: inventoryDirectories, subdirectory: "host_vars", entities: [host.name], label: "inventory")
        layers += try fileLayers(directories: playDirectories, subdirectory: "host_vars", entities: [host.name], label: "playbook")
        return layers
    }

    /// The merged inventory variables of a host (later layers replace earlier keys), without magic variables.
    public func hostVars(for hostName: String, playbookDirectory: String? = nil) throws -> OrderedDictionary<String, Value> {
        Self.flatten(try variables(for: hostName, playbookDirectory: playbookDirectory))
    }

    /// Merges layers as Ansible's `combine_vars` with the default `hash_behaviour=replace`.
    public static func flatten(_ layers: VariableLayers) -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for layer in layers {
            for (key, value) in layer.values { result[key] = value }
        }
        return result
    }
}
