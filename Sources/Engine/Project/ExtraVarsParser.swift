import Foundation
import OrderedCollections
import PGHACore
import Vault

/// `-e` values as ansible-playbook reads them: `k=v k2=v2`, inline YAML/JSON, or `@file`.
public enum ExtraVarsParser {
    /// - Parameter vault: decrypts a vaulted `@file` (or `!vault` values in it).
    public static func parse(_ arguments: [String], vault: VaultContext = .none) throws -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for argument in arguments {
            for (key, value) in try parseOne(argument, vault: vault) { result[key] = value }
        }
        return result
    }

    static func parseOne(_ argument: String, vault: VaultContext) throws -> OrderedDictionary<String, Value> {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return [:] }
        if trimmed.hasPrefix("@") {
            let path = String(trimmed.dropFirst())
            guard let node = try vault.loadYAML(contentsOf: path) else { return [:] }
            guard case .dict(let dict) = node.value else {
                throw PGHAError(.usage, "extra vars file must hold a mapping", at: node.location)
            }
            return dict
        }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("---") {
            guard let node = try YAMLLoader.load(trimmed, file: "<extra vars>"), case .dict(let dict) = node.value else {
                throw PGHAError(.usage, "extra vars must be a mapping: \(trimmed)")
            }
            return dict
        }
        var result = OrderedDictionary<String, Value>()
        for pair in try KeyValueSplitter.split(trimmed) {
            guard let eq = pair.firstIndex(of: "=") else {
                throw PGHAError(.usage, "extra vars must be key=value, YAML/JSON or @file; got '\(pair)'")
            }
            // k=v values stay strings, as in Ansible.
            result[String(pair[..<eq])] = .string(String(pair[pair.index(after: eq)...]))
        }
        return result
    }
}

/// Splits `a=1 b='two words'` on unquoted spaces and removes the quotes, like Ansible's parse_kv.
public enum KeyValueSplitter {
    public static func split(_ text: String) throws -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == " " {
                if !current.isEmpty { parts.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if quote != nil { throw PGHAError(.usage, "unbalanced quotes in '\(text)'") }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
