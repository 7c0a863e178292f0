import Foundation
import OrderedCollections
import PGHACore
import SSHTransport
import Testing
import Transport

@testable import Engine

/// Facts parity with ansible-core's `setup` module on real lab hosts (issue 4).
///
/// Gathers facts from the same hosts with pgha-play's native gatherer (FactScript over an
/// SSHConnection) and with the oracle venv's `ansible -m setup`, then compares the facts playbooks
/// rely on, host by host and key by key, reporting every mismatch at once. Only reads: both tools
/// just gather facts.
///
/// Runs with PGHA_LAB_TESTS=1 (and always under CI=true); unreachable hosts then fail the test.
/// PGHA_LAB_FACTS_HOSTS="name=address,..." and PGHA_LAB_STATE_DIR (for the key and known_hosts)
/// point it at another lab, e.g. the test lab (tnode1=10.77.200.11, /var/lib/pgha-play/lab-test).
@Suite(.serialized, .enabled(if: LabFactsEnvironment.enabled))
struct LabFactsTests {
    @Test func nativeFactsMatchAnsibleSetup() async throws {
        let env = LabFactsEnvironment.self
        guard let python = TestSupport.oraclePython else {
            Issue.record("the oracle venv (scripts/oracle-venv.sh) could not be created")
            return
        }
        let ansible = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("ansible").path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-facts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/tree", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let inventory = env.inventory()
        try inventory.write(toFile: work + "/lab.ini", atomically: true, encoding: .utf8)

        // OpenSSH forwards the controller's LANG and LC_* (Debian's ssh_config has SendEnv LANG LC_*),
        // so Ansible's env facts would show this process's locale; pgha-play's transport forwards
        // nothing. Without them both tools see the host's own environment.
        let locale = ProcessInfo.processInfo.environment.keys.filter { $0 == "LANG" || $0.hasPrefix("LC_") }.sorted()
        let started = Int(Date().timeIntervalSince1970)
        let oracle = try TestSupport.run(
            "/usr/bin/env",
            locale.flatMap { ["-u", $0] } + [ansible, "-i", work + "/lab.ini", "all", "-m", "setup", "--tree", work + "/tree"],
            environment: ["ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORKS": "5"])
        var mismatches: [String] = []
        for host in env.hosts {
            let native: OrderedDictionary<String, Value>
            do {
                native = try await gatherNatively(host)
            } catch {
                Issue.record("\(host.name) (\(host.address)) unreachable for pgha-play: \(error)")
                continue
            }
            guard let text = try? String(contentsOfFile: work + "/tree/" + host.name, encoding: .utf8),
                let facts = try JSON.decode(text)["ansible_facts"]?.dictValue
            else {
                Issue.record("no setup result from ansible for \(host.name): \(oracle.stdout)\(oracle.stderr)")
                continue
            }
            var expected = OrderedDictionary<String, Value>()
            for (key, value) in facts { expected[key.hasPrefix("ansible_") ? String(key.dropFirst(8)) : key] = value }
            let found = FactParity.compare(
                native: native, ansible: expected, clockWindow: started...Int(Date().timeIntervalSince1970))
            mismatches += found.map { "\(host.name): \($0)" }
            print("facts parity \(host.name): \(FactParity.comparedKeys.count) keys, \(found.count) mismatches")
        }
        #expect(mismatches.isEmpty, "facts that differ from ansible-core's setup:\n\(mismatches.joined(separator: "\n"))")
    }

    private func gatherNatively(_ host: LabFactsEnvironment.Host) async throws -> OrderedDictionary<String, Value> {
        let env = LabFactsEnvironment.self
        let options = SSHOptions(
            host: host.address, user: "deploy", connectTimeout: 5,
            authentication: [.privateKey(path: env.stateDir + "/id_ed25519")],
            knownHostsFiles: [env.stateDir + "/known_hosts"], hostKeyPolicy: .strict)
        let connection = SSHConnection(hostName: host.name, options: options)
        _ = try await connection.connect()
        let result = try await connection.run(CommandRequest(FactScript.text))
        await connection.close()
        return FactParser.parse(result.stdoutText)
    }
}

enum LabFactsEnvironment {
    struct Host {
        var name: String
        var address: String
    }

