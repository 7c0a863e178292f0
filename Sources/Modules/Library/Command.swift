import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.command`: runs a program without a shell (no pipes, redirects or `;`).
public enum CommandModule: Module {
    public static let declaration = ActionDeclaration(
        name: "command", qualifiedNames: ["ansible.builtin.command", "ansible.legacy.command"],
        supportsCheckMode: true, keepsHostLocale: true,
        arguments: ArgumentSpec(
            [
                .init("_raw_params", .string, aliases: ["cmd"]),
                .init("argv", .list),
                .init("chdir", .path),
                .init("creates", .path),
                .init("removes", .path),
                .init("stdin", .string),
                .init("stdin_add_newline", .bool, default: true),
                .init("strip_empty_ends", .bool, default: true),
                .init("expand_argument_vars", .bool, default: true),
            ], freeForm: .commandLine, mutuallyExclusive: [["_raw_params", "argv"]], requiredOneOf: [["_raw_params", "argv"]]),
        documentation: ActionDocumentation(
            "Execute commands on targets",
            examples: """
                - name: Show the cluster's members
                  ansible.builtin.command: patronictl -c /etc/patroni/patroni.yml list
                  register: members
                  changed_when: false

                - name: Initialise once
                  ansible.builtin.command:
                    cmd: /usr/local/bin/init-cluster
                    creates: /var/lib/cluster/.initialised
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let words: [String]
        if let argv = args["argv"]?.listValue {
            words = argv.compactMap(\.pythonString)
        } else {
            do {
                words = try ShellWords.split(args.string("_raw_params") ?? "")
            } catch {
                return .failure("cannot parse the command line: \(error)")
            }
        }
        guard !words.isEmpty else { return .failure("no command given", values: ["rc": 256]) }
        let expand = args.bool("expand_argument_vars") ?? true
        let line =
            "exec " + words.map { expand ? ShellWords.expandingQuote($0) : shellQuote($0) }.joined(separator: " ")
        return try await CommandRunner.run(
            commandLine: line, reportedCommand: .list(words.map { .string($0) }), args: args, context: context)
    }
}

enum CommandRunner {
    static let chdirFailed = "__pgha_chdir_failed__"
    static let skipCreates = "__pgha_skip_creates__"
    static let skipRemoves = "__pgha_skip_removes__"

    static func run(
        commandLine: String, reportedCommand: Value, args: ModuleArguments, context: ModuleContext
    )
        async throws -> ModuleResult
    {
        let creates = args.string("creates")
        let removes = args.string("removes")
        // Everything in one command: chdir, the creates/removes globs, then the program. The guard
        // lines print a marker and stop, so no round trip is spent on checking first.
        var script = ""
        if let chdir = args.string("chdir") {
            script += "cd -- \(ShellWords.expandingQuote(chdir)) || { echo \(chdirFailed) >&2; exit 1; }\n"
        }
        if let creates {
            script +=
                "set -- \(ShellWords.globQuote(creates)); if [ -e \"$1\" ] || [ -L \"$1\" ]; then echo \(skipCreates); exit 0; fi\n"
        }
        if let removes {
            script +=
                "set -- \(ShellWords.globQuote(removes)); if [ ! -e \"$1\" ] && [ ! -L \"$1\" ]; then echo \(skipRemoves); exit 0; fi\n"
        }
        let decides = creates != nil || removes != nil
        var values: OrderedDictionary<String, Value> = [
            "stdout": "", "stderr": "", "rc": .null, "cmd": .null, "start": .null, "end": .null, "delta": .null,
            "msg": "",
        ]
        let shoulda = context.checkMode ? "Would" : "Did"

        if context.checkMode {
            if decides {
                let probe = try await context.connection.run(
                    CommandRequest(
                        script + "exit 0\n", environment: context.environment, become: context.become,
                        subshellAllowed: true))
                if let skipped = skipResult(probe, creates: creates, removes: removes, shoulda: shoulda, values: values)
                {
                    return skipped
                }
                if probe.stderrText.contains(chdirFailed) {
                    return .failure("Unable to change directory before execution: \(args.string("chdir") ?? "")")
                }
            }
            values["rc"] = 0
            values["msg"] = "Command would have run if not in check mode"
            addLines(&values)
            // Without creates/removes nothing can be predicted: Ansible reports it skipped.
            return ModuleResult(changed: decides, skipped: !decides, msg: values["msg"]?.stringValue, values: values)
        }

        var stdin: [UInt8]? = nil
        if let text = args.string("stdin") {
            stdin = Array(text.utf8)
            if args.bool("stdin_add_newline") ?? true { stdin! += [0x0A] }
        }
        // With guards, a kept shell checks them in a subshell and starts /bin/sh only for the command
        // itself, so a skipped command costs the host no program at all.
        let request =
            decides
            ? CommandRequest(
                script + "exec /bin/sh -c \(shellQuote(commandLine))", stdin: stdin, environment: context.environment,
                become: context.become, subshellAllowed: true)
            : CommandRequest(script + commandLine, stdin: stdin, environment: context.environment, become: context.become)
        let start = Date()
        let result = try await context.connection.run(request)
        let end = Date()
        if let skipped = skipResult(result, creates: creates, removes: removes, shoulda: shoulda, values: values) {
            return skipped
        }
        if result.exitStatus != 0, result.stderrText.contains(chdirFailed) {
            return .failure(
                "Unable to change directory before execution: \(args.string("chdir") ?? "")", values: ["rc": 1])
        }
        var stdout = result.stdoutText
        var stderr = result.stderrText
        if args.bool("strip_empty_ends") ?? true {
            stdout = stripTrailingNewlines(stdout)
            stderr = stripTrailingNewlines(stderr)
        }
        // Python reports death by signal N as return code -N.
        let rc = result.signal.flatMap(signalNumber).map { -Int($0) } ?? Int(result.exitStatus)
        values["stdout"] = .string(stdout)
        values["stderr"] = .string(stderr)
        values["rc"] = .int(rc)
        values["cmd"] = reportedCommand
        values["start"] = .string(pythonTimestamp(start))
        values["end"] = .string(pythonTimestamp(end))
        values["delta"] = .string(pythonDelta(end.timeIntervalSince(start)))
        addLines(&values)
        if rc != 0 {
            values["msg"] = "non-zero return code"
            return ModuleResult(changed: true, failed: true, msg: "non-zero return code", values: values)
        }
        return ModuleResult(changed: true, msg: "", values: values)
    }

    private static func skipResult(
        _ result: CommandResult, creates: String?, removes: String?, shoulda: String,
        values: OrderedDictionary<String, Value>
    ) -> ModuleResult? {
        var values = values
        let firstLine = result.stdoutText.split(separator: "\n").first.map(String.init)
        if let creates, firstLine == skipCreates, result.succeeded {
            values["msg"] = .string("\(shoulda) not run command since '\(creates)' exists")
            values["stdout"] = .string("skipped, since \(creates) exists")
        } else if let removes, firstLine == skipRemoves, result.succeeded {
            values["msg"] = .string("\(shoulda) not run command since '\(removes)' does not exist")
            values["stdout"] = .string("skipped, since \(removes) does not exist")
        } else {
            return nil
        }
        values["rc"] = 0
        addLines(&values)
        return ModuleResult(changed: false, msg: values["msg"]?.stringValue, values: values)
    }

    /// stdout_lines / stderr_lines, as Ansible's action layer adds them (Python's splitlines).
    static func addLines(_ values: inout OrderedDictionary<String, Value>) {
        for key in ["stdout", "stderr"] {
            let text = values[key]?.stringValue ?? ""
            values[key + "_lines"] = .list(splitLines(text).map { .string($0) })
        }
    }

    static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        var previousCR = false
        for ch in text.unicodeScalars {
            if ch == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            if ch == "\n" || ch == "\r" || ch == "\u{0B}" || ch == "\u{0C}" || ch == "\u{1C}" || ch == "\u{1D}"
                || ch == "\u{1E}" || ch == "\u{85}" || ch == "\u{2028}" || ch == "\u{2029}"
            {
                lines.append(current)
                current = ""
                previousCR = ch == "\r"
            } else {
                current.unicodeScalars.append(ch)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func stripTrailingNewlines(_ s: String) -> String {
        var scalars = s.unicodeScalars[...]
        while let last = scalars.last, last == "\n" || last == "\r" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Python's str(datetime.now()): "2024-05-01 12:00:00.123456" in local time.
    static func pythonTimestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        let micro = Int((date.timeIntervalSince1970 - Double(seconds)) * 1_000_000)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), min(micro, 999_999))
    }

    /// Python's str(timedelta): "0:00:00.012345".
    static func pythonDelta(_ interval: TimeInterval) -> String {
        let total = Int((max(0, interval) * 1_000_000).rounded())
        let micro = total % 1_000_000
        let secondsTotal = total / 1_000_000
        let text = String(
            format: "%d:%02d:%02d", (secondsTotal / 3600) % 24, (secondsTotal / 60) % 60, secondsTotal % 60)
        let days = secondsTotal / 86400
        let prefix = days > 0 ? "\(days) day\(days == 1 ? "" : "s"), " : ""
        return prefix + text + (micro > 0 ? String(format: ".%06d", micro) : "")
    }
}

/// Python's shlex.split (POSIX mode) and the quoting the command module needs.
enum ShellWords {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var iterator = Array(text).makeIterator()
        while let ch = iterator.next() {
            if let q = quote {
                if ch == q {
                    quote = nil
                } else if q == "\"" && ch == "\\" {
                    guard let next = iterator.next() else { throw ParseError(description: "No escaped character") }
                    if next == "\"" || next == "\\" || next == "$" || next == "`" || next == "\n" {
                        current.append(next)
                    } else {
                        current.append("\\")
                        current.append(next)
                    }
                } else {
                    current.append(ch)
                }
                continue
            }
            if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" {
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                inWord = true
            } else if ch == "\\" {
                guard let next = iterator.next() else { throw ParseError(description: "No escaped character") }
                current.append(next)
                inWord = true
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if quote != nil { throw ParseError(description: "No closing quotation") }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes a word but lets the shell expand `$VAR`, `${VAR}` and a leading `~`, as the command
    /// module's expand_argument_vars does (os.path.expandvars + expanduser); nothing else is special.
    static func expandingQuote(_ word: String) -> String {
        var out = ""
        var rest = Substring(word)
        if rest.hasPrefix("~") {
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            let user = rest[rest.index(after: rest.startIndex)..<end]
            if user.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
                out += "~" + user
                rest = rest[end...]
            }
        }
        guard !rest.isEmpty else { return out.isEmpty ? "''" : out }
        out += "\""
        var chars = Array(rest)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            if ch == "$" {
                let next = i + 1 < chars.count ? chars[i + 1] : " "
                if next == "{" || next.isLetter || next == "_" {
                    out.append("$")
                } else {
                    out += "\\$"
                }
            } else if ch == "\"" || ch == "\\" || ch == "`" {
                out += "\\" + String(ch)
            } else {
                out.append(ch)
            }
            i += 1
        }
        chars.removeAll()
        return out + "\""
    }

    /// Quotes a path but leaves glob characters active (creates/removes use Python's glob).
    static func globQuote(_ path: String) -> String {
        var out = ""
        var literal = ""
        var path = Substring(path)
        // A leading ~ or ~user expands, as for a `path` argument in Ansible.
        if path.hasPrefix("~") {
            let end = path.firstIndex(of: "/") ?? path.endIndex
            let user = path[path.index(after: path.startIndex)..<end]
            if user.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
                out = "~" + user
                path = path[end...]
            }
        }
        func flush() {
            if !literal.isEmpty { out += shellQuote(literal) }
            literal = ""
        }
        for ch in path {
            if ch == "*" || ch == "?" || ch == "[" || ch == "]" {
                flush()
                out.append(ch)
            } else {
                literal.append(ch)
            }
        }
        flush()
        return out.isEmpty ? "''" : out
    }
}
