import Foundation
import PGHACore

#if canImport(Glibc)
    import Glibc
#endif

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
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
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

    /// Starts `argv` in a new session, detached from this process: stdin is /dev/null, stdout and
    /// stderr append to `logPath`, and no other descriptor is inherited.
    ///
    /// Foundation.Process is not used here: it learns that a child ended when a socket the child
    /// inherited closes, so a long-lived grandchild that keeps it open would hang waitUntilExit.
    /// - Returns: the pid of the started program (a child of this process until this process exits).
    public func spawnDetached(_ argv: [String], logPath: String, environment: [String: String] = [:]) throws -> pid_t {
        precondition(!argv.isEmpty)
        trace?("+ " + argv.joined(separator: " ") + " >>\(logPath) &")
        let executable = try Self.resolve(argv[0])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // closefrom_np is hidden from Swift's Glibc module; list our descriptors instead (glibc
        // ignores a close action on one that is no longer open).
        let openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in openFDs.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(Self.spawnSetsid))

        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            .map { "\($0.key)=\($0.value)" }
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([executable] + argv.dropFirst()).map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            for pointer in cArgs { free(pointer) }
            for pointer in cEnv { free(pointer) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &cArgs, &cEnv)
        guard rc == 0 else {
            throw PGHAError(.environment, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    /// glibc's POSIX_SPAWN_SETSID, which Swift's Glibc module does not export.
    static let spawnSetsid: Int32 = 0x80

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
