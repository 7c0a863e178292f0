import Foundation

/// Hosts still working on the current task (the task runner's child tasks add and remove them).
actor RunningHosts {
    private(set) var hosts: [String] = []

    func insert(_ host: String) { hosts.append(host) }
    func remove(_ host: String) { hosts.removeAll { $0 == host } }
}

/// Emits `.progress` once a second while a task runs longer than two seconds, so an operator
/// sees which hosts a long task (a package install, a cluster bootstrap) is still waiting for.
enum ProgressReporter {
    static func start(task: String, running: RunningHosts, sink: any EventSink) -> _Concurrency.Task<Void, Never> {
        _Concurrency.Task.detached {
            let start = Date()
            try? await _Concurrency.Task.sleep(nanoseconds: 2_000_000_000)
            while !_Concurrency.Task.isCancelled {
                let hosts = await running.hosts
                if !hosts.isEmpty {
                    sink.handle(.progress(task: task, running: hosts, elapsed: Date().timeIntervalSince(start)))
                }
                try? await _Concurrency.Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }
}
