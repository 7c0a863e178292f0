import Foundation

/// One OS thread that runs jobs in order, so blocking and polling libssh2 calls never occupy Swift's
/// cooperative thread pool, and the session (which libssh2 does not let two threads share) has one owner.
///
/// The state lives here and is touched only by jobs, all of which run on this thread.
final class SessionThread<State>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var cancelled: Set<UInt64> = []
    private var nextJobID: UInt64 = 0
    private var state: State

    init(name: String, state: State) {
        self.state = state
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Runs `body` on the thread; Swift task cancellation is visible to it through the `isCancelled` closure.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (State, _ isCancelled: @escaping @Sendable () -> Bool) throws -> T
    ) async throws -> T {
        let id = allocateJobID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let accepted = enqueue { [self] in
                    let result = Result { try body(state, { self.isCancelled(id) }) }
                    condition.lock()
                    cancelled.remove(id)
                    condition.unlock()
                    continuation.resume(with: result)
                }
                if !accepted { continuation.resume(throwing: SessionThreadStopped()) }
            }
        } onCancel: {
            condition.lock()
            cancelled.insert(id)
            condition.unlock()
        }
    }

    private func allocateJobID() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextJobID += 1
        return nextJobID
    }

    private func isCancelled(_ id: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled.contains(id)
    }

    /// Runs `last` after every queued job, then ends the thread; later `perform` calls throw.
    func stop(then last: @escaping @Sendable (State) -> Void) {
        _ = enqueue { [self] in last(state) }
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }
}

struct SessionThreadStopped: Error {}
