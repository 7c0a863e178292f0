import Foundation
import PGHACore

#if canImport(Glibc)
    import Glibc
#endif

/// One row of `lab status`.
public struct HostStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case running, stopped, partitioned
    }

    public var name: String
    public var address: IPv4Address
    public var state: State
    public var sshReachable: Bool
    public var pid: Int32?
}

/// What `lab up` did, for the CLI to print.
public struct UpReport: Sendable {
    public var hosts: [LabState.Host]
    public var booted: [String]
    public var imageHash: String
    public var seconds: Double
}

/// Runs the lab: real Debian 12 hosts in systemd-nspawn containers on a private bridge.
///
/// Every command takes an exclusive lock on the state dir, so two invocations never interleave;
/// every command is idempotent, and `up` can be rerun after any failure.
public struct LabController: Sendable {
    public var paths: LabPaths
    public var runner: ProcessRunner
    public var plan: NetworkPlan
    public var bridge: String { plan.bridge }
    public var log: @Sendable (String) -> Void
    /// How long `up` and `start` wait for SSH after booting (plus a second per host).
    public var bootTimeout: Double = 90

    public init(
        paths: LabPaths = .standard(), runner: ProcessRunner = ProcessRunner(), plan: NetworkPlan = .standard,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.paths = paths
        self.runner = runner
        self.plan = plan
        self.log = log
    }

    var network: Network { Network(plan: plan, runner: runner) }
    var runtime: HostRuntime { HostRuntime(paths: paths, runner: runner, bridge: bridge) }
    var firewall: LabFirewall { LabFirewall(plan: plan, runner: runner) }
    var files: HostFiles { HostFiles(paths: paths, runner: runner, plan: plan) }
    var images: ImageBuilder { ImageBuilder(paths: paths, runner: runner, log: log) }

    // MARK: preflight

    /// Controller tools and the apt package that provides each.
    public static let requiredTools: [(tool: String, package: String)] = [
        ("systemd-nspawn", "systemd-container"), ("debootstrap", "debootstrap"), ("ip", "iproute2"),
        ("ssh-keygen", "openssh-client"), ("setsid", "util-linux"), ("chroot", "coreutils"),
        ("nft", "nftables"),
    ]

    /// Refuses clearly when not root or when a tool is missing.
    public static func preflight(isRoot: Bool = geteuid() == 0, which: (String) -> String? = ProcessRunner.which) throws {
        guard isRoot else {
            throw PGHAError(.environment, "the lab must run as root (it creates a bridge and containers)",
                            hint: "run it with sudo")
        }
        let missing = requiredTools.filter { which($0.tool) == nil }
        guard missing.isEmpty else {
            var packages = ["systemd-container", "debootstrap"]
            for item in missing where !packages.contains(item.package) { packages.append(item.package) }
            throw PGHAError(
                .environment, "missing lab tools: " + missing.map(\.tool).joined(separator: ", "),
                hint: "apt-get install " + packages.joined(separator: " "))
        }
    }

    // MARK: commands

