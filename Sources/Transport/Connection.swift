import PGHACore

/// Privilege escalation for one command or transfer (`become: true`).
public struct Become: Sendable, Hashable {
    public var user: String
    /// Only sudo is supported; the field exists so errors can name what was asked for.
    public var method: String
    /// Never logged, echoed or put on a command line: it is written to sudo's prompt.
    public var password: String?

    public init(user: String = "root", method: String = "sudo", password: String? = nil) {
        self.user = user
        self.method = method
        self.password = password
    }
}

/// One command to run on a host through `/bin/sh -c`.
public struct CommandRequest: Sendable {
    /// A shell command line, run by the login user's `/bin/sh -c` (or sudo's, with `become`).
    public var command: String
    /// Bytes written to the command's standard input, then closed.
    public var stdin: [UInt8]?
    public var environment: [(String, String)]
    public var become: Become?
    public var workingDirectory: String?
    /// Seconds; nil waits as long as the command runs.
    public var timeout: Double?
    /// The command is a module's own script, not a user's command line: a kept shell may run it in
    /// a forked subshell instead of a new `/bin/sh`, which saves the host an exec per task. `$$`
    /// and `$PPID` are then the kept shell's, and `$0` its name.
    public var subshellAllowed: Bool

    public init(
        _ command: String, stdin: [UInt8]? = nil, environment: [(String, String)] = [], become: Become? = nil,
        workingDirectory: String? = nil, timeout: Double? = nil, subshellAllowed: Bool = false
    ) {
        self.command = command
        self.stdin = stdin
        self.environment = environment
        self.become = become
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.subshellAllowed = subshellAllowed
    }
}

public struct CommandResult: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The exit status; -1 when the command was killed by a signal.
    public var exitStatus: Int32
    /// The signal name (e.g. "KILL") when the command died of one.
    public var signal: String?

    public init(stdout: [UInt8], stderr: [UInt8], exitStatus: Int32, signal: String? = nil) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.signal = signal
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { exitStatus == 0 && signal == nil }
}

/// Ownership and permissions applied to a file written by `put`.
public struct FileAttributes: Sendable, Hashable {
    /// Octal permission bits, e.g. 0o644.
    public var mode: UInt32?
    public var owner: String?
    public var group: String?

    public init(mode: UInt32? = nil, owner: String? = nil, group: String? = nil) {
        self.mode = mode
        self.owner = owner
        self.group = group
    }
}

/// The only way the engine and modules touch a host: run a command, move a file.
///
/// Implementations: `LocalConnection` (this machine) and the libssh2-backed SSH connection. Tests use
/// an in-memory fake only where the real implementations are also tested end to end.
public protocol Connection: Sendable {
    /// The inventory name of the host this connection reaches.
    var hostName: String { get }

    /// Runs one command; a non-zero exit is a result, not an error. Throws `.unreachable` when the
    /// host cannot be reached.
    func run(_ request: CommandRequest) async throws -> CommandResult

    /// Writes `data` to `path` atomically (temporary file in the same directory, then rename), with
    /// the given attributes; `become` writes as that user (e.g. root-owned files).
    func put(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) async throws

    /// Reads a whole file; `become` reads as that user.
    func get(_ path: String, become: Become?) async throws -> [UInt8]

    /// Ends the session; further calls throw.
    func close() async
}

extension Connection {
    /// Runs a command and returns its stdout as text (convenience for modules).
    public func run(_ command: String, become: Become? = nil) async throws -> CommandResult {
        try await run(CommandRequest(command, become: become))
    }
}
