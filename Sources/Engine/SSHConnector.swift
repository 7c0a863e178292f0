import Foundation
import PGHACore
import SSHTransport
import Transport

/// Builds SSH options from a host's variables, as Ansible's ssh connection reads them.
enum SSHConnector {
    static func connect(host: String, variables: VariableStack, options: RunOptions) async throws -> any Connection {
        let sshOptions = try self.options(host: host, variables: variables, run: options)
        let connection = SSHConnection(hostName: host, options: sshOptions)
        _ = try await connection.connect()
        return connection
    }

    static func options(host: String, variables: VariableStack, run: RunOptions) throws -> SSHOptions {
        let templating = Templating()
        let location = SourceLocation(file: "<inventory: \(host)>")
        func string(_ names: String...) throws -> String? {
            for name in names {
                if let value = variables.lookup(name) {
                    return try templating.renderString(Templating.display(value), variables, at: location)
                }
            }
            return nil
        }
        let address = try string("ansible_host", "ansible_ssh_host") ?? host
        let port = Int(try string("ansible_port", "ansible_ssh_port") ?? "") ?? 22
        let user = try string("ansible_user", "ansible_ssh_user") ?? run.remoteUser ?? NSUserName()
        var authentication: [SSHOptions.Authentication] = []
        if let key = try string("ansible_ssh_private_key_file", "ansible_private_key_file") ?? run.privateKeyFile {
            let passphrase = try string("ansible_ssh_private_key_passphrase")
            authentication.append(.privateKey(path: expandHome(key), passphrase: passphrase))
        }
        if let password = try string("ansible_password", "ansible_ssh_pass", "ansible_ssh_password") ?? run.connectionPassword {
            authentication.append(.password(password))
            authentication.append(.keyboardInteractive(password))
        }
        let commonArgs = (try string("ansible_ssh_common_args") ?? "") + " " + (try string("ansible_ssh_extra_args") ?? "")
        var knownHosts = SSHOptions.defaultKnownHostsFiles
        if let file = try string("pgha_known_hosts_file") ?? sshOption("UserKnownHostsFile", in: commonArgs) {
            knownHosts = [expandHome(file)]
        }
        var policy: SSHOptions.HostKeyPolicy = run.acceptNewHostKeys ? .acceptNew : .strict
        if let checking = try string("ansible_host_key_checking", "ansible_ssh_host_key_checking"), !Templating.truthy(.string(checking)) {
            policy = .off
        }
        if let strict = sshOption("StrictHostKeyChecking", in: commonArgs)?.lowercased() {
            if strict == "no" || strict == "off" { policy = .off }
            if strict == "accept-new" { policy = .acceptNew }
        }
        let timeout = Double(try string("ansible_timeout", "ansible_ssh_timeout") ?? "") ?? run.connectionTimeout
        var sshOptions = SSHOptions(
            host: address, port: port, user: user, connectTimeout: timeout, authentication: authentication,
            knownHostsFiles: knownHosts, hostKeyPolicy: policy,
            hostKeyAlias: try string("pgha_host_key_alias"))
        // A host that stops answering (partitioned, powered off) is unreachable within the
        // connection timeout: keepalives go out three times in that time, and the silence counts.
        sshOptions.keepaliveInterval = max(1, Int(timeout / 3))
        sshOptions.inactivityTimeout = max(timeout, Double(sshOptions.keepaliveInterval))
        // As OpenSSH: a host is given up after ServerAliveCountMax (default 3) unanswered keepalives.
        if let interval = sshOption("ServerAliveInterval", in: commonArgs).flatMap({ Int($0) }), interval > 0 {
            let count = sshOption("ServerAliveCountMax", in: commonArgs).flatMap { Int($0) } ?? 3
            sshOptions.keepaliveInterval = interval
            sshOptions.inactivityTimeout = Double(interval * max(1, count))
        }
        return sshOptions
    }

    /// `-o Name=value` (or `-oName=value`) from ssh argument strings.
    static func sshOption(_ name: String, in arguments: String) -> String? {
        let words = arguments.split(whereSeparator: { $0 == " " || $0 == "'" || $0 == "\"" }).map(String.init)
        for (index, word) in words.enumerated() {
            var candidate = word
            if word == "-o", index + 1 < words.count { candidate = words[index + 1] }
            if candidate.hasPrefix("-o") { candidate = String(candidate.dropFirst(2)) }
            let parts = candidate.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0].caseInsensitiveCompare(name) == .orderedSame { return parts[1] }
        }
        return nil
    }

    static func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + String(path.dropFirst())
    }
}
