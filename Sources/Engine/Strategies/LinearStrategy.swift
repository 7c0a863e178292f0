/// `strategy: linear` (the default): a task runs on every active host of the batch, in parallel up
/// to `--forks`, and its results are applied before the next task starts.
enum LinearStrategy: Strategy {
    static let name = "linear"
    static let hostsMoveTogether = true

    static func run(_ batch: [String], gatherFacts: Bool, in play: PlayExecution) async throws {
        try await play.walk(batch, gatherFacts: gatherFacts)
    }
}