    static var enabled: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["PGHA_LAB_TESTS"] == "1" || env["CI"] == "true"
    }

    static var stateDir: String {
        ProcessInfo.processInfo.environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"
    }

    static var hosts: [Host] {
        let spec = ProcessInfo.processInfo.environment["PGHA_LAB_FACTS_HOSTS"]
            ?? "node1=10.77.0.11,node2=10.77.0.12,witness=10.77.0.13"
        return spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=").map(String.init)
            return parts.count == 2 ? Host(name: parts[0], address: parts[1]) : nil
        }
    }

    static func inventory() -> String {
        var text = "[lab]\n"
        for host in hosts { text += "\(host.name) ansible_host=\(host.address)\n" }
        text += """
            [all:vars]
            ansible_user=deploy
            ansible_ssh_private_key_file=\(stateDir)/id_ed25519
            ansible_ssh_common_args='-o UserKnownHostsFile=\(stateDir)/known_hosts -o StrictHostKeyChecking=yes'
            ansible_python_interpreter=/usr/bin/python3

            """
        return text
    }
}

/// The facts compared, and how.
enum FactParity {
    static let exactKeys = [
        "hostname", "fqdn", "nodename", "domain", "default_ipv4", "default_ipv6", "distribution",
        "distribution_version", "distribution_major_version", "distribution_release", "distribution_file_variety",
        "os_family", "architecture", "machine", "kernel", "kernel_version", "system", "processor", "processor_vcpus",
        "processor_count", "processor_cores", "processor_threads_per_core", "processor_nproc", "swaptotal_mb",
        "service_mgr", "pkg_mgr", "virtualization_type", "virtualization_role", "user_id", "user_uid", "user_gid",
        "user_dir", "user_shell", "user_gecos", "machine_id", "flags",
    ]
    static let comparedKeys = exactKeys + [
        "all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "<interfaces>", "memtotal_mb", "mounts", "env",
        "date_time",
    ]
    /// Filled in by ethtool when the host has it; pgha-play does not run ethtool.
    static let ethtoolKeys: Set<String> = ["features", "timestamping", "hw_timestamp_filters", "phc_index"]

    /// `clockWindow`: the controller's epoch seconds from before the first gathering to after the
    /// last; each tool's `date_time.epoch` must fall inside it (the hosts share the controller's clock).
    static func compare(
        native: OrderedDictionary<String, Value>, ansible: OrderedDictionary<String, Value>, clockWindow: ClosedRange<Int>
    ) -> [String] {
        var out: [String] = []
        func show(_ v: Value?) -> String { v.map { JSON.encode(canonical($0)) } ?? "<missing>" }
        func differ(_ key: String, _ a: Value?, _ b: Value?) {
            out.append("\(key): pgha-play \(show(a)) != ansible \(show(b))")
        }
        for key in exactKeys where native[key].map(canonical) != ansible[key].map(canonical) {
            differ(key, native[key], ansible[key])
        }
        for key in ["all_ipv4_addresses", "all_ipv6_addresses", "interfaces"] {
            let a = Set(native[key]?.listValue ?? [])
            let b = Set(ansible[key]?.listValue ?? [])
            if a != b || native[key] == nil { differ(key, native[key], ansible[key]) }
        }
        for name in ansible["interfaces"]?.listValue?.compactMap(\.stringValue) ?? [] {
            let key = name.replacingOccurrences(of: "-", with: "_")
            let a = native[key]?.dictValue?.filter { !ethtoolKeys.contains($0.key) }
            let b = ansible[key]?.dictValue?.filter { !ethtoolKeys.contains($0.key) }
            if a.map({ canonical(.dict($0)) }) != b.map({ canonical(.dict($0)) }) { differ(key, a.map(Value.dict), b.map(Value.dict)) }
        }
        if let a = native["memtotal_mb"]?.intValue, let b = ansible["memtotal_mb"]?.intValue, abs(a - b) <= 1 {
        } else {
            differ("memtotal_mb", native["memtotal_mb"], ansible["memtotal_mb"])
        }
        out += compareMounts(native["mounts"], ansible["mounts"])
        for name in ["PATH", "HOME", "USER", "SHELL", "LANG", "LOGNAME"] where native["env"]?[name] != ansible["env"]?[name] {
            differ("env.\(name)", native["env"]?[name], ansible["env"]?[name])
        }
        let nativeTime = native["date_time"]?.dictValue
        let ansibleTime = ansible["date_time"]?.dictValue
        if nativeTime.map({ Set($0.keys) }) != ansibleTime.map({ Set($0.keys) }) {
            differ("date_time keys", nativeTime.map { .list($0.keys.sorted().map(Value.string)) },
                   ansibleTime.map { .list($0.keys.sorted().map(Value.string)) })
        }
        for key in ["tz", "tz_dst", "tz_offset"] where nativeTime?[key] != ansibleTime?[key] {
            differ("date_time.\(key)", nativeTime?[key], ansibleTime?[key])
        }
        // Gathered at different moments (a loaded machine can take a minute between them): each
        // reading must lie within the time the gathering took, by the controller's clock.
        let window = (clockWindow.lowerBound - 1)...(clockWindow.upperBound + 1)
        for (tool, time) in [("pgha-play", nativeTime), ("ansible", ansibleTime)] {
            guard let epoch = Int(time?["epoch"]?.stringValue ?? ""), window.contains(epoch) else {
                out.append("date_time.epoch (\(tool)): \(time?["epoch"].map { JSON.encode($0) } ?? "<missing>") outside \(window)")
                continue
            }
        }
        return out
    }

