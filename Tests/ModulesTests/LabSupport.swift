import Foundation
import OrderedCollections
import PGHACore
import SSHTransport
import Testing
import Transport

@testable import Modules

/// The lab host the package, service, firewall and PostgreSQL tests use (node3; node1/node2/witness
/// belong to the cluster tests). Enabled by PGHA_LAB_TESTS=1.
enum Lab {
    static let host = ProcessInfo.processInfo.environment["PGHA_LAB_HOST"] ?? "10.77.0.14"
    static var enabled: Bool { ProcessInfo.processInfo.environment["PGHA_LAB_TESTS"] == "1" }
    static let root = Become(user: "root")

    /// A connection to the lab host, or nil when lab tests are off (a recorded failure under CI).
    static func connect() async throws -> (any Connection)? {
        guard enabled else {
            if inCI { Issue.record("lab tests are required under CI: set PGHA_LAB_TESTS=1 with the lab up") }
            return nil
        }
        let options = SSHOptions(
            host: host, user: "deploy", connectTimeout: 10,
            authentication: [.privateKey(path: "/var/lib/pgha-play/lab/id_ed25519", passphrase: nil)],
            knownHostsFiles: ["/var/lib/pgha-play/lab/known_hosts"], hostKeyPolicy: .strict)
        let connection = SSHConnection(hostName: "node3", options: options)
        do {
            _ = try await connection.connect()
        } catch {
            Issue.record("lab host \(host) unreachable: \(error)")
            throw error
        }
        return connection
    }
}

/// Runs modules against any connection (no scratch directory), with become and check/diff flags.
final class HostRunner: @unchecked Sendable {
    let connection: CountingConnection
    let become: Become?
    var checkMode = false
    var diffMode = false

    init(_ connection: any Connection, become: Become?) {
        self.connection = CountingConnection(connection)
        self.become = become
    }

    func run<M: Module>(_ module: M.Type, _ args: OrderedDictionary<String, Value>, check: Bool? = nil)
        async throws -> ModuleResult
    {
        let validated = try M.arguments.validate(
            args, module: M.name, locations: [:], taskLocation: SourceLocation(file: "test.yml", line: 1),
            allowTemplates: false)
        connection.reset()
        let context = ModuleContext(
            connection: connection, host: "target", checkMode: check ?? checkMode, diffMode: diffMode, become: become,
            taskLocation: SourceLocation(file: "test.yml", line: 1))
        return try await M.run(validated, context: context)
    }

    var roundTrips: Int { connection.roundTrips }

    @discardableResult
    func sh(_ command: String, stdin: String? = nil) async throws -> String {
        let result = try await connection.inner.run(
            CommandRequest(command, stdin: stdin.map { Array($0.utf8) }, become: become))
        #expect(result.succeeded, "command failed: \(command): \(result.stderrText)")
        return result.stdoutText
    }

    /// First run changes, second does not; check mode beforehand predicts the change and leaves
    /// `snapshot` untouched.
    func expectConverges<M: Module>(
        _ module: M.Type, _ args: OrderedDictionary<String, Value>, snapshot: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> (check: ModuleResult, first: ModuleResult, second: ModuleResult) {
        let before = try await sh(snapshot)
        let check = try await run(module, args, check: true)
        #expect(try await sh(snapshot) == before, "check mode changed the host", sourceLocation: sourceLocation)
        #expect(check.changed, "check mode should predict a change: \(check.msg ?? "")", sourceLocation: sourceLocation)
        let first = try await run(module, args)
        #expect(first.changed && !first.failed, "first run: \(first.msg ?? "")", sourceLocation: sourceLocation)
        let second = try await run(module, args)
        #expect(!second.changed && !second.failed, "second run: \(second.msg ?? "")", sourceLocation: sourceLocation)
        let checkAgain = try await run(module, args, check: true)
        #expect(!checkAgain.changed, "check mode after convergence", sourceLocation: sourceLocation)
        return (check, first, second)
    }
}

func validationError<M: Module>(_ module: M.Type, _ args: OrderedDictionary<String, Value>) -> String? {
    do {
        _ = try M.arguments.validate(
            args, module: M.name, locations: [:], taskLocation: SourceLocation(file: "t.yml", line: 1),
            allowTemplates: false)
        return nil
    } catch {
        return "\(error)"
    }
}
