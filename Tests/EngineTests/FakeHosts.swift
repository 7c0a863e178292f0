import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Playbook
import Testing
import Transport

@testable import Engine

/// In-process hosts for engine tests: the engine's scheduling, state, handlers and failure
/// handling are tested here without SSH (the real connections are tested end to end elsewhere).
///
/// A `command:` task's program is a small script for the fake host: `ok`, `fail` (exit 1),
/// `sleep SECONDS`, `signal NAME`, `wait NAME` (until some host signals NAME; fails after ten
/// seconds), `unreachable`
/// (as a host that lost power); anything else succeeds and prints its words.
actor FakeWorld {
    private var signals: Set<String> = []
    private var running = 0
    /// The most commands that ran at once.
    private(set) var mostAtOnce = 0
    /// "host: program" in the order the commands started.
    private(set) var started: [String] = []

    func begin(_ host: String, _ program: String) {
        started.append("\(host): \(program)")
        running += 1
        mostAtOnce = max(mostAtOnce, running)
    }

    func end() { running -= 1 }

    func signal(_ name: String) { signals.insert(name) }

    func isSignalled(_ name: String) -> Bool { signals.contains(name) }

    /// Whether `name` was signalled within ten seconds (a scheduling bug must fail, not hang).
    nonisolated func wait(for name: String) async -> Bool {
        for _ in 0..<1000 {
            if await isSignalled(name) { return true }
            try? await _Concurrency.Task.sleep(nanoseconds: 10_000_000)
        }
        return false
    }
}

struct FakeConnector: Connector {
    let world: FakeWorld

    func connect(host: String, variables: VariableStack) async throws -> any Connection {
        FakeConnection(hostName: host, world: world)
    }
}

final class FakeConnection: Connection, Sendable {
    let hostName: String
    let world: FakeWorld

    init(hostName: String, world: FakeWorld) {
        self.hostName = hostName
        self.world = world
    }

    func run(_ request: CommandRequest) async throws -> CommandResult {
        // The command module ends its script with `exec PROGRAM ARGS`; ping runs `echo pong`.
        guard let line = request.command.split(separator: "\n").last(where: { $0.hasPrefix("exec ") }) else {
            return Self.result(request.command.hasPrefix("echo ") ? String(request.command.dropFirst(5)) : "")
        }
        let words = line.dropFirst(5).split(separator: " ").map { $0.filter { $0 != "'" && $0 != "\"" } }
        let program = words.joined(separator: " ")
        await world.begin(hostName, program)
        do {
            let result = try await perform(words, program)
            await world.end()
            return result
        } catch {
            await world.end()
            throw error
        }
    }

    private func perform(_ words: [String], _ program: String) async throws -> CommandResult {
        switch words.first {
        case "fail":
            return Self.result("", status: 1)
        case "sleep":
            try await _Concurrency.Task.sleep(nanoseconds: UInt64((Double(words.last ?? "0") ?? 0) * 1e9))
        case "signal":
            await world.signal(words.last ?? "")
        case "wait":
            if await !world.wait(for: words.last ?? "") { return Self.result("timed out", status: 1) }
        case "unreachable":
            throw PGHAError(.unreachable, "the host stopped answering", host: hostName)
        default:
            break
        }
        return Self.result(program)
    }

    func put(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) async throws {
        throw PGHAError(.execution, "fake hosts hold no files")
    }

    func get(_ path: String, become: Become?) async throws -> [UInt8] {
        throw PGHAError(.execution, "fake hosts hold no files")
    }

    func close() async {}

    private static func result(_ stdout: String, status: Int32 = 0) -> CommandResult {
        CommandResult(stdout: Array((stdout + "\n").utf8), stderr: [], exitStatus: status)
    }
}

/// One run of a playbook on fake hosts, with what it reported.
struct FakeRun {
    let outcome: RunOutcome
    let events: [EngineEvent]
    let world: FakeWorld

    /// "task host: status" for every host result, in the order they were reported.
    var results: [String] {
        hostResults.map { "\($0.task) \($0.result.host): \($0.result.status.rawValue)" }
    }

    /// `results` with the hosts of each task in name order: hosts that run a task together
    /// finish it in any order.
    var resultsByTask: [String] { Self.sortedWithinTasks(hostResults).map { "\($0.task) \($0.result.host): \($0.result.status.rawValue)" } }

    /// What `debug: msg=...` printed, as "host: message", hosts in name order within a task.
    var messages: [String] {
        Self.sortedWithinTasks(hostResults).compactMap { entry in
            guard entry.result.action == "debug", let message = entry.result.result["msg"]?.stringValue else { return nil }
            return "\(entry.result.host): \(message)"
        }
    }

    private var hostResults: [(task: String, result: HostResult)] {
        events.compactMap { event in
            guard case .hostResult(let task, let result) = event else { return nil }
            return (task, result)
        }
    }

    private static func sortedWithinTasks(_ entries: [(task: String, result: HostResult)]) -> [(task: String, result: HostResult)] {
        var sorted: [(task: String, result: HostResult)] = []
        var start = 0
        while start < entries.count {
            var end = start
            while end < entries.count && entries[end].task == entries[start].task { end += 1 }
            sorted += entries[start..<end].sorted { $0.result.host < $1.result.host }
            start = end
        }
        return sorted
    }

    var recap: OrderedDictionary<String, HostStats> {
        for event in events { if case .recap(let recap) = event { return recap } }
        return [:]
    }

    var warnings: [String] {
        events.compactMap { event in
            if case .warning(let text) = event { return text }
            return nil
        }
    }

    /// Runs `playbook` (YAML) on the fake hosts `hosts` (an INI inventory's lines); `files` are
    /// written beside it (vars files, roles, task files).
    static func of(
        _ playbook: String, hosts: String = "h1\nh2\n", files: [String: String] = [:], forks: Int = 50,
        extraVars: OrderedDictionary<String, Value> = [:]
    ) async throws -> FakeRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-engine-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, text) in files.merging(["site.yml": playbook, "hosts.ini": hosts], uniquingKeysWith: { $1 }) {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        var options = RunOptions()
        options.forks = forks
        options.extraVars = extraVars
        let loader = PlaybookLoader(roleSearchPaths: [], catalog: ActionRegistry.catalog, strategies: Strategies.names)
        let world = FakeWorld()
        let recorder = EventRecorder()
        let runner = PlaybookRunner(
            playbook: try loader.load(playbookPath: directory + "/site.yml"),
            inventory: try Inventory.load(sources: [directory + "/hosts.ini"]), options: options, loader: loader,
            connector: FakeConnector(world: world), sink: recorder)
        let outcome = try await runner.run()
        return FakeRun(outcome: outcome, events: recorder.events, world: world)
    }
}