    /// Boots the lab: node1, node2, witness and node3...node(N-1) for `hostCount` > 3 (names carry
    /// the plan's prefix).
    ///
    /// Hosts that already run are left alone, stopped ones are started with their disks, new ones
    /// are created. Returns once every host that is not partitioned answers SSH.
    @discardableResult
    public func up(hostCount: Int = 3) throws -> UpReport {
        let started = Date()
        try Self.preflight()
        let wanted = try HostSet.hosts(count: hostCount, plan: plan)
        return try withLock {
            try files.ensureLabKey()
            try files.ensureLabCA()
            let hash = try images.ensure()
            var state = try LabState.load(from: paths.stateFile)
            try network.ensureBridge()
            // Before any host boots: hosts route through the bridge address, and nothing may leave it.
            try firewall.install()
            state.bridge = bridge
            try state.save(to: paths.stateFile)

            for spec in wanted {
                if var existing = state.host(spec.name) {
                    if !images.isBuilt(existing.imageHash) && !runtime.isRunning(spec.name) {
                        // Its image was removed from the cache: its disk is meaningless, start afresh.
                        try Filesystem.removeTree(paths.upperDir(spec.name), runner: runner)
                        existing.imageHash = hash
                    }
                    existing.address = spec.address
                    state.upsert(existing)
                } else {
                    state.upsert(LabState.Host(name: spec.name, address: spec.address, imageHash: hash))
                }
            }
            try state.save(to: paths.stateFile)
            try KernelLimits.ensure(forHosts: state.hosts.count, log: log)

            let targets = wanted.compactMap { state.host($0.name) }
            var booted: [String] = []
            for host in targets where !runtime.isRunning(host.name) {
                try FileManager.default.createDirectory(atPath: paths.hostDir(host.name), withIntermediateDirectories: true)
                try files.prepare(host, allHosts: state.hosts)
            }
            try files.writeKnownHosts(state.hosts.filter { FileManager.default.fileExists(atPath: paths.upperDir($0.name)) })
            for host in targets where !runtime.isRunning(host.name) {
                try clearLeftovers(of: host.name)
                try runtime.boot(host, image: paths.image(host.imageHash))
                booted.append(host.name)
            }
            if !booted.isEmpty { log("booting \(booted.count) host(s): \(booted.joined(separator: ", "))") }
            try applyPartitions(targets)
            try waitForSSH(targets.filter { !$0.partitioned })
            try images.prune(keeping: Set(state.hosts.map(\.imageHash)).union([hash]))
            return UpReport(hosts: targets, booted: booted, imageHash: hash, seconds: Date().timeIntervalSince(started))
        }
    }

    /// Stops every host and removes their disks, ports, the bridge, the lab's nftables table and the
    /// state; keeps the image
    /// cache and the lab key pair.
    public func down() throws {
        try Self.preflight()
        try withLock {
            let state = try LabState.load(from: paths.stateFile)
            var names = state.hosts.map(\.name)
            // Hosts whose dirs exist but that a crashed `up` never recorded.
            let dirs = (try? FileManager.default.contentsOfDirectory(atPath: paths.stateDir + "/hosts")) ?? []
            for dir in dirs.sorted() where !names.contains(dir) { names.append(dir) }
            let running = names.filter { runtime.isRunning($0) }
            if !running.isEmpty { log("stopping \(running.count) host(s)") }
            runtime.stop(running)
            for name in names { try clearLeftovers(of: name) }
            if state.bridge != nil || isOurBridge() { try network.removeBridge() }
            try firewall.remove()
            Cgroups(bridge: bridge).removeAll()
            try Filesystem.removeTree(paths.stateDir + "/hosts", runner: runner)
            try? FileManager.default.removeItem(atPath: paths.knownHosts)
            try? FileManager.default.removeItem(atPath: paths.stateFile)
        }
    }

    /// What a killed container leaves behind and a new boot of the same name trips over: its veth
    /// on the bridge ("Failed to add new veth interfaces: File exists") and nspawn's propagation
    /// directory. Only for a host that is not running.
    private func clearLeftovers(of name: String) throws {
        try network.removeLeftoverPort(of: name)
        let propagate = "/run/systemd/nspawn/propagate/\(name)"
        if Filesystem.mounts(under: propagate).isEmpty { try? FileManager.default.removeItem(atPath: propagate) }
    }

    /// Every recorded host with its address, state and whether SSH answers.
    public func status() throws -> [HostStatus] {
        let state = try LabState.load(from: paths.stateFile)
        let reachable = SSHProbe.answers(state.hosts.map(\.address), timeout: 1.0)
        return state.hosts.map { host in
            let pid = runtime.nspawnPID(host.name)
            let hostState: HostStatus.State
            if pid == nil {
                hostState = .stopped
            } else if host.partitioned || !network.isUp(Network.port(for: host.name)) {
                hostState = .partitioned
            } else {
                hostState = .running
            }
            return HostStatus(
                name: host.name, address: host.address, state: hostState,
                sshReachable: reachable[host.address] ?? false, pid: pid)
        }
    }

