import OrderedCollections
import PGHACore
import Transport

/// What the command-running modules (raw, script) return, as Ansible's do.
enum CommandOutput {
    /// rc, stdout and stderr with their `_lines` (split as Python's `splitlines`), failed on a
    /// non-zero exit status; always changed, as Ansible cannot tell.
    static func result(_ result: CommandResult) -> ModuleResult {
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

    /// Which of `creates` (the path exists) and `removes` (the path is absent) holds on the host,
    /// checked in one command; nil when neither is given or neither holds.
    enum PathCondition { case created(String), removed(String) }

    static func pathCondition(_ args: ModuleArguments, context: ModuleContext) async throws -> PathCondition? {
        let creates = args.string("creates")
        let removes = args.string("removes")
        guard creates != nil || removes != nil else { return nil }
        var checks: [String] = []
        if let creates { checks.append("[ -e \(RemoteProbe.tildeQuote(creates)) ] && echo creates") }
        if let removes { checks.append("[ -e \(RemoteProbe.tildeQuote(removes)) ] || echo removes") }
        let result = try await context.connection.run(
            CommandRequest(checks.joined(separator: "; ") + "; exit 0", environment: context.environment, become: context.become))
        if let creates, result.stdoutText.contains("creates") { return .created(creates) }
        if let removes, result.stdoutText.contains("removes") { return .removed(removes) }
        return nil
    }
}
