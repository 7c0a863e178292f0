import Engine
import Foundation
import OrderedCollections
import PGHACore

/// ansible-playbook's default output: PLAY/TASK banners, one line per host, diffs, the recap.
public final class HumanOutput: EventSink, @unchecked Sendable {
    private let write: @Sendable (String) -> Void
    private let colors: Bool
    private let verbosity: Int
    private let width: Int
    private let lock = NSLock()
    /// Progress lines are redrawn in place, only on a terminal.
    private let interactive: Bool
    private var progressShown = false

    /// - Parameters:
    ///   - colors: ANSI colours (on by default when stdout is a terminal and NO_COLOR is unset).
    ///   - width: banner width as Ansible computes it (see ``ansibleColumns()``).
    public init(verbosity: Int = 0, colors: Bool? = nil, width: Int = HumanOutput.ansibleColumns(), write: @escaping @Sendable (String) -> Void = HumanOutput.standardOutput) {
        self.verbosity = verbosity
        self.colors = colors ?? (isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
        self.width = width
        self.interactive = colors ?? (isatty(STDOUT_FILENO) == 1)
        self.write = write
    }

    public static let standardOutput: @Sendable (String) -> Void = { text in
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    enum Color: String {
        case green = "0;32", yellow = "0;33", red = "0;31", cyan = "0;36", magenta = "0;35", blue = "0;34", bold = "1"
        case brightRed = "1;31", brightPurple = "1;35"
    }

    private func paint(_ text: String, _ color: Color) -> String {
        colors ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Ansible's `Display.columns`: one less than the terminal's width, at least 79 (79 when stdout is
    /// not a terminal), so banners line up with ansible-playbook's.
    public static func ansibleColumns() -> Int {
        var size = winsize()
        guard isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return 79 }
        return max(79, Int(size.ws_col) - 1)
    }

    private func banner(_ title: String) -> String {
        let stars = max(3, width - title.count)
        return "\n\(title) \(String(repeating: "*", count: stars))\n"
    }

    public func handle(_ event: EngineEvent) {
        lock.lock()
        defer { lock.unlock() }
        if progressShown, case .progress = event {} else if progressShown {
            write("\r\u{1B}[2K")
            progressShown = false
        }
        switch event {
        case .playStart(let name, _, _):
            write(banner("PLAY [\(name)]"))
        case .taskStart(let name, _, let isHandler, _):
            write(banner(isHandler ? "RUNNING HANDLER [\(name)]" : "TASK [\(name)]"))
        case .hostResult(_, let result):
            // An include that worked is shown by the `included:` line that follows, as in Ansible.
            if ["include_tasks", "include_role"].contains(result.action), result.status == .ok { return }
            write(render(result))
        case .included(let file, let hosts, let itemLabel):
            write(paint("included: \(file) for \(hosts.joined(separator: ", "))" + (itemLabel.map { " => (item=\($0))" } ?? ""), .cyan) + "\n")
        case .progress(let task, let running, let elapsed):
            if interactive {
                let hosts = running.prefix(5).joined(separator: ", ") + (running.count > 5 ? ", ..." : "")
                write("\r\u{1B}[2K  ... \(task): \(Int(elapsed))s, waiting for \(running.count) host(s): \(hosts)")
                progressShown = true
            }
        case .noHostsMatched(let pattern):
            write(paint("[WARNING]: Could not match supplied host pattern, ignoring: \(pattern)\n", .brightPurple))
            write("skipping: no hosts matched\n")
        case .noHostsRemaining:
            write(paint("\nNO MORE HOSTS LEFT \(String(repeating: "*", count: max(3, width - 18)))\n", .brightRed))
        case .warning(let message):
            write(paint("[WARNING]: \(message)\n", .brightPurple))
        case .recap(let stats):
            write(banner("PLAY RECAP"))
            for (host, s) in stats {
                let color: Color = s.failed > 0 || s.unreachable > 0 ? .red : s.changed > 0 ? .yellow : .green
                let name = paint(host.padding(toLength: max(26, host.count), withPad: " ", startingAt: 0), color)
                func field(_ label: String, _ value: Int, _ c: Color) -> String {
                    let number = String(value)
                    let text = "\(label)=" + number.padding(toLength: max(4, number.count), withPad: " ", startingAt: 0)
                    return value > 0 ? paint(text, c) : text
                }
                write(
                    "\(name) : \(field("ok", s.ok, .green)) \(field("changed", s.changed, .yellow)) "
                        + "\(field("unreachable", s.unreachable, .red)) \(field("failed", s.failed, .red)) "
                        + "\(field("skipped", s.skipped, .cyan)) \(field("rescued", s.rescued, .magenta)) "
                        + "\(field("ignored", s.ignored, .magenta))\n")
            }
            write("\n")
        }
    }

    private func render(_ result: HostResult) -> String {
        var text = ""
        for diff in result.diffs {
            let body = UnifiedDiff.render(
                before: diff.before, after: diff.after, beforeHeader: diff.beforeHeader, afterHeader: diff.afterHeader)
            text += colorDiff(body)
        }
        let hostLabel = result.delegatedTo.map { "\(result.host) -> \($0)" } ?? result.host
        let item = result.itemLabel.map { " => (item=\($0))" } ?? ""
        let cleaned = Self.clean(result.result)
        switch result.status {
        case .ok, .changed:
            let color: Color = result.status == .changed ? .yellow : .green
            var line = "\(result.status.rawValue): [\(hostLabel)]\(item)"
            if result.showResult {
                line += (item.isEmpty ? " => " : " => ") + JSON.encode(displayed(cleaned, item: result.itemLabel != nil), style: JSON.Style(indent: 4, sortKeys: true, asciiOnly: false))
            } else if verbosity > 0 {
                line += " => " + JSON.encode(cleaned, style: JSON.Style(sortKeys: true, asciiOnly: false))
            }
            text += paint(line, color) + "\n"
        case .skipped:
            var line = "skipping: [\(hostLabel)]\(item)"
            if verbosity > 0 { line += " => " + JSON.encode(cleaned, style: JSON.Style(sortKeys: true, asciiOnly: false)) }
            text += paint(line, .cyan) + "\n"
        case .failed:
            // ansible-playbook 2.19 leaves the "failed" flag out of a failure's dump: the line says it.
            var shown = cleaned
            if case .dict(var dict) = shown, dict["failed"] == .bool(true) {
                dict.removeValue(forKey: "failed")
                shown = .dict(dict)
            }
            let body = JSON.encode(shown, style: JSON.Style(sortKeys: true, asciiOnly: false))
            if let label = result.itemLabel {
                text += paint("failed: [\(hostLabel)] (item=\(label)) => \(body)", .red) + "\n"
            } else {
                text += paint("fatal: [\(hostLabel)]: FAILED! => \(body)", .red) + "\n"
            }
            if result.ignored { text += paint("...ignoring", .cyan) + "\n" }
        case .unreachable:
            let body = JSON.encode(cleaned, style: JSON.Style(sortKeys: true, asciiOnly: false))
            text += paint("fatal: [\(hostLabel)]: UNREACHABLE! => \(body)", .brightRed) + "\n"
        }
        return text
    }

    /// debug output shows only the message (or variable) with the item, as Ansible does.
    private func displayed(_ result: Value, item: Bool) -> Value {
        guard case .dict(var dict) = result else { return result }
        dict.removeValue(forKey: "changed")
        dict.removeValue(forKey: "failed")
        for key in ["ansible_loop_var", "item", "ansible_index_var", "ansible_loop"] { dict.removeValue(forKey: key) }
        return .dict(dict)
    }

    /// Ansible hides internal keys from the displayed result.
    static func clean(_ value: Value) -> Value {
        guard case .dict(var dict) = value else { return value }
        for key in dict.keys where key.hasPrefix("_ansible") || key == "invocation" || key == "diff" {
            dict.removeValue(forKey: key)
        }
        return .dict(dict)
    }

    private func colorDiff(_ body: String) -> String {
        guard colors else { return body }
        return body.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("+") && !line.hasPrefix("+++") { return paint(String(line), .green) }
            if line.hasPrefix("-") && !line.hasPrefix("---") { return paint(String(line), .red) }
            if line.hasPrefix("@@") { return paint(String(line), .cyan) }
            return String(line)
        }.joined(separator: "\n")
    }
}
