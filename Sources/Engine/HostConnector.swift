import Foundation
import PGHACore
import Transport

/// Opens the connection a host's variables ask for: `ansible_connection` (or `-c`), then the SSH
/// settings (`ansible_host`, `ansible_port`, `ansible_user`, key, password, known_hosts).
public struct HostConnector: Connector {
    let options: RunOptions

    public init(options: RunOptions) {
        self.options = options
    }

    public func connect(host: String, variables: VariableStack) async throws -> any Connection {
        let kind = variables.lookup("ansible_connection").map(Templating.display) ?? options.connection?.rawValue ?? "ssh"
        switch kind {
        case "local":
            return LocalConnection(hostName: host)
        case "ssh", "paramiko", "smart", "libssh":
            return try await SSHConnector.connect(host: host, variables: variables, options: options)
        default:
            throw PGHAError(
                .unreachable, "connection type '\(kind)' is not supported (use ssh or local)", host: host)
        }
    }
}
