import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.ping`: proves a command runs on the host; returns `ping: <data>`.
public enum PingModule: Module {
    public static let name = "ping"
    public static let qualifiedNames = ["ansible.builtin.ping", "ansible.legacy.ping"]
    public static let supportsCheckMode = true
    public static let arguments = ArgumentSpec([.init("data", .string, default: "pong")])

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let data = args.string("data") ?? "pong"
        if data == "crash" { return .failure("boom") }
        let result = try await context.connection.run(
            CommandRequest("echo pong", environment: context.environment, become: context.become))
        guard result.succeeded else {
            return .failure("ping failed: \(result.stderrText)", values: ["rc": .int(Int(result.exitStatus))])
        }
        return ModuleResult(changed: false, values: ["ping": .string(data)])
    }
}

/// `ansible.builtin.raw`: the free-form text run as it is by the host's shell (or `executable`).
public enum RawModule: Module {
    public static let name = "raw"
    public static let qualifiedNames = ["ansible.builtin.raw", "ansible.legacy.raw"]
    // raw has no check mode in Ansible: the engine skips it under --check.
    public static let supportsCheckMode = false
    public static let arguments = ArgumentSpec(
        [.init("_raw_params", .string), .init("executable", .path)], freeForm: true,
        requiredOneOf: [["_raw_params"]])

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let text = args.string("_raw_params") ?? ""
        let command = args.string("executable").map { "\(shellQuote($0)) -c \(shellQuote(text))" } ?? text
        let result = try await context.connection.run(
            CommandRequest(command, environment: context.environment, become: context.become))
        let stdout = result.stdoutText
        let stderr = result.stderrText
        let values: OrderedDictionary<String, Value> = [
            "rc": .int(Int(result.exitStatus)), "stdout": .string(stdout),
            "stdout_lines": .list(stdout.splitLinesPython.map(Value.string)), "stderr": .string(stderr),
            "stderr_lines": .list(stderr.splitLinesPython.map(Value.string)),
        ]
        if !result.succeeded {
            return ModuleResult(changed: true, failed: true, msg: "non-zero return code", values: values)
        }
        return ModuleResult(changed: true, values: values)
    }
}

extension String {
    /// Python's `str.splitlines()` for "\n" and "\r\n" endings.
    var splitLinesPython: [String] {
        TextFileEdit.lines(self).map(TextFileEdit.chomp)
    }
}
