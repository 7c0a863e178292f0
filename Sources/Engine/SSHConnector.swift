import PGHACore
import Transport

/// Stand-in until the SSH transport is merged.
enum SSHConnector {
    static func connect(host: String, variables: VariableStack, options: RunOptions) async throws -> any Connection {
        throw PGHAError(.unreachable, "the SSH transport is not built yet", host: host)
    }
}
