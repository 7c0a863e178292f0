import Foundation
import OrderedCollections
import PGHACore
import Transport

/// The read-decide-write cycle shared by the modules that edit a text file in place (lineinfile,
/// blockinfile, replace, ini_file, pam_limits, sysctl, mount, authorized_key, cron, modprobe).
///
/// Round trips: one probe (stat, identity, owner/group ids, the whole content, and any `extras`);
/// then nothing when the file is right, one command for attribute-only changes, or one `put`
/// (plus one command when a backup, a missing directory or `validate` is involved).
enum TextFileEdit {
    struct Loaded {
        var stat: RemoteStat
        /// The file's text; nil when it does not exist (or is not a regular file).
        var text: String?
        var probe: RemoteProbe.Result
        /// Output of each extra command (may span lines).
        var extras: [String]
        var path: String { stat.path }
        var exists: Bool { stat.exists }
    }

    /// Files larger than this are not edited (the whole content travels with the probe).
    static let maxSize = 64 << 20

    /// Reads a file and the extra commands' output in one round trip. `lineExtras` print one line
    /// each and come back as they are, after the `extras` (which may print anything, and so travel
    /// base64-encoded, at the cost of two more programs on the host).
    static func load(
        _ path: String, args: ModuleArguments, context: ModuleContext, extras: [String] = [],
        lineExtras: [String] = [], follow: Bool = true
    ) async throws -> Loaded {
        var probe = RemoteProbe()
        probe.targets = [
            RemoteProbe.Target(path: path, follow: follow, contentLimit: maxSize, unlessChecksum: "-")
        ]
        if let owner = args.string("owner") { probe.users = [owner] }
        if let group = args.string("group") { probe.groups = [group] }
        // Multi-line output would break the probe's line format, so extras come back base64-encoded.
        probe.extras = extras.map { "{ \($0) ; } 2>/dev/null | base64 -w0" } + lineExtras
        let result = try await probe.run(context)
        let stat = result.stats[0]
        let text = stat.type == .file ? String(decoding: stat.content ?? [], as: UTF8.self) : nil
        let decoded =
            result.extras.prefix(extras.count).map { String(decoding: Base64.decode($0) ?? [], as: UTF8.self) }
            + result.extras.dropFirst(extras.count)
        return Loaded(stat: stat, text: text, probe: result, extras: decoded)
    }

    struct Outcome {
        var changed: Bool
        /// Ansible's check_file_attrs suffix for the message, when attributes changed.
        var attributesChanged: Bool
        var backupFile: String?
        var failure: ModuleResult?
    }

    /// Writes `newText` (when it differs) and applies owner/group/mode, honouring check mode,
    /// `backup` and `validate`. `create` makes a missing parent directory.
    static func apply(
        _ loaded: Loaded, newText: String, args: ModuleArguments, context: ModuleContext, modeKey: String = "mode",
        defaultMode: UInt32? = nil
    ) async throws -> Outcome {
        let path = loaded.path
        let wanted: FileSupport.Attributes
        do {
            wanted = try FileSupport.desired(
                args, modeKey: modeKey, current: loaded.stat, isDirectory: false, probe: loaded.probe, context: context)
        } catch let error as PGHAError {
            return Outcome(changed: false, attributesChanged: false, failure: .failure(error.message))
        }
        let contentChanged = loaded.text != newText
        let attributesChanged = loaded.exists && FileSupport.differs(wanted, from: loaded.stat, probe: loaded.probe)
        var outcome = Outcome(changed: contentChanged, attributesChanged: attributesChanged)
        if context.checkMode || (!contentChanged && !attributesChanged) { return outcome }
        do {
            if contentChanged {
                var prepare: [String] = []
                if !loaded.exists && !loaded.stat.parentExists {
                    prepare.append("mkdir -p -- \(shellQuote((path as NSString).deletingLastPathComponent))")
                }
                if args.bool("backup") == true && loaded.exists {
                    let backup = FileWriter.backupName(path)
                    prepare.append("cp -p -- \(shellQuote(path)) \(shellQuote(backup))")
                    outcome.backupFile = backup
                }
                if !prepare.isEmpty {
                    _ = try await FileSupport.runChecked(
                        prepare.joined(separator: " && "), context: context, what: "preparing \(path) failed")
                }
                let newFileMode = defaultMode ?? (0o666 & ~loaded.probe.identity.umask)
                let attributes = FileAttributes(
                    mode: wanted.mode ?? (loaded.exists ? loaded.stat.mode : newFileMode),
                    owner: wanted.owner ?? (loaded.exists ? String(loaded.stat.uid) : nil),
                    group: wanted.group ?? (loaded.exists ? String(loaded.stat.gid) : nil))
                if let validate = args.string("validate") {
                    guard validate.contains("%s") else {
                        outcome.failure = .failure("validate must contain %s: \(validate)")
                        return outcome
                    }
                    let temp =
                        (path as NSString).deletingLastPathComponent
                        + "/.\((path as NSString).lastPathComponent).pgha-validate-\(UUID().uuidString.prefix(8))"
                    try await context.connection.put(
                        Array(newText.utf8), to: temp, attributes: attributes, become: context.become)
                    let check = validate.replacingOccurrences(of: "%s", with: shellQuote(temp))
                    let script =
                        "\(check)\nrc=$?\nif [ $rc -ne 0 ]; then rm -f -- \(shellQuote(temp)); exit $rc; fi\nmv -f -- \(shellQuote(temp)) \(shellQuote(path))\n"
                    let result = try await context.connection.run(
                        CommandRequest(script, environment: context.environment, become: context.become))
                    if !result.succeeded {
                        outcome.failure = .failure(
                            "failed to validate",
                            values: [
                                "exit_status": .int(Int(result.exitStatus)), "stdout": .string(result.stdoutText),
                                "stderr": .string(result.stderrText),
                            ])
                    }
                } else {
                    try await context.connection.put(
                        Array(newText.utf8), to: path, attributes: attributes, become: context.become)
                }
            } else {
                _ = try await FileSupport.runChecked(
                    FileSupport.commands(wanted, path: path).joined(separator: " && "), context: context,
                    what: "setting attributes failed")
            }
        } catch let failure as ModuleFailure {
            outcome.failure = failure.result
        } catch let error as PGHAError where error.kind == .io {
            outcome.failure = .failure(error.message)
        }
        return outcome
    }

