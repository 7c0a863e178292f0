import Foundation
// Linux only, like the rest of the engine (posix_spawn, poll, getpwnam).
import Glibc
import PGHACore

/// Runs commands and moves files on this machine (`connection: local`).
///
/// Commands run under `/bin/sh -c`; `become` to a user other than the current one goes through
/// `sudo -n -u USER`, exactly as it would on a remote host, so modules see the same behaviour as over
/// SSH. Blocking waits happen on a dedicated thread per command so Swift's cooperative pool stays free.
public final class LocalConnection: Connection, @unchecked Sendable {
    /// Output beyond this many bytes per stream is read and discarded so the child never blocks.
    public static let outputLimit = 10 * 1024 * 1024

    public let hostName: String
    private let lock = NSLock()
    private var closed = false

    public init(hostName: String = "localhost") {
        self.hostName = hostName
        _ = Self.ignoreSIGPIPE
    }

    /// Writing to a child that exited early must be an EPIPE error, not a process-killing signal.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// The user this process runs as.
    public static var currentUser: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return String(geteuid())
    }

    /// Whether `become` asks for a user other than the one running this process.
    static func needsSudo(_ become: Become?) -> Bool {
        guard let become else { return false }
        if become.user == currentUser { return false }
        if geteuid() == 0 && (become.user == "root" || become.user == "0") { return false }
        return true
    }

    private func checkOpen() throws {
        lock.lock()
        defer { lock.unlock() }
        if closed {
            throw PGHAError(.unreachable, "connection to \(hostName) is closed", host: hostName)
        }
    }

    public func close() async {
        lock.withLock { closed = true }
    }

    // MARK: - Commands

    public func run(_ request: CommandRequest) async throws -> CommandResult {
        try await run(request, outputLimit: Self.outputLimit)
    }

    private func run(_ request: CommandRequest, outputLimit: Int) async throws -> CommandResult {
        try checkOpen()
        var script = request.command
        if let dir = request.workingDirectory {
            // A failed cd must stop the command rather than run it somewhere else.
            script = "cd -- \(shellQuote(dir)) || exit 1\n" + script
        }
        var argv: [String]
        if Self.needsSudo(request.become), let become = request.become {
            guard become.method == "sudo" else {
                throw PGHAError(
                    .environment, "become method '\(become.method)' is not supported (only sudo)", host: hostName)
            }
            guard become.password == nil else {
                throw PGHAError(
                    .environment, "the local connection cannot answer a sudo password prompt", host: hostName,
                    hint: "allow NOPASSWD sudo for this user, or run as \(become.user)")
            }
            // sudo resets the environment, so the variables travel through env(1) after it.
            argv = ["sudo", "-n", "-H", "-u", become.user, "--", "/usr/bin/env"]
            argv += request.environment.map { "\($0.0)=\($0.1)" }
            argv += ["/bin/sh", "-c", script]
        } else {
            argv = ["/bin/sh", "-c", script]
        }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in request.environment { environment[key] = value }
        let spawn = SpawnRequest(
            argv: argv, environment: environment.map { "\($0.key)=\($0.value)" }, stdin: request.stdin ?? [],
            timeout: request.timeout, outputLimit: outputLimit)
        let box = PidBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CommandResult, Error>) in
                let thread = Thread {
                    do {
                        continuation.resume(returning: try spawn.execute(pidBox: box))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "pgha-local-command"
                thread.start()
            }
        } onCancel: {
            box.kill()
        }
    }

    // MARK: - Files

    /// Writes atomically: a temporary file in the destination's directory is written, flushed to
    /// disk, given its owner and mode, then renamed over `path`. Attributes left nil keep those of an
    /// existing file (as Ansible's atomic_move does); a new file gets 0666 minus the umask.
    public func put(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) async throws {
        try checkOpen()
        if Self.needsSudo(become) {
            try await putThroughShell(data, to: path, attributes: attributes, become: become)
            return
        }
        try await Self.offPool { try Self.putNatively(data, to: path, attributes: attributes) }
    }

    public func get(_ path: String, become: Become?) async throws -> [UInt8] {
        try checkOpen()
        if Self.needsSudo(become) {
            // A whole file, however large: the 10 MB cap is for command output only.
            let result = try await run(CommandRequest("cat -- \(shellQuote(path))", become: become), outputLimit: .max)
            guard result.succeeded else {
                throw PGHAError(
                    .io, "cannot read \(path): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
                    host: hostName)
            }
            return result.stdout
        }
        let host = hostName
        return try await Self.offPool {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PGHAError(.io, "cannot read \(path): \(String(cString: strerror(errno)))", host: host)
            }
            return [UInt8](data)
        }
    }

    private func putThroughShell(
        _ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?
    )
        async throws
    {
        let q = shellQuote(path)
        var script = """
            set -e
            d=$(dirname -- \(q))
            tmp=$(mktemp "$d/.pgha-tmp.XXXXXXXX")
            trap 'rm -f -- "$tmp"' EXIT
            cat > "$tmp"
            if [ -e \(q) ]; then chown --reference=\(q) -- "$tmp" 2>/dev/null || true; chmod --reference=\(q) -- "$tmp"; else chmod \(String(0o666 & ~Self.currentUmask(), radix: 8)) -- "$tmp"; fi

            """
        let owner = attributes.owner.map(shellQuote) ?? ""
        let group = attributes.group.map(shellQuote) ?? ""
        if attributes.owner != nil || attributes.group != nil {
            let spec = "\(owner)\(attributes.group != nil ? ":" + group : "")"
            // Re-stating the ids the file already has may be refused to an unprivileged user; like
            // Ansible's atomic_move, that is not an error (an actual change of owner still is).
            script += """
                if ! chown -- \(spec) "$tmp"; then
                  [ -e \(q) ] && [ "$(stat -c %u:%g -- \(q))" = \(shellQuote(spec)) ] || exit 1
                  chown --reference=\(q) -- "$tmp" 2>/dev/null || true
                fi

                """
        }
        if let mode = attributes.mode { script += "chmod \(String(mode, radix: 8)) -- \"$tmp\"\n" }
        // Only a complete copy replaces the file: stdin cut short (an interrupted run) leaves the old one.
        script += "[ \"$(wc -c < \"$tmp\")\" -eq \(data.count) ]\n"
        script += "sync -- \"$tmp\" 2>/dev/null || true\nmv -f -- \"$tmp\" \(q)\ntrap - EXIT\n"
        let result = try await run(CommandRequest(script, stdin: data, become: become))
        guard result.succeeded else {
            throw PGHAError(
                .io, "cannot write \(path): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
                host: hostName)
        }
    }

    static func currentUmask() -> UInt32 {
        // umask(2) can only be read by setting it; the brief swap is harmless for a single value.
        let old = umask(0o022)
        umask(old)
        return UInt32(old)
    }

    static func putNatively(_ data: [UInt8], to path: String, attributes: FileAttributes) throws {
        func fail(_ what: String) -> PGHAError {
            PGHAError(.io, "cannot write \(path): \(what): \(String(cString: strerror(errno)))")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var template = Array((directory + "/." + url.lastPathComponent + ".pgha-tmp.XXXXXX").utf8CString)
        // Close-on-exec: a process that another thread spawns meanwhile must not keep the file open for
        // writing, or running the file (script, validate) fails with "Text file busy".
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw fail("mkstemp") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var success = false
        defer {
            if !success { unlink(tempPath) }
        }
        defer { Glibc.close(fd) }
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { buf in
                Glibc.write(fd, buf.baseAddress! + offset, data.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw fail("write")
            }
            offset += written
        }
        var existing = stat()
        let exists = stat(path, &existing) == 0
        var uid: uid_t = exists ? existing.st_uid : geteuid()
        var gid: gid_t = exists ? existing.st_gid : getegid()
        var mode: mode_t = exists ? existing.st_mode & 0o7777 : mode_t(0o666 & ~currentUmask())
        if let owner = attributes.owner {
            guard let id = userID(owner) else { throw PGHAError(.io, "cannot write \(path): no such user '\(owner)'") }
            uid = id
        }
        if let group = attributes.group {
            guard let id = groupID(group) else {
                throw PGHAError(.io, "cannot write \(path): no such group '\(group)'")
            }
            gid = id
        }
        if let m = attributes.mode { mode = mode_t(m & 0o7777) }
        if exists || attributes.owner != nil || attributes.group != nil, uid != geteuid() || gid != getegid() {
            // Keeping an existing file's owner is best effort for unprivileged users (as Ansible's
            // atomic_move ignores EPERM there); an owner the caller asked for must stick.
            let keepsExisting = exists && uid == existing.st_uid && gid == existing.st_gid
            if fchown(fd, uid, gid) != 0 && !(errno == EPERM && keepsExisting) { throw fail("chown") }
        }
        // After chown, because chown clears setuid/setgid bits.
        guard fchmod(fd, mode) == 0 else { throw fail("chmod") }
        guard fsync(fd) == 0 else { throw fail("fsync") }
        guard rename(tempPath, path) == 0 else { throw fail("rename") }
        success = true
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            Glibc.close(dirFD)
        }
    }

    static func userID(_ name: String) -> uid_t? {
        if let pw = getpwnam(name) { return pw.pointee.pw_uid }
        return UInt32(name)
    }

    static func groupID(_ name: String) -> gid_t? {
        if let gr = getgrnam(name) { return gr.pointee.gr_gid }
        return UInt32(name)
    }

    /// Runs blocking file-system work on its own thread.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let thread = Thread {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
            thread.start()
        }
    }
}

