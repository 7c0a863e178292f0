import Foundation
import OrderedCollections
import PGHACore
import Testing

/// Runs every playbook under Fixtures/playbooks with ansible-playbook (the oracle) and with
/// pgha-play on localhost, and compares the two event streams: which tasks ran, on which hosts,
/// with which status, what debug printed, and the recap.
@Suite("Playbook semantics match ansible-playbook", .serialized)
struct PlaybookDifferentialTests {
    static let cases: [String] = {
        let directory = TestSupport.fixtures + "/playbooks"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let all = names.filter { FileManager.default.fileExists(atPath: directory + "/" + $0 + "/playbook.yml") }.sorted()
        // PGHA_DIFF_CASES=55-lazy-checks,56-include-load-error runs only those (while writing cases).
        guard let only = ProcessInfo.processInfo.environment["PGHA_DIFF_CASES"], !only.isEmpty else { return all }
        let wanted = Set(only.split(separator: ",").map(String.init))
        return all.filter { wanted.contains($0) }
    }()

    @Test("at least 20 semantic playbooks exist")
    func enoughCases() {
        if ProcessInfo.processInfo.environment["PGHA_DIFF_CASES"].map({ !$0.isEmpty }) == true { return }
        #expect(Self.cases.count >= 20, "only \(Self.cases.count) differential playbooks")
    }

    @Test("pgha-play and ansible-playbook agree", arguments: cases)
    func agree(_ name: String) throws {
        guard let python = TestSupport.oraclePython else {
            Issue.record("the ansible-core oracle virtualenv could not be created (scripts/oracle-venv.sh)")
            return
        }
        let directory = TestSupport.fixtures + "/playbooks/" + name
        let extra = (try? String(contentsOfFile: directory + "/args", encoding: .utf8))?
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty } ?? []
        let inventory = FileManager.default.fileExists(atPath: directory + "/inventory.ini") ? "inventory.ini" : "localhost,"
        // `env`: NAME=value lines both tools run with.
        var environment: [String: String] = [:]
        for line in ((try? String(contentsOfFile: directory + "/env", encoding: .utf8)) ?? "").split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { environment[parts[0]] = parts[1] }
        }
        let ansibleBin = (python as NSString).deletingLastPathComponent + "/ansible-playbook"
        // A case marked `play-connection` sets the connection itself (the play keyword), not with -c.
        let connection = FileManager.default.fileExists(atPath: directory + "/play-connection") ? [] : ["-c", "local"]
        let oracle = try TestSupport.run(
            ansibleBin, ["-i", inventory] + connection + ["playbook.yml"] + extra, in: directory,
            environment: [
                "ANSIBLE_CALLBACK_PLUGINS": TestSupport.fixtures + "/callback_plugins",
                "ANSIBLE_STDOUT_CALLBACK": "pgha_events", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
                "ANSIBLE_PYTHON_INTERPRETER": python, "ANSIBLE_RETRY_FILES_ENABLED": "false",
            ].merging(environment) { _, own in own })
        let ours = try TestSupport.run(
            TestSupport.executable, ["-i", inventory] + connection + ["--output", "json", "playbook.yml"] + extra,
            in: directory, environment: environment)
        // Hosts that do not move together (strategy: free) are compared host by host.
        let perHost = FileManager.default.fileExists(atPath: directory + "/per-host")
        let normalize = perHost ? EventNormalizer.normalizePerHost : EventNormalizer.normalize
        let expected = normalize(oracle.stdout)
        let actual = normalize(ours.stdout)
        #expect(ours.status == oracle.status, "exit status: pgha-play \(ours.status), ansible \(oracle.status)\n\(ours.stderr)")
        if expected != actual {
            let diff = EventNormalizer.describeDifference(expected: expected, actual: actual)
            Issue.record("\(name): event streams differ\n\(diff)\n--- pgha-play stderr:\n\(ours.stderr)")
        }
    }
}

