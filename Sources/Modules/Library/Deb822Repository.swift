import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.deb822_repository`: writes one deb822 `.sources` file in
/// /etc/apt/sources.list.d, byte for byte as Ansible's module (python3-debian's `Deb822.dump`)
/// writes it, without Python on the host. A `signed_by` URL is downloaded on the host, as Ansible
/// does, into /etc/apt/keyrings/NAME.asc (armored) or NAME.gpg.
public enum Deb822RepositoryModule: Module {
    static let booleanFields = [
        "allow_downgrade_to_insecure", "allow_insecure", "allow_weak", "by_hash", "check_date", "check_valid_until",
        "enabled", "pdiffs", "trusted",
    ]
    static let listFields = ["architectures", "components", "languages", "suites", "targets", "types", "uris"]

    public static let declaration = ActionDeclaration(
        name: "deb822_repository",
        qualifiedNames: ["ansible.builtin.deb822_repository", "ansible.legacy.deb822_repository"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            booleanFields.map { ArgumentSpec.Argument($0, .bool) }
                + listFields.filter { $0 != "types" }.map { ArgumentSpec.Argument($0, .list) }
                + [
                    .init("types", .list, default: .list([.string("deb")]), help: "deb and/or deb-src."),
                    .init("date_max_future", .int),
                    .init("inrelease_path", .string),
                    .init(
                        "name", .string, required: true,
                        help: "X-Repolib-Name; also names the file: lowercased, spaces and underscores as dashes."),
                    .init(
                        "signed_by", .string,
                        help: "A key block written inline, the path of a keyring on the host, or a URL to download into /etc/apt/keyrings."),
                    .init("mode", .mode, default: .string("0644")),
                    .init("state", .choice(["present", "absent"]), default: "present"),
                ]),
        documentation: ActionDocumentation(
            "Add and remove deb822 formatted repositories",
            details: [
                "Writes /etc/apt/sources.list.d/NAME.sources with the fields in Ansible's order (alphabetical by argument) and format; does not run apt-get update.",
                "Unlike Ansible's module, it needs no python3-debian on the host, and it reports the file's old and new content under --diff.",
            ],
            examples: """
                - name: Add the PostgreSQL project's repository
                  ansible.builtin.deb822_repository:
                    name: pgdg
                    types: [deb]
                    uris: http://apt.postgresql.org/pub/repos/apt
                    suites: bookworm-pgdg
                    components: main
                    signed_by: https://www.postgresql.org/media/keys/ACCC4CF8.asc
                """))

    static let keyringDirectory = "/etc/apt/keyrings"
    static let sourcesDirectory = "/etc/apt/sources.list.d"

    /// Ansible's slug of `name`: lowercase, runs of spaces and underscores as one dash, then
    /// everything but a-z, 0-9 and dashes dropped.
    static func slug(_ name: String) -> String {
        let dashed = name.lowercased().replacingOccurrences(of: #"[_\s]+"#, with: "-", options: .regularExpression)
        return dashed.replacingOccurrences(of: "[^a-z0-9-]+", with: "", options: .regularExpression)
    }

    static func sourcesPath(_ slug: String) -> String { "\(sourcesDirectory)/\(slug).sources" }
    static func keyringPath(_ slug: String, _ ext: String) -> String { "\(keyringDirectory)/\(slug).\(ext)" }

    /// The deb822 field name of an argument, as Ansible's `format_field_name` (Python's `str.title`).
    static func fieldName(_ argument: String) -> String {
        if argument == "name" { return "X-Repolib-Name" }
        if argument == "uris" { return "URIs" }
        var out = ""
        var previousIsLetter = false
        for ch in argument.replacingOccurrences(of: "_", with: "-") {
            out += previousIsLetter ? ch.lowercased() : ch.uppercased()
            previousIsLetter = ch.isLetter
        }
        return out
    }

    /// A value of several lines as a deb822 continuation: each line stripped and indented by four
    /// spaces, empty lines written as ".", after a line break that follows "Field:".
    static func multiline(_ text: String) -> String {
        let lines = text.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "\n").map {
            let stripped = $0.trimmingCharacters(in: .whitespacesAndNewlines)
            return "    " + (stripped.isEmpty ? "." : stripped)
        }
        return "\n" + lines.joined(separator: "\n")
    }

    /// Whether Python's `urlparse` finds a scheme: letters, digits, "+", "-" and "." before the first
    /// colon, starting with a letter.
    static func hasURLScheme(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter else { return false }
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
    }

    /// The file's content: every given argument but mode and state, sorted by argument name, as
    /// `Deb822.dump` writes it. `signedBy` is the value Signed-By ends up with (a path or key data).
    static func render(_ args: ModuleArguments, signedBy: String?) -> String {
        var fields: [(String, String)] = []
        let names = (booleanFields + listFields + ["date_max_future", "inrelease_path", "name", "signed_by"]).sorted()
        for name in names {
            var text: String
            if name == "signed_by" {
                guard let signedBy else { continue }
                text = signedBy
            } else if booleanFields.contains(name) {
                guard let flag = args.bool(name) else { continue }
                text = flag ? "yes" : "no"
            } else if listFields.contains(name) {
                guard let items = listItems(args, name) else { continue }
                text = items.joined(separator: " ")
            } else if name == "date_max_future" {
                guard let number = args.int(name) else { continue }
                text = String(number)
            } else {
                guard let value = args.string(name) else { continue }
                text = value
            }
            if text.contains("\n") { text = multiline(text) }
            fields.append((fieldName(name), text))
        }
        return fields.map { name, value in
            value.isEmpty || value.hasPrefix("\n") ? "\(name):\(value)\n" : "\(name): \(value)\n"
        }.joined()
    }

    /// A `list` of `str` as Ansible converts it: a string is split on commas, items are kept as given.
    static func listItems(_ args: ModuleArguments, _ name: String) -> [String]? {
        guard let value = args[name] else { return nil }
        if let list = value.listValue { return list.map { $0.pythonString ?? "" } }
        return value.pythonString.map { $0.components(separatedBy: ",") }
    }

    /// Checks what the spec cannot: the element choices of `types`.
    static func argumentProblem(_ args: ModuleArguments) -> String? {
        let types = listItems(args, "types") ?? []
        let unknown = types.filter { $0 != "deb" && $0 != "deb-src" }
        if !unknown.isEmpty {
            return "value of types must be one or more of: deb, deb-src. Got no match for: \(unknown.joined(separator: ", "))"
        }
        return nil
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        if let problem = argumentProblem(args) { return .failure(problem) }
        let slug = slug(try args.requiredString("name"))
        let dest = sourcesPath(slug)
        if try args.requiredString("state") == "absent" { return try await remove(slug: slug, context: context) }

        let signedBy = args.string("signed_by")
        // A single line may name a keyring on the host (kept as it is) or a URL (downloaded).
        let mayBePath = signedBy.map { !$0.contains("\n") && !$0.isEmpty } ?? false
        let isURL = mayBePath && hasURLScheme(signedBy ?? "")
        var probe = [
            "umask",
            "if [ -f \(shellQuote(dest)) ]; then stat -c %a \(shellQuote(dest)); sha256sum < \(shellQuote(dest)) | cut -d' ' -f1; fi",
            context.diffMode ? "cat \(shellQuote(dest)) 2>/dev/null" : "true",
            mayBePath ? "[ -f \(shellQuote(signedBy ?? "")) ] && echo file || echo data" : "echo data",
        ]
        if isURL { probe.append(downloadScript(slug: slug, checkMode: context.checkMode)) }
        let result = try await HostScript.run(
            context, HostScript.sections(probe), stdin: isURL ? Curl.config([("url", signedBy ?? "")]) : nil)
        let sections = HostScript.split(result.stdoutText, count: probe.count)
        let umask = UInt32(sections[0].trimmingCharacters(in: .whitespacesAndNewlines), radix: 8) ?? 0o022
        let destState = HostScript.lines(sections[1])
        let currentMode = destState.first.flatMap { UInt32($0, radix: 8) }
        let currentSum = destState.count > 1 ? destState[1] : nil
        let signedByIsFile = sections[3].hasPrefix("file")

        var keyFilename: String?
        var signedByValue = signedBy
        var keyCommands: [String] = []
        var keyChanged = false
        if signedByIsFile {
            keyFilename = signedBy
        } else if isURL {
            let download = sections[4].trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard result.succeeded, download.count == 7, download[0] == "ok" else {
                let reason = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure("Could not fetch signed_by key: \(reason.isEmpty ? "download failed" : reason)")
            }
            let (ext, newSum, oldSum, oldMode, temporary, size) = (download[1], download[2], download[3], download[4], download[5], download[6])
            if size == "0" {
                // Ansible keeps an empty download's URL as the value, and reports it as the key file.
                keyFilename = signedBy
            } else {
                let keyring = keyringPath(slug, ext)
                keyFilename = keyring
                signedByValue = keyring
                if newSum != oldSum {
                    keyChanged = true
                    keyCommands.append(
                        "mkdir -p \(keyringDirectory) && chown root:root \(keyringDirectory) && chmod 0755 \(keyringDirectory)"
                            + " && chmod 0644 \(shellQuote(temporary)) && mv -f \(shellQuote(temporary)) \(shellQuote(keyring))")
                } else if oldMode != "644" {
                    keyChanged = true
                    keyCommands.append("chmod 0644 \(shellQuote(keyring))")
                }
            }
        } else if !result.succeeded {
            return .failure("reading \(dest) failed: \(result.stderrText)", values: HostScript.stdoutValues(result))
        }

        let content = render(args, signedBy: signedByValue)
        let contentChanged = currentSum != Digest.sha256(Array(content.utf8))
        let baseMode = currentMode ?? (0o666 & ~umask)
        let mode = try (FileMode(args["mode"]) ?? .absolute(0o644)).resolve(current: baseMode, isDirectory: false, umask: umask)
        let modeChanged = currentMode == nil || currentMode != mode
        let changed = keyChanged || contentChanged || modeChanged
        let values: OrderedDictionary<String, Value> = [
            "repo": .string(content), "dest": .string(dest), "key_filename": keyFilename.map { .string($0) } ?? .null,
        ]
        var diffs: [FileDiff] = []
        if context.diffMode && contentChanged {
            diffs.append(FileDiff(before: currentSum == nil ? "" : sections[2], after: content, beforeHeader: dest, afterHeader: dest))
        }
        guard changed, !context.checkMode else { return ModuleResult(changed: changed, values: values, diffs: diffs) }

        var script = keyCommands
        let octal = String(mode, radix: 8)
        if contentChanged {
            let delimiter = "PGHA_EOF_\(UUID().uuidString.prefix(8))"
            script.append(
                "t=$(mktemp \(shellQuote("\(sourcesDirectory)/.\(slug).XXXXXX"))) && cat > \"$t\" <<'\(delimiter)'\n\(content)\(delimiter)\n"
                    + "{ [ ! -e \(shellQuote(dest)) ] || chown --reference=\(shellQuote(dest)) \"$t\"; } && chmod \(octal) \"$t\" && mv -f \"$t\" \(shellQuote(dest))"
                    + " || { rm -f \"$t\"; exit 1; }")
        } else {
            script.append("chmod \(octal) \(shellQuote(dest))")
        }
        let applied = try await HostScript.run(context, script.joined(separator: " && \\\n"))
        guard applied.succeeded else {
            return .failure("writing \(dest) failed: \(applied.stderrText)", values: HostScript.stdoutValues(applied))
        }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }

    /// Downloads the URL given as curl's config on stdin into a temporary file, then prints
    /// `ok|EXT|NEW_SHA256|OLD_SHA256|OLD_MODE|TEMPORARY|SIZE`. The temporary file stays only when it
    /// is to be installed (it differs, outside check mode).
    static func downloadScript(slug: String, checkMode: Bool) -> String {
        let base = "\(keyringDirectory)/\(slug)"
        return """
            command -v curl >/dev/null || { echo 'curl is not installed on the host' >&2; exit 91; }
            t=$(mktemp "${TMPDIR:-/tmp}/.pgha-deb822.XXXXXXXX") || exit 92
            code=$(curl -K - -L -s -S -o "$t" -w '%{http_code}') || { rm -f "$t"; exit 93; }
            case $code in 000|2??) ;; *) rm -f "$t"; echo "HTTP Error $code" >&2; exit 94;; esac
            if grep -qaF -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$t"; then ext=asc; else ext=gpg; fi
            new=$(sha256sum < "$t" | cut -d' ' -f1); size=$(stat -c %s "$t")
            old=; oldmode=; if [ -f \(shellQuote(base)).$ext ]; then old=$(sha256sum < \(shellQuote(base)).$ext | cut -d' ' -f1); oldmode=$(stat -c %a \(shellQuote(base)).$ext); fi
            if \(checkMode ? "true" : "[ \"$new\" = \"$old\" ] || [ \"$size\" = 0 ]"); then rm -f "$t"; fi
            echo "ok|$ext|$new|$old|$oldmode|$t|$size"
            """
    }

    /// state=absent: the sources file and the keyrings a URL would have downloaded.
    static func remove(slug: String, context: ModuleContext) async throws -> ModuleResult {
        let dest = sourcesPath(slug)
        let paths = [dest, keyringPath(slug, "asc"), keyringPath(slug, "gpg")]
        let removal = paths.map { path in
            "if [ -e \(shellQuote(path)) ]; then echo \(shellQuote(path)); \(context.checkMode ? "" : "rm -f \(shellQuote(path));") fi"
        }
        let read = context.diffMode ? "cat \(shellQuote(dest)) 2>/dev/null" : "true"
        let result = try await HostScript.run(context, HostScript.sections([read, removal.joined(separator: "\n")]))
        guard result.succeeded else {
            return .failure("removing \(dest) failed: \(result.stderrText)", values: HostScript.stdoutValues(result))
        }
        let sections = HostScript.split(result.stdoutText, count: 2)
        let removed = HostScript.lines(sections[1])
        var diffs: [FileDiff] = []
        if context.diffMode && removed.contains(dest) {
            diffs.append(FileDiff(before: sections[0], after: "", beforeHeader: dest, afterHeader: dest))
        }
        // Ansible reports the .gpg name, the last one its loop looked at.
        let values: OrderedDictionary<String, Value> = [
            "repo": .null, "dest": .string(dest), "key_filename": .string(keyringPath(slug, "gpg")),
        ]
        return ModuleResult(changed: !removed.isEmpty, values: values, diffs: diffs)
    }
}
