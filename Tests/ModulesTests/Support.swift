import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// PGHACore's, not swift-testing's (both modules export the name).
typealias SourceLocation = PGHACore.SourceLocation

/// A host the module tests run against. Every module test takes one of these as its argument, so the
/// same assertions run on this machine now and over SSH once a lab host is configured.
struct TestTarget: Sendable, CustomTestStringConvertible {
    let name: String
    let makeConnection: @Sendable () async throws -> any Connection

    var testDescription: String { name }

    static let local = TestTarget(name: "local") { LocalConnection() }

    /// Add an SSH target here (e.g. from PGHA_TEST_SSH_HOST) when the SSH transport is merged.
    static var all: [TestTarget] { [local] }
}

var isRoot: Bool { geteuid() == 0 }
var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

/// Records a failure under CI (where root is promised) and reports whether the test may go on.
func requireRoot() -> Bool {
    if isRoot { return true }
    if inCI { Issue.record("this test needs root under CI") }
    return false
}

/// Wraps a real connection and counts round trips (one per run/put/get call).
final class CountingConnection: Connection, @unchecked Sendable {
    let inner: any Connection
    private let lock = NSLock()
    private var _runs = 0
    private var _puts = 0
    private var _gets = 0
    private(set) var commands: [String] = []

    init(_ inner: any Connection) { self.inner = inner }

    var hostName: String { inner.hostName }
    var roundTrips: Int { lock.withLock { _runs + _puts + _gets } }
    var puts: Int { lock.withLock { _puts } }

    func reset() {
        lock.withLock {
            _runs = 0
            _puts = 0
            _gets = 0
            commands = []
        }
    }

    func run(_ request: CommandRequest) async throws -> CommandResult {
        lock.withLock {
            _runs += 1
            commands.append(request.command)
        }
        return try await inner.run(request)
    }

    func put(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) async throws {
        lock.withLock { _puts += 1 }
        try await inner.put(data, to: path, attributes: attributes, become: become)
    }

    func get(_ path: String, become: Become?) async throws -> [UInt8] {
        lock.withLock { _gets += 1 }
        return try await inner.get(path, become: become)
    }

    func close() async { await inner.close() }
}

/// A scratch directory on the target host, removed at the end, with helpers to run modules in it.
final class Sandbox: @unchecked Sendable {
    let connection: CountingConnection
    let dir: String
    let localDir: String
    var checkMode = false
    var diffMode = false
    var templates: [String: String] = [:]

    init(_ target: TestTarget) async throws {
        connection = CountingConnection(try await target.makeConnection())
        let made = try await connection.run(CommandRequest("mktemp -d /tmp/pgha-modtest.XXXXXXXX"))
        dir = made.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await connection.run(CommandRequest("chmod 755 \(shellQuote(dir))"))
        localDir = NSTemporaryDirectory() + "pgha-local-src-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: localDir, withIntermediateDirectories: true)
        connection.reset()
    }

    func cleanup() async {
        _ = try? await connection.inner.run(CommandRequest("rm -rf -- \(shellQuote(dir))"))
        try? FileManager.default.removeItem(atPath: localDir)
    }

    func path(_ name: String) -> String { dir + "/" + name }

    /// Runs a shell command on the target (setup and inspection; not counted).
    @discardableResult
    func sh(_ command: String) async throws -> String {
        let result = try await connection.inner.run(CommandRequest(command))
        #expect(result.succeeded, "setup command failed: \(command): \(result.stderrText)")
        return result.stdoutText
    }

    /// Everything about the directory tree: types, modes, owners, sizes, times, link targets, content.
    func snapshot() async throws -> String {
        try await sh(
            "cd \(shellQuote(dir)) && find . -printf '%p|%y|%m|%u|%g|%s|%T@|%l\\n' | sort && find . -type f -exec sha1sum {} + | sort"
        )
    }

    func run<M: Module>(
        _ module: M.Type, _ args: OrderedDictionary<String, Value>, become: Become? = nil
    ) async throws -> (result: ModuleResult, roundTrips: Int) {
        let validated = try M.arguments.validate(
            args, module: M.name, locations: [:], taskLocation: SourceLocation(file: "test.yml", line: 1),
            allowTemplates: false)
        connection.reset()
        let templates = self.templates
        let context = ModuleContext(
            connection: connection, host: "target", checkMode: checkMode, diffMode: diffMode, become: become,
            taskLocation: SourceLocation(file: "test.yml", line: 1),
            resolveLocalPath: { [localDir] path, _ in path.hasPrefix("/") ? path : localDir + "/" + path },
            renderTemplate: { path in
                guard let text = templates[(path as NSString).lastPathComponent] else {
                    throw PGHAError(.template, "no such template", at: SourceLocation(file: path))
                }
                return text
            })
        let result = try await M.run(validated, context: context)
        return (result, connection.roundTrips)
    }

    /// Runs once for real and checks it changed, then again and checks it did not: Ansible's
    /// idempotence contract. Returns the round trips of (first, second) run.
    func expectIdempotent<M: Module>(
        _ module: M.Type, _ args: OrderedDictionary<String, Value>,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> (ModuleResult, Int, Int) {
        let first = try await run(module, args)
        #expect(first.result.changed, "first run should change", sourceLocation: sourceLocation)
        #expect(!first.result.failed, "\(first.result.msg ?? "")", sourceLocation: sourceLocation)
        let second = try await run(module, args)
        #expect(!second.result.changed, "second run should be ok", sourceLocation: sourceLocation)
        #expect(!second.result.failed, "\(second.result.msg ?? "")", sourceLocation: sourceLocation)
        return (first.result, first.roundTrips, second.roundTrips)
    }

    /// Runs in check mode and checks that it predicts a change and leaves the tree untouched.
    func expectCheckModeChangesNothing<M: Module>(
        _ module: M.Type, _ args: OrderedDictionary<String, Value>, predictsChange: Bool = true,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> ModuleResult {
        let before = try await snapshot()
        checkMode = true
        defer { checkMode = false }
        let outcome = try await run(module, args)
        let after = try await snapshot()
        #expect(before == after, "check mode changed the host", sourceLocation: sourceLocation)
        #expect(outcome.result.changed == predictsChange, sourceLocation: sourceLocation)
        #expect(!outcome.result.failed, "\(outcome.result.msg ?? "")", sourceLocation: sourceLocation)
        return outcome.result
    }

    func writeLocal(_ name: String, _ text: String) throws -> String {
        let path = localDir + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Round trips seen per module, printed once at the end of the suite for the report.
let roundTripLog = RoundTripLog()

final class RoundTripLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []

    func note(_ text: String) {
        lock.withLock { entries.append(text) }
        print("round trips: \(text)")
    }
}
