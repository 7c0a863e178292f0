import Foundation
import PGHACore

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }
}

/// Runs controller-side tools (ip, debootstrap, ssh-keygen, ...) with Foundation.Process.
///
/// Output goes to temporary files rather than pipes so that a chatty tool (debootstrap) can never
/// block on a full pipe while we wait for it.
public struct ProcessRunner: Sendable {
    /// When set, every command line is echoed here before it runs (the CLI's `--verbose`).
    public var trace: (@Sendable (String) -> Void)?

    public init(trace: (@Sendable (String) -> Void)? = nil) {
        self.trace = trace
    }

    /// Runs `argv` to completion. `argv[0]` is a path or a name looked up in PATH.
    @discardableResult
    public func run(_ argv: [String], input: String? = nil, environment: [String: String]? = nil) throws
        -> CommandResult
    {
        precondition(!argv.isEmpty)
        trace?("+ " + argv.joined(separator: " "))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.resolve(argv[0]))
        process.arguments = Array(argv.dropFirst())
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let tmp = FileManager.default.temporaryDirectory
        let outURL = tmp.appendingPathComponent("pgha-lab-\(UUID().uuidString).out")
        let errURL = tmp.appendingPathComponent("pgha-lab-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inputPipe = Pipe()
        if input != nil {
            process.standardInput = inputPipe
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        do {
            try process.run()
        } catch {
            throw PGHAError(.environment, "cannot run \(argv[0]): \(error)")
        }
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return CommandResult(status: process.terminationStatus, stdout: out, stderr: err)
    }

    /// Runs `argv` and throws, with its stderr, unless it exits 0.
    @discardableResult
    public func check(_ argv: [String], input: String? = nil, environment: [String: String]? = nil) throws
        -> CommandResult
    {
        let result = try run(argv, input: input, environment: environment)
        guard result.succeeded else {
            let detail = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw PGHAError(
                .environment,
                "\(argv.joined(separator: " ")) exited \(result.status)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return result
    }

    /// The absolute path of `name`, searching PATH plus the sbin directories a root shell has.
    public static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        if let found = which(name) { return found }
        throw PGHAError(.environment, "\(name) not found in PATH")
    }

    /// The absolute path of `name`, or nil when it is not installed.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var dirs = path.split(separator: ":").map(String.init)
        for extra in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        where !dirs.contains(extra) {
            dirs.append(extra)
        }
        for dir in dirs {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