/// The running child's pid, so cancellation can kill it from another thread.
final class PidBox: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var cancelled = false

    func set(_ pid: pid_t) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        self.pid = pid
        return !cancelled
    }

    func clear() {
        lock.lock()
        pid = 0
        lock.unlock()
    }

    func kill() {
        lock.lock()
        defer { lock.unlock() }
        cancelled = true
        if pid > 0 { Glibc.kill(-pid, SIGKILL) }
    }
}

/// One child process: spawn, feed stdin, drain stdout/stderr with poll(2), wait.
struct SpawnRequest: Sendable {
    static let spawnLock = NSLock()

    var argv: [String]
    var environment: [String]
    var stdin: [UInt8]
    var timeout: Double?
    var outputLimit: Int = LocalConnection.outputLimit

    func execute(pidBox: PidBox) throws -> CommandResult {
        // pipe2(O_CLOEXEC) is not imported; holding one lock from pipe creation to spawn keeps a
        // concurrent spawn from inheriting these pipes (which would delay our EOF).
        SpawnRequest.spawnLock.lock()
        var locked = true
        defer { if locked { SpawnRequest.spawnLock.unlock() } }
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0
        else { throw PGHAError(.environment, "cannot create pipes: \(String(cString: strerror(errno)))") }
        for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills the whole pipeline, not just the shell.
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        SpawnRequest.spawnLock.unlock()
        locked = false
        Glibc.close(inPipe[0])
        Glibc.close(outPipe[1])
        Glibc.close(errPipe[1])
        guard rc == 0 else {
            Glibc.close(inPipe[1])
            Glibc.close(outPipe[0])
            Glibc.close(errPipe[0])
            throw PGHAError(.environment, "cannot run \(argv[0]): \(String(cString: strerror(rc)))")
        }
        if !pidBox.set(pid) { Glibc.kill(-pid, SIGKILL) }
        defer { pidBox.clear() }

        var stdinFD: Int32 = inPipe[1]
        var stdoutFD: Int32 = outPipe[0]
        var stderrFD: Int32 = errPipe[0]
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
        var stdinOffset = 0
        if stdin.isEmpty {
            Glibc.close(stdinFD)
            stdinFD = -1
        }
        var out: [UInt8] = []
        var err: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var timedOut = false

        while stdoutFD >= 0 || stderrFD >= 0 {
            var fds: [pollfd] = []
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            var waitMillis: Int32 = -1
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 {
                    timedOut = true
                    Glibc.kill(-pid, SIGKILL)
                    break
                }
                waitMillis = Int32(min(left * 1000, 60_000)) + 1
            }
            let ready = poll(&fds, nfds_t(fds.count), waitMillis)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinFD {
                    if entry.revents & Int16(POLLOUT) != 0 {
                        let n = stdin.withUnsafeBytes { buf in
                            Glibc.write(stdinFD, buf.baseAddress! + stdinOffset, stdin.count - stdinOffset)
                        }
                        if n > 0 { stdinOffset += n }
                        if (n < 0 && errno != EAGAIN && errno != EINTR) || stdinOffset >= stdin.count {
                            Glibc.close(stdinFD)
                            stdinFD = -1
                        }
                    } else {
                        // The reader went away (POLLERR/POLLHUP): the rest of stdin is not wanted.
                        Glibc.close(stdinFD)
                        stdinFD = -1
                    }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(entry.fd, $0.baseAddress!, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 {
                    Glibc.close(entry.fd)
                    if entry.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
                    continue
                }
                if entry.fd == stdoutFD {
                    let room = outputLimit - out.count
                    if room > 0 { out += buffer[0..<min(n, room)] }
                } else {
                    let room = outputLimit - err.count
                    if room > 0 { err += buffer[0..<min(n, room)] }
                }
            }
        }
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { Glibc.close(fd) }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { break }
        }
        if timedOut {
            throw PGHAError(
                .execution, "command timed out after \(JSON.formatDouble(timeout ?? 0)) seconds and was killed")
        }
        // WIFEXITED / WTERMSIG spelled out: the C macros are not imported into Swift.
        let termSignal = status & 0x7f
        if termSignal == 0 {
            return CommandResult(stdout: out, stderr: err, exitStatus: (status >> 8) & 0xff)
        }
        return CommandResult(stdout: out, stderr: err, exitStatus: -1, signal: signalName(termSignal))
    }
}

/// The signal's name without "SIG" ("KILL", "TERM"), as Python's signal.Signals names it.
public func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGTRAP: "TRAP", SIGABRT: "ABRT",
        SIGBUS: "BUS", SIGFPE: "FPE", SIGKILL: "KILL", SIGUSR1: "USR1", SIGSEGV: "SEGV", SIGUSR2: "USR2",
        SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGTERM: "TERM", SIGCHLD: "CHLD", SIGCONT: "CONT", SIGSTOP: "STOP",
        SIGTSTP: "TSTP", SIGTTIN: "TTIN", SIGTTOU: "TTOU", SIGURG: "URG", SIGXCPU: "XCPU", SIGXFSZ: "XFSZ",
        SIGVTALRM: "VTALRM", SIGPROF: "PROF", SIGWINCH: "WINCH", SIGIO: "IO", SIGSYS: "SYS",
    ]
    return names[signal] ?? String(signal)
}

/// The signal's number for a name from `signalName` (for Python-style negative return codes).
public func signalNumber(_ name: String) -> Int32? {
    for number in Int32(1)...Int32(31) where signalName(number) == name { return number }
    return nil
}
