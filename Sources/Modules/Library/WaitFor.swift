import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.wait_for`: polls, from the target host, until a TCP port opens or closes, a
/// file appears (optionally containing a regular expression) or disappears. One command per poll.
public enum WaitForModule: Module {
    public static let declaration = ActionDeclaration(
        name: "wait_for", qualifiedNames: ["ansible.builtin.wait_for", "ansible.legacy.wait_for"],
        supportsCheckMode: false,
        arguments: ArgumentSpec(
            [
                .init("host", .string, default: "127.0.0.1"),
                .init("timeout", .int, default: 300),
                .init("connect_timeout", .int, default: 5),
                .init("delay", .int, default: 0),
                .init("port", .int),
                .init("active_connection_states", .list),
                .init("path", .path),
                .init("search_regex", .string),
                .init("state", .choice(["absent", "drained", "present", "started", "stopped"]), default: "started"),
                .init("exclude_hosts", .list),
                .init("sleep", .int, default: 1),
                .init("msg", .string),
            ], mutuallyExclusive: [["port", "path"], ["exclude_hosts", "path"]]),
        documentation: ActionDocumentation(
            "Waits for a condition before continuing",
            examples: """
                - name: Wait for PostgreSQL to listen
                  ansible.builtin.wait_for:
                    port: 5432
                    timeout: 60

                - name: Wait until the log says it is ready
                  ansible.builtin.wait_for:
                    path: /var/log/postgresql/postgresql-15-main.log
                    search_regex: ready to accept connections
                """))

    enum Poll { case yes, no, match(NSTextCheckingResult, String) }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let host = args.string("host") ?? "127.0.0.1"
        let port = args.int("port")
        let path = args.string("path")
        let state = args.string("state") ?? "started"
        let timeout = Double(args.int("timeout") ?? 300)
        let connectTimeout = args.int("connect_timeout") ?? 5
        let sleep = Double(max(args.int("sleep") ?? 1, 0))
        var regex: PyRegex?
        if let pattern = args.string("search_regex") {
            do { regex = try PyRegex(pattern, multiline: true) } catch {
                return .failure("invalid search_regex: \(pattern)")
            }
        }
        if port != nil && ["absent", "present"].contains(state) {
            return .failure("state=\(state) should only be used for checking a file")
        }
        if path != nil && ["stopped", "drained"].contains(state) {
            return .failure("state=\(state) should only be used for checking a port")
        }
        if port == nil && path == nil && state != "started" && state != "stopped" {
            return .failure("a port or path is required")
        }
        let start = Date()
        if let delay = args.int("delay"), delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000_000) }
        let deadline = start.addingTimeInterval(timeout + Double(args.int("delay") ?? 0))

        func poll() async throws -> Poll {
            let command: String
            if let port {
                switch state {
                case "drained":
                    command = "[ \"$(ss -Htn state established '( sport = :\(port) )' 2>/dev/null | wc -l)\" -eq 0 ]"
                default:
                    // bash's /dev/tcp needs no netcat on the host.
                    command =
                        "timeout \(connectTimeout) bash -c \(shellQuote("exec 3<>/dev/tcp/\(host)/\(port)")) 2>/dev/null"
                }
            } else if let path {
                command =
                    regex == nil
                    ? "[ -e \(shellQuote(path)) ]" : "[ -r \(shellQuote(path)) ] && cat -- \(shellQuote(path))"
            } else {
                // Neither port nor path: wait_for only sleeps for the delay.
                return .yes
            }
            let result = try await context.connection.run(
                CommandRequest(
                    command, environment: context.environment, become: context.become,
                    timeout: Double(connectTimeout) + 10))
            guard result.succeeded else { return .no }
            if let regex {
                let text = result.stdoutText
                if let m = regex.firstMatch(text) { return .match(m, text) }
                return .no
            }
            return .yes
        }

        let wantPresent = ["started", "present"].contains(state)
        var values: OrderedDictionary<String, Value> = ["state": .string(state)]
        if let port { values["port"] = .int(port) }
        if let path { values["path"] = .string(path) }
        values["search_regex"] = args["search_regex"] ?? .null
        while true {
            let outcome = try await poll()
            let success: Bool
            switch outcome {
            case .yes: success = wantPresent || state == "drained"
            case .no: success = !wantPresent && state != "drained"
            case .match(let m, let text):
                success = wantPresent
                let ns = text as NSString
                var groups: [Value] = []
                for i in stride(from: 1, to: m.numberOfRanges, by: 1) {
                    let r = m.range(at: i)
                    groups.append(r.location == NSNotFound ? .null : .string(ns.substring(with: r)))
                }
                values["match_groups"] = .list(groups)
                values["match_groupdict"] = .dict([:])
            }
            if success { break }
            if Date() >= deadline {
                let elapsed = Int(Date().timeIntervalSince(start))
                values["elapsed"] = .int(elapsed)
                if let msg = args.string("msg") { return .failure(msg, values: values) }
                let message: String
                switch state {
                case "stopped": message = "Timeout when waiting for \(host):\(port ?? 0) to stop."
                case "drained": message = "Timeout when waiting for \(host):\(port ?? 0) to drain"
                case "absent": message = "Timeout when waiting for \(path ?? "") to be absent."
                default:
                    if let path {
                        message =
                            args.string("search_regex").map {
                                "Timeout when waiting for search string \($0) in \(path)"
                            }
                            ?? "Timeout when waiting for file \(path)"
                    } else {
                        message = "Timeout when waiting for \(host):\(port ?? 0)"
                    }
                }
                return .failure(message, values: values)
            }
            try await Task.sleep(nanoseconds: UInt64(sleep * 1_000_000_000))
        }
        values["elapsed"] = .int(Int(Date().timeIntervalSince(start)))
        return ModuleResult(changed: false, values: values)
    }
}