    /// Power loss: the host dies at once, its disk stays as it was.
    ///
    /// Takes no lab lock: a power loss does not wait for another command's `reset` or `start` of
    /// other hosts (each waits up to a minute for SSH on a busy machine), and it only signals the
    /// processes of this one host.
    public func kill(_ name: String) throws {
        try Self.preflight()
        _ = try knownHost(name)
        runtime.kill(name)
    }

    /// Boots a stopped host again with its disk as it was, and waits for SSH.
    public func start(_ name: String) throws {
        try Self.preflight()
        let booting: LabState.Host? = try withLock {
            let state = try LabState.load(from: paths.stateFile)
            let host = try knownHost(name, in: state)
            if runtime.isRunning(name) { return nil }
            guard images.isBuilt(host.imageHash) else {
                throw PGHAError(.environment, "the image of \(name) is gone from the cache", host: name,
                                hint: "run `pgha-play lab down` and `pgha-play lab up`")
            }
            try network.ensureBridge()
            try firewall.install()
            try files.prepare(host, allHosts: state.hosts)
            try clearLeftovers(of: name)
            try runtime.boot(host, image: paths.image(host.imageHash))
            try applyPartitions([host])
            return host.partitioned ? nil : host
        }
        // Outside the lock: other commands (a kill, a partition) need not wait for this boot.
        if let booting { try waitForSSH([booting]) }
    }

    /// Gives hosts a fresh disk from the current image (as after `down` and `up`) and boots them,
    /// leaving every other host running. Tests that need a pristine host use this.
    public func reset(_ names: [String]) throws {
        try Self.preflight()
        let booted: [LabState.Host] = try withLock {
            var state = try LabState.load(from: paths.stateFile)
            let hosts = try names.map { try knownHost($0, in: state) }
            let hash = try images.ensure()
            runtime.stop(hosts.map(\.name), timeout: 5)
            for var host in hosts {
                try network.removeLeftoverPort(of: host.name)
                try Filesystem.removeTree(paths.upperDir(host.name), runner: runner)
                host.imageHash = hash
                host.partitioned = false
                state.upsert(host)
            }
            try state.save(to: paths.stateFile)
            try network.ensureBridge()
            try firewall.install()
            for host in hosts { try files.prepare(host, allHosts: state.hosts) }
            try files.writeKnownHosts(state.hosts.filter { FileManager.default.fileExists(atPath: paths.upperDir($0.name)) })
            for host in hosts { try runtime.boot(host, image: paths.image(hash)) }
            log("reset \(hosts.count) host(s): \(hosts.map(\.name).joined(separator: ", "))")
            return hosts
        }
        // Outside the lock: other commands (a kill, a partition) need not wait for these boots.
        try waitForSSH(booted)
    }

    /// Cuts the host off the lab network (its bridge port goes down). It stays cut across
    /// kill/start until `heal`.
    public func partition(_ name: String) throws {
        try setPartitioned(name, true)
    }

    /// Restores the host's network.
    public func heal(_ name: String) throws {
        try setPartitioned(name, false)
    }

    // MARK: helpers

    private func setPartitioned(_ name: String, _ cut: Bool) throws {
        try Self.preflight()
        try withLock {
            var state = try LabState.load(from: paths.stateFile)
            var host = try knownHost(name, in: state)
            host.partitioned = cut
            state.upsert(host)
            try state.save(to: paths.stateFile)
            if runtime.isRunning(name) { try network.setPort(of: name, up: !cut) }
        }
    }

    private func applyPartitions(_ hosts: [LabState.Host]) throws {
        for host in hosts where host.partitioned {
            // nspawn adds the port to the bridge a moment after it starts.
            let port = Network.port(for: host.name)
            let deadline = Date().addingTimeInterval(10)
            while network.master(of: port) != bridge && Date() < deadline { usleep(50_000) }
            try network.setPort(of: host.name, up: false)
        }
    }

