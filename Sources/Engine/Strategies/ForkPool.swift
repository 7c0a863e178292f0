/// Runs the invocations of the free strategy's host walks, at most `forks` tasks at a time across
/// all of them: walks hand their task to the pool and wait for its outcomes.
struct ForkPool: Sendable {
    private struct Job: Sendable {
        let invocations: [HostInvocation]
        let taskName: String
        let reply: CheckedContinuation<[TaskOutcome], Never>
    }

    private let jobs: AsyncStream<Job>.Continuation

    /// Runs `body` with a pool that dispatches the jobs it is given until `body` returns.
    static func run(forks: Int, _ body: (ForkPool) async throws -> Void) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // One dispatcher: a job starts when fewer than `forks` run.
                await withTaskGroup(of: Void.self) { running in
                    var count = 0
                    for await job in stream {
                        if count >= max(1, forks) {
                            await running.next()
                            count -= 1
                        }
                        count += 1
                        running.addTask {
                            let outcomes = await TaskRunner.run(job.invocations, taskName: job.taskName, forks: forks)
                            job.reply.resume(returning: outcomes)
                        }
                    }
                }
            }
            defer { continuation.finish() }
            try await body(ForkPool(jobs: continuation))
            continuation.finish()
            try await group.waitForAll()
        }
    }

    /// Runs one task's invocations when the pool has room, and returns their outcomes.
    func run(_ invocations: [HostInvocation], taskName: String) async -> [TaskOutcome] {
        await withCheckedContinuation { reply in
            jobs.yield(Job(invocations: invocations, taskName: taskName, reply: reply))
        }
    }
}
