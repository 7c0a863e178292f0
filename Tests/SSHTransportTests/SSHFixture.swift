import Foundation
import PGHACore
import Testing
import Transport

@testable import SSHTransport

/// The throwaway sshd from `.ci/sshd-setup.sh` (started here when it is not running yet).
enum SSHD {
    static let environment = ProcessInfo.processInfo.environment
    static let directory = environment["PGHA_SSHD_DIR"] ?? "/tmp/pgha-sshd"
    static let port = Int(environment["PGHA_SSHD_PORT"] ?? "") ?? 2222
    static let rsaPort = Int(environment["PGHA_SSHD_RSA_PORT"] ?? "") ?? 2223
    static let password = environment["PGHA_SSHD_PASSWORD"] ?? "pgha-Test-pw-7"
    static let isCI = environment["CI"] == "true"

    /// Why the server is not usable, or nil when it is; computed once per test run.
    static let problem: String? = {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".ci/sshd-setup.sh").path
        guard getuid() == 0 else { return "the sshd fixture needs root" }
        let (status, output) = shell(script)
        if status != 0 { return "\(script) failed (\(status)): \(output)" }
        return nil
    }()

    /// Runs the suite when sshd is up; under CI=true it runs anyway, so a missing server fails loudly.
    static var enabled: Bool { problem == nil || isCI }

    static func requireServer() throws {
        if let problem { throw PGHAError(.environment, "sshd fixture unavailable: \(problem)") }
    }

    static func hostPublicKey(_ type: String = "ed25519") -> String {
        let text = (try? String(contentsOfFile: "\(directory)/ssh_host_\(type)_key.pub", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// A fresh known_hosts file holding `lines`.
    static func knownHosts(_ lines: [String]) -> String {
        let path = NSTemporaryDirectory() + "pgha-known-\(UUID().uuidString)"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(lines.map { $0 + "\n" }.joined().utf8))
        return path
    }

    static var trustedKnownHosts: String { knownHosts(["[127.0.0.1]:\(port) \(hostPublicKey())"]) }

    static func options(
        user: String = "pghatest", port: Int? = nil, auth: [SSHOptions.Authentication]? = nil,
        knownHosts: String? = nil, policy: SSHOptions.HostKeyPolicy = .strict
    ) -> SSHOptions {
        SSHOptions(
            host: "127.0.0.1", port: port ?? self.port, user: user, connectTimeout: 5,
            authentication: auth ?? [.privateKey(path: "\(directory)/id_ed25519")],
            knownHostsFiles: [knownHosts ?? trustedKnownHosts], hostKeyPolicy: policy)
    }

    static func connection(
        user: String = "pghatest", auth: [SSHOptions.Authentication]? = nil
    ) throws -> SSHConnection {
        try requireServer()
        return SSHConnection(hostName: "sshd-test", options: options(user: user, auth: auth))
    }

    /// Runs a short local command; output goes through a file, and the child is reaped with waitpid,
    /// because Foundation's Process can hang when several tests use it at once.
    @discardableResult
    static func shell(_ command: String, environment extra: [String: String] = [:]) -> (Int32, String) {
        let output = NSTemporaryDirectory() + "pgha-shell-\(UUID().uuidString)"
        defer { unlink(output) }
        var prefix = ""
        for (name, value) in extra { prefix += "\(name)=\(shellQuote(value)) " }
        let line = "\(prefix.isEmpty ? "" : "export \(prefix); ")(\(command)) >\(output) 2>&1 </dev/null"
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", line]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else { return (-1, "spawn failed") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), text)
    }
}

/// The PGHAError `body` throws; records an issue when it throws nothing or something else.
func expectPGHAError(
    sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> PGHAError? {
    do {
        try await body()
        Issue.record("expected an error, got success", sourceLocation: sourceLocation)
    } catch let error as PGHAError {
        return error
    } catch {
        Issue.record("expected PGHAError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