    /// Ansible's check_file_attrs: appends to the message when only attributes changed too.
    static func message(_ msg: String, changed: Bool, attributesChanged: Bool) -> String {
        guard attributesChanged else { return msg }
        return msg + (changed ? " and " : "") + "ownership, perms or SE linux context changed"
    }

    /// The content diff Ansible's line-editing modules return ("<path> (content)" headers).
    static func contentDiff(before: String?, after: String, path: String, header: String? = nil) -> [FileDiff] {
        let before = before ?? ""
        guard before != after else { return [] }
        let h = header ?? "\(path) (content)"
        return [FileDiff(before: before, after: after, beforeHeader: h, afterHeader: h)]
    }

    /// Python's `readlines()`: lines keep their "\n".
    static func lines(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for ch in text.unicodeScalars {
            current.unicodeScalars.append(ch)
            if ch == "\n" {
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Strips a trailing "\r\n" / "\n" / "\r" run, as Python's `rstrip('\r\n')`.
    static func chomp(_ line: String) -> String {
        var s = Substring(line)
        while let last = s.last, last == "\n" || last == "\r" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}

/// Python `re` patterns and replacement templates on top of NSRegularExpression.
struct PyRegex {
    let regex: NSRegularExpression

    init(_ pattern: String, multiline: Bool = false, dotAll: Bool = false) throws {
        // Python spells named groups (?P<name>...) and (?P=name); ICU (?<name>...) and \k<name>.
        var translated = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        if let backref = try? NSRegularExpression(pattern: #"\(\?P=(\w+)\)"#) {
            translated = backref.stringByReplacingMatches(
                in: translated, range: NSRange(translated.startIndex..., in: translated), withTemplate: "\\\\k<$1>")
        }
        var options: NSRegularExpression.Options = []
        if multiline { options.insert(.anchorsMatchLines) }
        if dotAll { options.insert(.dotMatchesLineSeparators) }
        regex = try NSRegularExpression(pattern: translated, options: options)
    }

    func firstMatch(_ text: String) -> NSTextCheckingResult? {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
    }

    func matches(_ text: String) -> Bool { firstMatch(text) != nil }

    /// Python's `match.expand(template)`: \1, \g<1>, \g<name>, and \n, \t escapes.
    func expand(_ template: String, match: NSTextCheckingResult, in text: String) -> String {
        let ns = text as NSString
        func group(_ index: Int) -> String {
            guard index < match.numberOfRanges else { return "" }
            let range = match.range(at: index)
            return range.location == NSNotFound ? "" : ns.substring(with: range)
        }
        func named(_ name: String) -> String {
            let range = match.range(withName: name)
            return range.location == NSNotFound ? "" : ns.substring(with: range)
        }
        var out = ""
        let chars = Array(template)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "\\", i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            let next = chars[i + 1]
            if next.isASCII, let digit = next.wholeNumberValue {
                var number = digit
                var j = i + 2
                if j < chars.count, chars[j].isASCII, let second = chars[j].wholeNumberValue,
                    number * 10 + second < match.numberOfRanges
                {
                    number = number * 10 + second
                    j += 1
                }
                out += group(number)
                i = j
            } else if next == "g", i + 2 < chars.count, chars[i + 2] == "<",
                let close = chars[(i + 3)...].firstIndex(of: ">")
            {
                let name = String(chars[(i + 3)..<close])
                out += Int(name).map(group) ?? named(name)
                i = close + 1
            } else {
                switch next {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                default:
                    out.append("\\")
                    out.append(next)
                }
                i += 2
            }
        }
        return out
    }

    /// Python's `re.subn(pattern, template, text)`.
    func substitute(_ template: String, in text: String) -> (String, Int) {
        let ns = text as NSString
        let found = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        guard !found.isEmpty else { return (text, 0) }
        var out = ""
        var last = 0
        for match in found {
            out += ns.substring(with: NSRange(location: last, length: match.range.location - last))
            out += expand(template, match: match, in: text)
            last = match.range.location + match.range.length
        }
        out += ns.substring(from: last)
        return (out, found.count)
    }
}

/// Ansible's path check before editing: directories fail with rc 256.
func directoryFailure(_ loaded: TextFileEdit.Loaded, _ shown: String) -> ModuleResult? {
    loaded.stat.type == .directory ? .failure("Path \(shown) is a directory !", values: ["rc": 256]) : nil
}

extension String {
    /// Python's `str.splitlines()` for "\n" and "\r\n" endings.
    var splitLinesPython: [String] {
        TextFileEdit.lines(self).map(TextFileEdit.chomp)
    }
}
