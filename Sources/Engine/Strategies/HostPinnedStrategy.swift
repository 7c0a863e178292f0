/// `strategy: host_pinned`: like free, each host walks the play on its own, but a host keeps its
/// place until it has finished the play: at most `--forks` hosts are under way at once, and the
/// next host starts only when one of them is done.
enum HostPinnedStrategy: Strategy {
    static let name = "host_pinned"
    static let hostsMoveTogether = false

    static func run(_ batch: [String], gatherFacts: Bool, in play: PlayExecution) async throws {
        try await play.walkEachHost(batch, gatherFacts: gatherFacts, forks: play.forks, pool: nil)
    }
}
