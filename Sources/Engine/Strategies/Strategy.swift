/// How the hosts of a serial batch move through a play's tasks (the `strategy:` keyword).
///
/// The play executor owns the run's state and walks the task tree for the hosts it is given; a
/// strategy decides which hosts walk together and how many run at once. Adding one: a type here
/// and a line in `Strategies.all`.
protocol Strategy: Sendable {
    /// The name plays write.
    static var name: String { get }

    /// Whether the batch's hosts run each task together. When they do not, each host walks on its
    /// own and, as in Ansible, run_once, any_errors_fatal and max_fail_percentage do not apply.
    static var hostsMoveTogether: Bool { get }

    /// Runs the play's sections (after fact gathering, when `gatherFacts`) for the batch.
    static func run(_ batch: [String], gatherFacts: Bool, in play: PlayExecution) async throws
}

/// The strategies a play may name.
public enum Strategies {
    static let all: [any Strategy.Type] = [LinearStrategy.self, FreeStrategy.self, HostPinnedStrategy.self]

    /// Every name a play may give, for the loader's check.
    public static var names: [String] { all.map { $0.name } }

    /// The strategy called `name` (the loader has checked it); linear when the play names none.
    static func named(_ name: String?) -> any Strategy.Type {
        all.first { $0.name == name } ?? LinearStrategy.self
    }
}
