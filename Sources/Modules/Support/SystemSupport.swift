import Foundation
import OrderedCollections
import PGHACore
import Transport

/// What the system modules (packages, services, users, firewall, PostgreSQL) share: running one
/// script with the task's become and environment, splitting its sections, and state diffs.
enum HostScript {
    /// Separates the sections of a probe script's output; chosen so no real output contains it.
    static let marker = "__pgha_section__"

    /// Runs one command line (one round trip) as the task asks; `stdin` carries secrets. The script
    /// is the module's own, so a kept shell may run it without starting another /bin/sh.
    static func run(
        _ context: ModuleContext, _ command: String, stdin: [UInt8]? = nil,
        environment extra: [(String, String)] = [], become: Become?? = nil
    ) async throws -> CommandResult {
        try await context.connection.run(
            CommandRequest(
                command, stdin: stdin, environment: context.environment + extra,
                become: become ?? context.become, subshellAllowed: true))
    }

    /// Joins probe commands so their outputs come back as separate sections of one round trip.
    static func sections(_ commands: [String]) -> String {
        commands.joined(separator: "; echo \(marker); ")
    }

    /// Splits output produced by `sections`.
    static func split(_ output: String, count: Int) -> [String] {
        var parts = output.components(separatedBy: marker + "\n").map { $0 }
        while parts.count < count { parts.append("") }
        return parts
    }

    /// Ansible's state diff: two dicts rendered as sorted, indented JSON, no headers.
    static func diff(_ before: OrderedDictionary<String, Value>, _ after: OrderedDictionary<String, Value>) -> FileDiff {
        FileModule.stateDiff(before: before, after: after)
    }

    /// Text diff with no headers (rule files, package lists).
    static func textDiff(_ before: String, _ after: String, header: String = "") -> FileDiff {
        FileDiff(before: before, after: after, beforeHeader: header, afterHeader: header)
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func stdoutValues(_ result: CommandResult) -> OrderedDictionary<String, Value> {
        [
            "rc": .int(Int(result.exitStatus)), "stdout": .string(result.stdoutText),
            "stderr": .string(result.stderrText),
            "stdout_lines": .list(lines(result.stdoutText).map { .string($0) }),
            "stderr_lines": .list(lines(result.stderrText).map { .string($0) }),
        ]
    }
}

extension ModuleArguments {
    /// A list argument as strings (Ansible's `type: list, elements: str`).
    func stringItems(_ name: String) -> [String]? {
        guard let value = self[name] else { return nil }
        if let list = value.listValue {
            return list.compactMap { $0.pythonString?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return value.pythonString.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }
}