    /// Dicts with sorted keys: key order is not part of a fact (Ansible's own order depends on
    /// its collectors' internals).
    static func canonical(_ value: Value) -> Value {
        switch value {
        case .dict(let d):
            var sorted = OrderedDictionary<String, Value>()
            for key in d.keys.sorted() { sorted[key] = canonical(d[key]!) }
            return .dict(sorted)
        case .list(let l): return .list(l.map(canonical))
        default: return value
        }
    }

    /// Mount points with device, fstype, options, dump, passno, uuid and totals exactly; free space
    /// within 5% of the filesystem's size (it changes between the two readings).
    static func compareMounts(_ native: Value?, _ ansible: Value?) -> [String] {
        func index(_ v: Value?) -> [String: OrderedDictionary<String, Value>] {
            var result: [String: OrderedDictionary<String, Value>] = [:]
            for item in v?.listValue ?? [] {
                if let d = item.dictValue, let mount = d["mount"]?.stringValue { result[mount] = d }
            }
            return result
        }
        let a = index(native)
        let b = index(ansible)
        var out: [String] = []
        if Set(a.keys) != Set(b.keys) {
            out.append("mounts: pgha-play \(a.keys.sorted()) != ansible \(b.keys.sorted())")
        }
        for (mount, mine) in a.sorted(by: { $0.key < $1.key }) {
            guard let theirs = b[mount] else { continue }
            if Set(mine.keys) != Set(theirs.keys) {
                out.append("mounts[\(mount)] keys: pgha-play \(mine.keys.sorted()) != ansible \(theirs.keys.sorted())")
            }
            for key in ["device", "fstype", "options", "dump", "passno", "uuid", "block_size", "block_total", "inode_total", "size_total"]
            where mine[key] != theirs[key] {
                out.append("mounts[\(mount)].\(key): pgha-play \(mine[key].map { JSON.encode($0) } ?? "<missing>") != ansible \(theirs[key].map { JSON.encode($0) } ?? "<missing>")")
            }
            // Free space is read by the two tools seconds apart while the other suites (and
            // whatever else the CI machine runs) write to the same disk: several /run/host mounts
            // are the controller's own filesystem. Equal formulas show as equal totals above; the
            // free figures may drift by up to 5% of the filesystem's size between the readings.
            for (key, totalKey) in [("size_available", "size_total"), ("block_available", "block_total"),
                                    ("inode_available", "inode_total")] {
                let x = Double(mine[key]?.intValue ?? -1)
                let y = Double(theirs[key]?.intValue ?? -2)
                let total = Double(theirs[totalKey]?.intValue ?? 0)
                if x < 0 || y < 0 || abs(x - y) > max(1, total * 0.05) {
                    out.append("mounts[\(mount)].\(key): pgha-play \(x) != ansible \(y)")
                }
            }
        }
        return out
    }
}
