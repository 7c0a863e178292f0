import Foundation
import OrderedCollections
import PGHACore

extension Inventory {
    /// Ansible's `yaml` inventory plugin: top-level keys are groups, each with `hosts`, `vars` and
    /// `children` mappings (a bare string is shorthand for a one-entry mapping).
    mutating func parseYAMLInventory(_ root: YAMLNode, path: String) throws {
        guard let entries = root.mappingEntries else {
            throw PGHAError(
                .syntax, "YAML inventory has invalid structure, it should be a dictionary, got: \(Self.yamlType(root))",
                at: root.location, hint: "start the file with 'all:' and put 'hosts:', 'vars:' and 'children:' under it")
                .withSourceLine()
        }
        if let plugin = root["plugin"], !plugin.value.isNull, plugin.value.isTruthy {
            throw PGHAError(
                .inventory, "inventory plugin configuration files (plugin: \(plugin.scalarText ?? "...")) are not supported",
                at: plugin.location, hint: "list the hosts in a static YAML or INI inventory").withSourceLine()
        }
        for entry in entries {
            _ = try parseYAMLGroup(entry.key, keyNode: entry.keyNode, data: entry.value)
        }
    }

    static func yamlType(_ node: YAMLNode) -> String {
        switch node.content {
        case .mapping: return "dict"
        case .sequence: return "list"
        case .scalar: return node.scalarValue.typeName
        }
    }

    private static func isNullNode(_ node: YAMLNode) -> Bool {
        node.isScalar && node.scalarValue.isNull && node.customTag == nil
    }

    @discardableResult
    private mutating func parseYAMLGroup(_ group: String, keyNode: YAMLNode, data: YAMLNode) throws -> String {
        guard data.isMapping || Self.isNullNode(data) else {
            warnings.append("Skipping '\(group)' as this is not a valid group definition (\(keyNode.location))")
            return group
        }
        do { try ensureGroup(group) } catch var error as PGHAError {
            error.location = keyNode.location
            throw error.withSourceLine()
        }
        guard let entries = data.mappingEntries else { return group }
        for entry in entries where ["vars", "children", "hosts"].contains(entry.key) {
            let node = entry.value
            let valid = node.isMapping || Self.isNullNode(node) || (node.isScalar && node.scalarValue.stringValue != nil)
            if !valid {
                throw PGHAError(
                    .syntax,
                    "Invalid \"\(entry.key)\" entry for \"\(group)\" group, requires a dictionary, found \"\(Self.yamlType(node))\" instead.",
                    at: node.location).withSourceLine()
            }
        }
        for entry in entries {
            var node = entry.value
            // `hosts: web1` is shorthand for `hosts: {web1: null}`.
            if ["vars", "children", "hosts"].contains(entry.key), node.isScalar, let text = node.scalarValue.stringValue {
                let key = YAMLNode(content: .scalar(text, plain: true), location: node.location, scalarValue: .string(text))
                let null = YAMLNode(content: .scalar("", plain: true), location: node.location, scalarValue: .null)
                node = YAMLNode(content: .mapping([(key: key, value: null)]), location: node.location)
            }
            guard node.isMapping || Self.isNullNode(node) else {
                warnings.append(
                    "Skipping key (\(entry.key)) in group (\(group)) as it is not a mapping, it is a \(Self.yamlType(node)) (\(node.location))")
                continue
            }
            guard let items = node.mappingEntries else { continue }
            switch entry.key {
            case "vars":
                for item in items {
                    try setVariable(
                        group, item.key, item.value.value,
                        origin: Origin(location: item.keyNode.location, isSecret: item.value.containsSecret || Self.isSecretName(item.key)))
                }
            case "children":
                for item in items {
                    let child = try parseYAMLGroup(item.key, keyNode: item.keyNode, data: item.value)
                    do { try linkChild(child, to: group, at: item.keyNode.location) } catch var error as PGHAError {
                        error.location = item.keyNode.location
                        throw error.withSourceLine()
                    }
                }
            case "hosts":
                for item in items {
                    guard item.keyNode.scalarValue.stringValue != nil else {
                        throw PGHAError(
                            .syntax, "Host pattern \(item.key) must be a string. Enclose integers/floats in quotation marks.",
                            at: item.keyNode.location).withSourceLine()
                    }
                    let expanded: (hosts: [String], port: Int?)
                    do { expanded = try HostAddress.expandHostPattern(item.key) } catch {
                        throw PGHAError(.syntax, "\(error)", at: item.keyNode.location).withSourceLine()
                    }
                    let varEntries: [(key: String, keyNode: YAMLNode, value: YAMLNode)]
                    if Self.isNullNode(item.value) {
                        varEntries = []
                    } else if let e = item.value.mappingEntries {
                        varEntries = e
                    } else {
                        throw PGHAError(
                            .syntax,
                            "Invalid data from file, expected dictionary of host variables for '\(item.key)' and got: \(Self.yamlType(item.value))",
                            at: item.value.location).withSourceLine()
                    }
                    for host in expanded.hosts {
                        try addHostEntry(host, group: group, port: expanded.port, origin: Origin(location: item.keyNode.location))
                        for v in varEntries {
                            try setVariable(
                                host, v.key, v.value.value,
                                origin: Origin(location: v.keyNode.location, isSecret: v.value.containsSecret || Self.isSecretName(v.key)))
                        }
                    }
                }
            default:
                warnings.append(
                    "Skipping unexpected key (\(entry.key)) in group (\(group)), only \"vars\", \"children\" and \"hosts\" are valid (\(entry.keyNode.location))")
            }
        }
        return group
    }
}
