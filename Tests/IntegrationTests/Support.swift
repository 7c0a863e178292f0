import Foundation
import OrderedCollections
import PGHACore

/// Paths and process helpers shared by the end-to-end tests.
enum TestSupport {
    /// The repository root (where Package.swift is).
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// The pgha-play binary built beside this test bundle.
    static let executable: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("pgha-play").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return repositoryRoot + "/.build/debug/pgha-play"
    }()

    static let fixtures = repositoryRoot + "/Tests/IntegrationTests/Fixtures"

    /// The `[all:vars]` section that reaches lab hosts as inventory/lab.ini does, for a lab whose
    /// key and known_hosts live in `stateDirectory`.
    static func labInventoryVars(stateDirectory: String) -> String {
        """
        [all:vars]
        ansible_user=deploy
        ansible_ssh_private_key_file=\(stateDirectory)/id_ed25519
        ansible_ssh_common_args='-o UserKnownHostsFile=\(stateDirectory)/known_hosts -o StrictHostKeyChecking=yes'
        pgha_known_hosts_file=\(stateDirectory)/known_hosts
        ansible_python_interpreter=/usr/bin/python3

        """
    }

    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion, reading both pipes concurrently.
    static func run(
        _ program: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
        stdin: String? = nil
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = stdin.map { _ in Pipe() }
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()
        if let input, let stdin {
            // A short script: it fits the pipe buffer, so writing before reading cannot deadlock.
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// `run` on a dispatch thread, so a long program does not hold one of the few cooperative threads;
    /// `stdin` is written to the program's standard input.
    static func runAsync(
        _ program: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
        stdin: String? = nil
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(returning: try run(program, arguments, in: directory, environment: environment, stdin: stdin))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The oracle virtualenv's python (creating it on first use), or nil when it cannot be made.
    /// Why it could not be made is printed, so a failing run's log says.
    static let oraclePython: String? = {
        let started = Date()
        let result: Output
        do {
            result = try run("/bin/bash", [repositoryRoot + "/scripts/oracle-venv.sh"])
        } catch {
            print("scripts/oracle-venv.sh could not be started: \(error)")
            return nil
        }
        let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, FileManager.default.isExecutableFile(atPath: path) else {
            print(String(format: "scripts/oracle-venv.sh failed after %.0f s (exit %d): %@%@",
                         Date().timeIntervalSince(started), result.status, result.stdout, String(result.stderr.suffix(3000))))
            return nil
        }
        return path
    }()
}

/// A directory of one test's files, removed when the value is released.
class TemporaryDirectory {
    let root: String

    init(prefix: String) throws {
        root = NSTemporaryDirectory() + prefix + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `text` to `path` (relative to the root), creating its directories.
    func write(_ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }
}

/// pgha-play running in the background with `--output json` (the lab failure tests act on hosts
/// while it runs), its output read as it comes. Unchecked: each reader writes its buffer once,
/// and `finish` reads them only after waiting for both readers.
final class BackgroundRun: @unchecked Sendable {
    let process = Process()
    private var stdout = Data()
    private var stderr = Data()
    private let readers = DispatchGroup()

    init(inventory: String, playbook: String, extraArguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: TestSupport.executable)
        process.arguments = ["-i", inventory, "--output", "json"] + extraArguments + [playbook]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        DispatchQueue.global().async(group: readers) { self.stdout = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { self.stderr = err.fileHandleForReading.readDataToEndOfFile() }
    }

    /// Waits for the run to end; its events (one JSON object a line) and standard error.
    func finish() -> (status: Int32, events: [OrderedDictionary<String, Value>], stderr: String) {
        readers.wait()
        process.waitUntilExit()
        let events = String(decoding: stdout, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSON.decode(String($0)))?.dictValue
        }
        return (process.terminationStatus, events, String(decoding: stderr, as: UTF8.self))
    }

    /// "task host: status" of each host result.
    static func statuses(_ events: [OrderedDictionary<String, Value>]) -> [String] {
        events.filter { $0["event"] == "host_result" }.map {
            "\($0["task"]?.stringValue ?? "") \($0["host"]?.stringValue ?? ""): \($0["status"]?.stringValue ?? "")"
        }
    }
}

