import PGHACore
import Transport

/// One connection per host for the whole run (the SSH transport keeps one session per host).
actor ConnectionPool {
    private var open: [String: any Connection] = [:]
    private var opening: [String: Task<any Connection, Error>] = [:]

    /// The cached connection for `key` (the host, or the delegated host), opening it once.
    func connection(
        for key: String, variables: VariableStack, connector: any Connector
    ) async throws -> any Connection {
        if let existing = open[key] { return existing }
        if let pending = opening[key] { return try await pending.value }
        let task = Task { try await connector.connect(host: key, variables: variables) }
        opening[key] = task
        defer { opening[key] = nil }
        let connection = try await task.value
        open[key] = connection
        return connection
    }

    /// Forgets a host's connection (after it became unreachable, or `meta: reset_connection`).
    func drop(_ key: String) async {
        if let connection = open.removeValue(forKey: key) { await connection.close() }
    }

    /// Closes every connection, all at once (each may have to clean up on its host).
    func closeAll() async {
        let connections = Array(open.values)
        open = [:]
        await withTaskGroup(of: Void.self) { group in
            for connection in connections { group.addTask { await connection.close() } }
        }
    }
}
