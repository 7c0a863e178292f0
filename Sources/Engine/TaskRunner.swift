/// Runs one task's invocations on their hosts, at most `forks` at a time, while a progress
/// reporter shows the hosts a long task is still waiting for. Outcomes come back in the
/// invocations' order.
enum TaskRunner {
    static func run(_ invocations: [HostInvocation], taskName: String, forks: Int) async -> [TaskOutcome] {
        guard let sink = invocations.first?.sink else { return [] }
        let forks = max(1, forks)
        var outcomes: [TaskOutcome] = []
        outcomes.reserveCapacity(invocations.count)
        let running = RunningHosts()
        let reporter = ProgressReporter.start(task: taskName, running: running, sink: sink)
        defer { reporter.cancel() }
        await withTaskGroup(of: TaskOutcome.self) { group in
            func launch(_ invocation: HostInvocation) {
                group.addTask {
                    await running.insert(invocation.host)
                    let outcome = await invocation.run()
                    await running.remove(invocation.host)
                    return outcome
                }
            }
            var next = 0
            while next < min(forks, invocations.count) {
                launch(invocations[next])
                next += 1
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if next < invocations.count {
                    launch(invocations[next])
                    next += 1
                }
            }
        }
        let order = Dictionary(uniqueKeysWithValues: invocations.enumerated().map { ($1.host, $0) })
        return outcomes.sorted { (order[$0.host] ?? 0) < (order[$1.host] ?? 0) }
    }
}