/// Reduces JSON-lines events to what both tools must agree on.
enum EventNormalizer {
    static func normalize(_ text: String) -> [String] {
        var lines: [String] = []
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            guard let event = try? JSON.decode(String(line)), case .dict(let dict) = event else { continue }
            switch dict["event"]?.stringValue {
            case "play_start":
                lines.append("PLAY \(dict["name"]?.stringValue ?? "")")
            case "task_start", "handler_start":
                lines.append("\(dict["event"]!.stringValue == "handler_start" ? "HANDLER" : "TASK") \(dict["name"]?.stringValue ?? "")")
            case "host_result":
                lines.append("  " + resultEntry(event))
            case "recap":
                lines += recapLines(dict)
            default:
                break
            }
        }
        return lines
    }

    /// `status: [host] (item=...) ...ignoring => body` of one host_result event.
    static func resultEntry(_ dict: Value) -> String {
        var entry = "\(dict["status"]?.stringValue ?? "?"): [\(dict["host"]?.stringValue ?? "")]"
        if let item = dict["item"]?.stringValue { entry += " (item=\(item))" }
        if dict["ignored"]?.boolValue == true { entry += " ...ignoring" }
        entry += shownResult(
            dict["result"] ?? .null, task: dict["task"]?.stringValue ?? "", action: dict["action"]?.stringValue ?? "")
        return entry
    }

    /// For plays whose hosts do not move together (strategy: free), where the interleaving of hosts
    /// is timing: per play, the sorted task announcements, then each host's own results in order.
    static func normalizePerHost(_ text: String) -> [String] {
        var lines: [String] = []
        var starts: [String] = []
        var perHost: [String: [String]] = [:]
        func closePlay() {
            lines += starts.sorted()
            for host in perHost.keys.sorted() { lines += perHost[host]! }
            starts = []
            perHost = [:]
        }
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            guard let event = try? JSON.decode(String(line)), case .dict(let dict) = event else { continue }
            switch dict["event"]?.stringValue {
            case "play_start":
                closePlay()
                lines.append("PLAY \(dict["name"]?.stringValue ?? "")")
            case "task_start", "handler_start":
                starts.append("\(dict["event"]!.stringValue == "handler_start" ? "HANDLER" : "TASK") \(dict["name"]?.stringValue ?? "")")
            case "host_result":
                let host = dict["host"]?.stringValue ?? ""
                perHost[host, default: []].append("  \(dict["task"]?.stringValue ?? ""): " + resultEntry(event))
            case "recap":
                closePlay()
                lines += recapLines(dict)
            default:
                break
            }
        }
        return lines
    }

    /// `RECAP host {stats}` per host of a recap event.
    static func recapLines(_ recap: OrderedDictionary<String, Value>) -> [String] {
        guard case .dict(let hosts) = recap["hosts"] ?? .null else { return [] }
        return hosts.map { "RECAP \($0.key) \(JSON.encode($0.value, style: .init(sortKeys: true)))" }
    }

    /// Actions whose results are engine output rather than module output: their bodies must match.
    static let comparedActions: Set<String> = ["debug", "fail", "assert", "set_fact", "meta", "include_vars"]

    /// Result bodies are compared for engine actions only; module results by status (fixtures
    /// print what matters with debug). Tasks named "ERR..." fail for reasons whose text differs.
    static func shownResult(_ result: Value, task: String, action: String) -> String {
        guard case .dict(let dict) = result, comparedActions.contains(action), !task.hasPrefix("ERR") else { return "" }
        var shown = dict
        for key in ["changed", "failed", "skipped", "skip_reason", "false_condition", "exception", "_ansible_no_log"] {
            shown.removeValue(forKey: key)
        }
        if shown.isEmpty { return "" }
        return " => " + JSON.encode(withoutVolatileKeys(.dict(shown)), style: .init(sortKeys: true))
    }

    /// Timings and Ansible's echo of module arguments differ on every run, in any tool.
    static func withoutVolatileKeys(_ value: Value) -> Value {
        switch value {
        case .dict(let dict):
            var out = dict
            for key in ["invocation", "start", "end", "delta"] { out.removeValue(forKey: key) }
            return .dict(out.mapValues(withoutVolatileKeys))
        case .list(let items):
            return .list(items.map(withoutVolatileKeys))
        default:
            return value
        }
    }

    static func describeDifference(expected: [String], actual: [String]) -> String {
        var out = ""
        let count = max(expected.count, actual.count)
        var shown = 0
        for index in 0..<count where shown < 12 {
            let e = index < expected.count ? expected[index] : "<none>"
            let a = index < actual.count ? actual[index] : "<none>"
            if e != a {
                out += "line \(index + 1):\n  ansible:   \(e)\n  pgha-play: \(a)\n"
                shown += 1
            }
        }
        return out
    }
}
