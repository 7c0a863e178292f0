import PGHACore

/// Loads inventory and playbooks for a run and runs them (wired to the inventory and loader at merge).
public struct Session {
    public init(playbookPaths: [String], options: RunOptions) throws {
        throw PGHAError(.environment, "not wired yet")
    }

    public func listing(hosts: Bool, tasks: Bool, tags: Bool) throws -> String { "" }

    public func run(sink: any EventSink) async throws -> RunOutcome { .success }
}
