import PGHACore
import Playbook

/// The `timeout` task keyword, as Ansible's: the action is given that many seconds, then
/// cancelled (an SSH command's wait ends, its channel is closed), and the task fails with
/// "Timed out after N second(s)."
enum TaskTimeout {
    /// The task's `timeout` in seconds; nil when not set or 0 (no limit).
    static func seconds(of task: Task, _ stack: VariableStack, templating: Templating) throws -> Double? {
        guard let value = task.keywords.extra["timeout"] else { return nil }
        let text = Templating.display(try templating.render(value, stack, at: task.location))
        guard let seconds = Double(text), seconds >= 0 else {
            throw PGHAError(.semantic, "'timeout' must be a number of seconds, got '\(text)'", at: task.location)
        }
        return seconds > 0 ? seconds : nil
    }

    /// Runs `body`, cancelled after `seconds`.
    static func run<T: Sendable>(
        seconds: Double?, host: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let seconds else { return try await body() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await _Concurrency.Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let result = next { return result }
                let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
                throw PGHAError(.execution, "Timed out after \(shown) second(s).", host: host)
            }
            throw CancellationError()
        }
    }
}
