/// `strategy: free`: every host of the batch walks the play on its own, so a fast host runs ahead
/// of a slow one and its handlers run at its own flush points. `--forks` bounds the tasks running
/// at once across all the walks.
enum FreeStrategy: Strategy {
    static let name = "free"
    static let hostsMoveTogether = false

    static func run(_ batch: [String], gatherFacts: Bool, in play: PlayExecution) async throws {
        try await ForkPool.run(forks: play.forks) { pool in
            try await play.walkEachHost(batch, gatherFacts: gatherFacts, forks: batch.count, pool: pool)
        }
    }
}
