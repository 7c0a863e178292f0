import Foundation
import OrderedCollections
import PGHACore

extension Inventory {
    private struct PendingDeclaration {
        var line: Int
        var state: String
        var parents: [String]
    }

    private static let sectionPattern = try! NSRegularExpression(
        pattern: #"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$"#)
    private static let groupNamePattern = try! NSRegularExpression(pattern: #"^([^:\]\s]+)\s*(?:#.*)?$"#)

    /// Ansible's `ini` inventory plugin, line for line: sections, `:vars`/`:children`, host lines with
    /// `shlex` tokens and `ast.literal_eval` values, groups that may be declared after they are used.
    mutating func parseINI(_ text: String, path: String) throws {
        var pending = OrderedDictionary<String, PendingDeclaration>()
        var groupName = "ungrouped"
        var state = "hosts"
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        var lineNumber = 0

        func fail(_ message: String, _ rawLine: Substring, column: Int = 0) -> PGHAError {
            PGHAError(
                .syntax, message, at: SourceLocation(file: path, line: lineNumber, column: column),
                hint: "see the INI inventory format: [group], [group:vars], [group:children], 'host key=value ...'",
                sourceLine: String(rawLine))
        }

        for rawLine in lines {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let origin = Origin(location: SourceLocation(file: path, line: lineNumber))

            if let m = HostAddress.matches(Self.sectionPattern, line) {
                groupName = m[1]
                state = m[2].isEmpty ? "hosts" : m[2]
                guard ["hosts", "children", "vars"].contains(state) else {
                    throw fail("Section [\(m[1]):\(m[2])] has unknown type: \(state)", rawLine)
                }
                if groups[groupName] == nil {
                    // [g:vars] alone does not declare g; remember it and complain at the end if nothing does.
                    if state == "vars" && pending[groupName] == nil {
                        pending[groupName] = PendingDeclaration(line: lineNumber, state: state, parents: [])
                    }
                    try ensureGroup(groupName)
                }
                if let declaration = pending[groupName], state != "vars" {
                    if declaration.state == "children" {
                        try addPendingChildren(groupName, &pending, path: path)
                    } else {
                        pending[groupName] = nil
                    }
                }
                continue
            } else if line.hasPrefix("[") && line.hasSuffix("]") {
                throw fail(
                    "Invalid section entry: '\(line)'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters",
                    rawLine)
            }

            switch state {
            case "hosts":
                let tokens: [String]
                do { tokens = try PythonSyntax.shlexSplit(line) } catch {
                    throw fail("Error parsing host definition '\(line)': \(error)", rawLine)
                }
                guard let first = tokens.first else { continue }
                let expanded: (hosts: [String], port: Int?)
                do { expanded = try HostAddress.expandHostPattern(first) } catch {
                    throw fail("\(error)", rawLine)
                }
                if first.trimmingCharacters(in: .whitespaces).hasSuffix(":") && expanded.port == nil {
                    throw fail(
                        "Invalid host pattern '\(first)' supplied, ending in ':' is not allowed, this character is reserved to provide a port.",
                        rawLine)
                }
                if expanded.hosts.contains(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) {
                    throw fail("Invalid host pattern '\(first)' supplied, '---' is normally a sign this is a YAML file.", rawLine)
                }
                var variables: [(String, Value)] = []
                for token in tokens.dropFirst() {
                    guard let eq = token.firstIndex(of: "=") else {
                        throw fail("Expected key=value host variable assignment, got: \(token)", rawLine)
                    }
                    variables.append((String(token[..<eq]), PythonSyntax.inventoryValue(String(token[token.index(after: eq)...]))))
                }
                for host in expanded.hosts {
                    try addHostEntry(host, group: groupName, port: expanded.port, origin: origin)
                    for (key, value) in variables {
                        try setVariable(host, key, value, origin: Self.origin(origin, key: key))
                    }
                }
            case "vars":
                guard let eq = line.firstIndex(of: "=") else {
                    throw fail("Expected key=value, got: \(line)", rawLine)
                }
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                let value = PythonSyntax.inventoryValue(line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces))
                do {
                    try setVariable(groupName, key, value, origin: Self.origin(origin, key: key))
                } catch var error as PGHAError {
                    error.sourceLine = String(rawLine)
                    throw error
                }
            default:  // children
                guard let m = HostAddress.matches(Self.groupNamePattern, line) else {
                    throw fail("Expected group name, got: \(line)", rawLine)
                }
                let child = m[1]
                if groups[child] == nil {
                    if pending[child] == nil {
                        pending[child] = PendingDeclaration(line: lineNumber, state: "children", parents: [groupName])
                    } else {
                        pending[child]!.parents.append(groupName)
                    }
                } else {
                    do { try linkChild(child, to: groupName, at: origin.location) } catch var error as PGHAError {
                        error.sourceLine = String(rawLine)
                        throw error
                    }
                }
            }
        }

        if let (name, declaration) = pending.elements.first.map({ ($0.key, $0.value) }) {
            lineNumber = declaration.line
            let rawLine = declaration.line - 1 < lines.count ? lines[declaration.line - 1] : ""
            if declaration.state == "vars" {
                throw fail("Section [\(name):vars] not valid for undefined group '\(name)'.", rawLine)
            }
            throw fail("Section [\(declaration.parents.last ?? ""):children] includes undefined group '\(name)'.", rawLine)
        }
    }

    private mutating func addPendingChildren(
        _ group: String, _ pending: inout OrderedDictionary<String, PendingDeclaration>, path: String
    ) throws {
        guard let declaration = pending[group] else { return }
        for parent in declaration.parents {
            try linkChild(group, to: parent, at: SourceLocation(file: path, line: declaration.line))
            if let parentDeclaration = pending[parent], parentDeclaration.state == "children" {
                try addPendingChildren(parent, &pending, path: path)
            }
        }
        pending[group] = nil
    }

    /// The origin of one variable: its place, and whether its name says it is a secret.
    static func origin(_ base: Origin, key: String, taggedSecret: Bool = false) -> Origin {
        Origin(location: base.location, isSecret: taggedSecret || isSecretName(key))
    }

    /// Variable names whose values are never shown: passwords, secrets, tokens and keys (but not key files).
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.contains("password") || lower.contains("secret") || lower.contains("token") { return true }
        var searchRange = lower.startIndex..<lower.endIndex
        while let found = lower.range(of: "_key", range: searchRange) {
            if !lower[found.lowerBound...].hasPrefix("_key_file") { return true }
            searchRange = found.upperBound..<lower.endIndex
        }
        return false
    }
}
