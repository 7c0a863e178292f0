import Foundation
import OrderedCollections
import PGHACore
import SSHTransport
import Testing
import Transport

@testable import Modules

/// The lab hosts the module tests use (node1/node2/witness belong to the cluster tests). Enabled by
/// PGHA_LAB_TESTS=1. `host` (node3) is shared and never reset; `fresh` (node4) is reset once per test
/// process for the tests that install, remove or firewall, and so may leave it in any state.
enum Lab {
    static let host = ProcessInfo.processInfo.environment["PGHA_LAB_HOST"] ?? "10.77.0.14"
    static var enabled: Bool { ProcessInfo.processInfo.environment["PGHA_LAB_TESTS"] == "1" }
    static let root = Become(user: "root")

    /// A connection to the shared lab host, or nil when lab tests are off (a recorded failure under CI).
    /// Tests close it themselves at the end: a session left to deinit is shut down on its own thread,
    /// which can still be running when the process exits and crash it.
    static func connect() async throws -> (any Connection)? {
        try await connect(to: host, name: "node3")
    }

    static func connect(to address: String, name: String) async throws -> (any Connection)? {
        guard enabled else {
            if inCI { Issue.record("lab tests are required under CI: set PGHA_LAB_TESTS=1 with the lab up") }
            return nil
        }
        let options = SSHOptions(
            host: address, user: "deploy", connectTimeout: 10,
            authentication: [.privateKey(path: "/var/lib/pgha-play/lab/id_ed25519", passphrase: nil)],
            knownHostsFiles: ["/var/lib/pgha-play/lab/known_hosts"], hostKeyPolicy: .strict)
        let connection = SSHConnection(hostName: name, options: options)
        do {
            _ = try await connection.connect()
        } catch {
            Issue.record("lab host \(address) unreachable: \(error)")
            throw error
        }
        return connection
    }

    /// node4 with a fresh disk and the prerequisites installed from the image's offline repository:
    /// reset and set up once per test process, whichever suite asks first (suites run in parallel).
    static func connectFresh() async throws -> (any Connection)? {
        guard enabled else { return try await connect(to: FreshHost.address, name: FreshHost.name) }
        try await FreshHost.prepared.value
        return try await connect(to: FreshHost.address, name: FreshHost.name)
    }
}

/// node4, or the host PGHA_LAB_FRESH_HOST names ("name=address").
enum FreshHost {
    private static let given = ProcessInfo.processInfo.environment["PGHA_LAB_FRESH_HOST"]?
        .split(separator: "=", maxSplits: 1).map(String.init)
    static let name = given.flatMap { $0.count == 2 ? $0[0] : nil } ?? "node4"
    static let address = given.flatMap { $0.count == 2 ? $0[1] : nil } ?? "10.77.0.15"
    /// What the fresh-host tests expect to find installed: jq (removed and reinstalled by the apt
    /// test), ufw, cron, and PostgreSQL 15 with its default cluster running.
    static let packages = ["jq", "ufw", "cron", "postgresql-15"]

    static let prepared = Task<Void, any Error> {
        let reset = try await runProcess(pghaPlay, ["lab", "reset", name])
        guard reset.status == 0 else {
            throw PGHAError(.io, "pgha-play lab reset \(name) failed (\(reset.status)): \(reset.output)")
        }
        guard let connection = try await Lab.connect(to: address, name: name) else { return }
        let install = try await connection.run(CommandRequest(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \(packages.joined(separator: " ")) "
                + "&& pg_lsclusters -h | grep -q online",
            become: Lab.root))
        await connection.close()
        guard install.succeeded else {
            throw PGHAError(.io, "installing \(packages) on \(name) failed: \(install.stderrText)\(install.stdoutText)")
        }
    }

    /// The pgha-play binary built beside this test bundle (it owns the lab).
    static let pghaPlay: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("pgha-play").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "pgha-play"
    }()
}

/// Runs a program without holding a cooperative thread while it runs (there may be only two).
func runProcess(_ program: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
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
