import Foundation
import PGHACore

#if canImport(Glibc)
    import Glibc
#endif

/// Boots, stops and kills the systemd-nspawn process of each host.
///
/// There is no system bus here, so nspawn runs unregistered (`--register=no --keep-unit`) and
/// machinectl cannot see it: the lab records each nspawn's pid in a file when it starts it, and
/// checks /proc that the pid still is that host's nspawn before trusting it.
public struct HostRuntime: Sendable {
    public var paths: LabPaths
    public var runner: ProcessRunner
    public var bridge: String

    public init(paths: LabPaths, runner: ProcessRunner, bridge: String) {
        self.paths = paths
        self.runner = runner
        self.bridge = bridge
    }

    /// The pid of `name`'s running nspawn, or nil when it is not running.
    public func nspawnPID(_ name: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: paths.pidFile(name), encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
        else { return nil }
        guard Self.isAlive(pid), let argv = Self.commandLine(pid) else { return nil }
        guard argv.first.map({ $0.hasSuffix("systemd-nspawn") }) == true, argv.contains("--machine=\(name)") else {
            return nil
        }
        return pid
    }

    public func isRunning(_ name: String) -> Bool { nspawnPID(name) != nil }

    /// Starts `host` in the background from `image` with its upper dir, and returns its nspawn pid.
    ///
    /// nspawn runs in its own session with its output in the host's console log, so hosts outlive
    /// the CLI and no terminal signal reaches them.
    @discardableResult
    public func boot(_ host: LabState.Host, image: String) throws -> pid_t {
        if let pid = nspawnPID(host.name) { return pid }
        let pidFile = paths.pidFile(host.name)
        try? FileManager.default.removeItem(atPath: pidFile)
        let log = paths.consoleLog(host.name)
        let header = "=== pgha-play lab: booting \(host.name) at \(Date()) ===\n"
        if let handle = FileHandle(forWritingAtPath: log) {
            handle.seekToEndOfFile()
            handle.write(Data(header.utf8))
            try? handle.close()
        } else {
            _ = FileManager.default.createFile(atPath: log, contents: Data(header.utf8))
        }
        let nspawn = [
            "systemd-nspawn", "--quiet",
            "--directory=\(image)", "--overlay=\(image):\(paths.upperDir(host.name)):/",
            "--boot", "--register=no", "--keep-unit", "--network-bridge=\(bridge)",
            "--machine=\(host.name)", "--resolv-conf=off", "--timezone=off", "--link-journal=no",
            "--console=read-only",
        ]
        // A tiny sh moves itself into the host's own cgroups, then execs nspawn (same pid). The
        // unified hierarchy gives each container a clean cgroup2 tree even on a hybrid host.
        let cgroups = Cgroups(bridge: bridge).create(for: host.name)
        let enterCgroups = "for g in $PGHA_LAB_CGROUPS; do echo $$ >\"$g/cgroup.procs\" || exit 97; done; exec \"$@\""
        let pid = try runner.spawnDetached(
            ["/bin/sh", "-c", enterCgroups, "sh", try ProcessRunner.resolve("systemd-nspawn")] + nspawn.dropFirst(),
            logPath: log,
            environment: [
                "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1",
                "PGHA_LAB_CGROUPS": cgroups.joined(separator: " "),
            ])
        try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: pidFile), options: .atomic)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let pid = nspawnPID(host.name) { return pid }
            usleep(20_000)
        }
        throw PGHAError(
            .execution, "systemd-nspawn for \(host.name) did not start", host: host.name,
            hint: "see \(log)")
    }

    /// Asks the host to power off (SIGTERM to nspawn), for all `names` at once; those still up
    /// after `timeout` seconds are killed.
    public func stop(_ names: [String], timeout: Double = 20) {
        var pids: [String: pid_t] = [:]
        for name in names {
            if let pid = nspawnPID(name) {
                pids[name] = pid
                Glibc.kill(pid, SIGTERM)
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, pids.values.contains(where: { Self.isAlive($0) }) { usleep(100_000) }
        for (name, pid) in pids {
            if Self.isAlive(pid) { kill(name) }
            Cgroups(bridge: bridge).remove(for: name)
        }
    }

    /// Power loss: SIGKILL the container's init (which takes its whole pid namespace with it) and
    /// the nspawn process, then wait until they are gone.
    public func kill(_ name: String) {
        guard let pid = nspawnPID(name) else { return }
        var victims = Self.descendants(of: pid)
        victims.append(pid)
        // init first: if nspawn died first, the container would live on as an orphan.
        for victim in victims { Glibc.kill(victim, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, victims.contains(where: { Self.isAlive($0) }) { usleep(20_000) }
        Cgroups(bridge: bridge).remove(for: name)
    }

    /// The container's init (pid 1 inside), a child of nspawn.
    public func containerInit(_ name: String) -> pid_t? {
        guard let pid = nspawnPID(name) else { return nil }
        return Self.children(of: pid).first
    }

    // MARK: /proc helpers

    /// The image directories (`--directory=`) of every live systemd-nspawn on this machine.
    public static func imagesInUse() -> Set<String> {
        var images = Set<String>()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries.compactMap({ pid_t($0) }) {
            guard let argv = commandLine(pid), argv.first?.hasSuffix("systemd-nspawn") == true, isAlive(pid) else {
                continue
            }
            for arg in argv where arg.hasPrefix("--directory=") { images.insert(String(arg.dropFirst(12))) }
        }
        return images
    }

    /// A pid counts as alive while it exists and is not a zombie waiting for its reaper.
    public static func isAlive(_ pid: pid_t) -> Bool {
        // nspawn is our child while this process lives (e.g. in tests): reap it once it exits.
        // For anyone else's pid this fails with ECHILD and does nothing.
        _ = waitpid(pid, nil, WNOHANG)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    static func commandLine(_ pid: pid_t) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    static func children(of pid: pid_t) -> [pid_t] {
        let taskDir = "/proc/\(pid)/task"
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: taskDir)) ?? []
        var result: [pid_t] = []
        for task in tasks {
            let text = (try? String(contentsOfFile: "\(taskDir)/\(task)/children", encoding: .utf8)) ?? ""
            result += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return result
    }

    /// All descendants of `pid`, parents before children.
    static func descendants(of pid: pid_t) -> [pid_t] {
        var result: [pid_t] = []
        var queue = children(of: pid)
        while !queue.isEmpty {
            let next = queue.removeFirst()
            result.append(next)
            queue += children(of: next)
        }
        return result
    }
}