    private func waitForSSH(_ hosts: [LabState.Host]) throws {
        guard !hosts.isEmpty else { return }
        let deadline = Date().addingTimeInterval(bootTimeout + Double(hosts.count))
        var pending = hosts
        while true {
            let answers = SSHProbe.answers(pending.map(\.address), timeout: 1.0)
            pending = pending.filter { answers[$0.address] != true }
            if pending.isEmpty { return }
            if let dead = pending.first(where: { !runtime.isRunning($0.name) }) {
                throw PGHAError(.execution, "\(dead.name) stopped while booting", host: dead.name,
                                hint: "see \(paths.consoleLog(dead.name))")
            }
            if Date() > deadline {
                throw PGHAError(
                    .unreachable,
                    "no SSH answer from " + pending.map { "\($0.name) (\($0.address))" }.joined(separator: ", "),
                    hint: "console logs: \(paths.stateDir)/hosts/NAME/console.log; rerun `pgha-play lab up`")
            }
            usleep(300_000)
        }
    }

    private func knownHost(_ name: String) throws -> LabState.Host {
        try knownHost(name, in: LabState.load(from: paths.stateFile))
    }

    private func knownHost(_ name: String, in state: LabState) throws -> LabState.Host {
        guard let host = state.host(name) else {
            let names = state.hosts.map(\.name).joined(separator: ", ")
            throw PGHAError(.usage, "no lab host named '\(name)'",
                            hint: names.isEmpty ? "run `pgha-play lab up` first" : "lab hosts: \(names)")
        }
        return host
    }

    /// A bridge with our name carrying exactly the lab's gateway address was made by a lab.
    private func isOurBridge() -> Bool {
        guard network.linkExists(bridge), network.isBridge(bridge) else { return false }
        return (try? network.ipv4Addresses().contains {
            $0.link == bridge && $0.address == plan.bridgeAddress
        }) ?? false
    }

    /// Runs `body` holding an exclusive flock on the state dir's lock file.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(
            atPath: paths.stateDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock = try FileLock(paths.lockFile, waiting: { log("waiting for another pgha-play lab command to finish") })
        defer { lock.release() }
        return try body()
    }
}

/// Host-wide limits that many containers exhaust.
///
/// Every containerised systemd holds several inotify instances, and the default limit of 128 per
/// user (all containers run as root) stops the ~40th host with "Too many open files". The lab only
/// ever raises these limits.
public enum KernelLimits {
    public static let inotifyInstances = "/proc/sys/fs/inotify/max_user_instances"
    public static let inotifyWatches = "/proc/sys/fs/inotify/max_user_watches"

    /// The limits (instances, watches) `hosts` lab hosts need next to whatever else runs here.
    public static func needed(forHosts hosts: Int) -> (instances: Int, watches: Int) {
        (512 + 16 * hosts, 200_000 + 8192 * hosts)
    }

    public static func ensure(forHosts hosts: Int, log: (String) -> Void) throws {
        let (instances, watches) = needed(forHosts: hosts)
        try raise(inotifyInstances, to: instances, log: log)
        try raise(inotifyWatches, to: watches, log: log)
    }

    static func raise(_ path: String, to wanted: Int, log: (String) -> Void) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let current = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), current < wanted
        else { return }
        do {
            try Data("\(wanted)\n".utf8).write(to: URL(fileURLWithPath: path))
            log("raised \(path.dropFirst("/proc/sys/".count).replacingOccurrences(of: "/", with: ".")) from \(current) to \(wanted)")
        } catch {
            throw PGHAError(
                .environment, "cannot raise \(path) to \(wanted) (it is \(current)): \(error)",
                hint: "sysctl -w \(path.dropFirst("/proc/sys/".count).replacingOccurrences(of: "/", with: "."))=\(wanted)")
        }
    }
}
