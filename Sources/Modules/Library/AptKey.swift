import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.apt_key`: adds or removes a key in apt's trusted keyring with the host's own
/// apt-key and gpg, as Ansible's module does (apt-key is deprecated; deb822_repository with
/// signed_by is the modern way). Listing the keys, reading the key's id and adding it take one
/// round trip each, the same commands Ansible runs.
public enum AptKeyModule: Module {
    public static let declaration = ActionDeclaration(
        name: "apt_key", qualifiedNames: ["ansible.builtin.apt_key", "ansible.legacy.apt_key"],
        supportsCheckMode: true, supportsDiff: false,
        arguments: ArgumentSpec(
            [
                .init("id", .string, help: "The key's id: 8, 16 or more hex digits, optionally with 0x. Read from the key when not given."),
                .init("url", .string, help: "Downloaded on the host (http, https)."),
                .init("data", .string, help: "The key itself, armored."),
                .init("file", .path, help: "A key file on the host."),
                .init("keyring", .path, help: "The keyring apt-key writes to instead of /etc/apt/trusted.gpg."),
                .init("validate_certs", .bool, default: true),
                .init("keyserver", .string, help: "Receives the key from this keyserver with apt-key adv --recv."),
                .init("state", .choice(["absent", "present"]), default: "present"),
            ],
            mutuallyExclusive: [["data", "file", "keyserver", "url"]]),
        documentation: ActionDocumentation(
            "Add or remove an apt key",
            details: [
                "Runs apt-key and gpg on the host (package gnupg), as Ansible does; where gpg is missing, the task fails (Ansible reports ok with the message).",
                "A file:// url fails as under Ansible (its download reports no HTTP status); use file or data.",
            ],
            examples: """
                - name: The PostgreSQL project's key
                  ansible.builtin.apt_key:
                    url: https://www.postgresql.org/media/keys/ACCC4CF8.asc
                    id: B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8
                    state: present
                """))

    /// The key id in its three forms, as Ansible's `parse_key_id`: the last 8 hex digits (for
    /// apt-key del), the last 16 (compared with the listing) and all of them uppercased.
    struct KeyID: Equatable {
        var short: String
        var fingerprint: String
        var full: String

        init?(_ text: String) {
            var id = text.uppercased()
            guard !id.isEmpty, id.trimmingCharacters(in: .whitespaces).count > 0 else { return nil }
            // Python's int(x, 16): surrounding blanks, an optional 0x and underscores between digits.
            let digits = id.trimmingCharacters(in: .whitespaces)
            var body = Substring(digits)
            if body.hasPrefix("0X") { body = body.dropFirst(2) }
            guard !body.isEmpty, body.allSatisfy({ $0.isHexDigit || $0 == "_" }), body.first != "_", body.last != "_" else {
                return nil
            }
            if id.hasPrefix("0X") { id = String(id.dropFirst(2)) }
            guard id.count == 8 || id.count >= 16 else { return nil }
            short = String(id.suffix(8))
            fingerprint = id.count > 16 ? String(id.suffix(16)) : id
            full = id
        }
    }

    /// Ansible's `parse_output_for_keys`: the ids of pub and sub keys that have not expired, from
    /// `apt-key --list-public-keys --keyid-format=long` ("pub   rsa4096/ID ...") or `gpg --with-colons`.
    static func keyIDs(_ output: String, short: Bool = false) -> [String] {
        var found: [String] = []
        for line in output.components(separatedBy: "\n")
        where (line.hasPrefix("pub") || line.hasPrefix("sub")) && !line.contains("expired") {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if tokens.count > 1 {
                let halves = tokens[1].split(separator: "/", omittingEmptySubsequences: false)
                if halves.count == 2 {
                    found.append(String(halves[1]))
                    continue
                }
            }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 4 { found.append(String(fields[4])) }
        }
        return short ? found.map { String($0.suffix(8)) } : found
    }

    /// The listing command, with the keyring when one is given.
    static func listCommand(_ keyring: String?) -> String {
        "apt-key\(keyring.map { " --keyring \(shellQuote($0))" } ?? "") adv --list-public-keys --keyid-format=long"
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let state = try args.requiredString("state")
        let keyring = args.string("keyring")
        let url = args.string("url")
        let file = args.string("file")
        let keyserver = args.string("keyserver")
        var data = args.string("data")
        var givenID = args.string("id")
        if givenID?.isEmpty == true { givenID = nil }
        if givenID == nil, keyserver != nil { return .failure("Missing key_id, required with keyserver.") }
        if givenID == nil, url == nil, file == nil, data == nil {
            // Ansible lists the keys first and then fails the same way.
            return .failure("Invalid key_id: id is missing, and no data, file or url to read it from", values: ["id": .null])
        }
        // Ansible downloads only what it needs: the key when no id is given, or when it is missing.
        if givenID == nil, let url, !isHTTP(url) { return try await unsupportedScheme(url, context: context) }

        // Round trip 1: the tools, the key's id when not given (downloading a URL), and the listing.
        var probe = [
            "command -v apt-key >/dev/null || { echo 'Failed to find required executable \"apt-key\". Apt-key has been deprecated. See the deb822_repository as an alternative.' >&2; exit 95; }",
            "command -v gpg >/dev/null || { echo 'Failed to find required executable \"gpg\"' >&2; exit 96; }",
        ]
        var stdin: [UInt8]?
        var readsID = false
        if givenID == nil {
            if let url {
                stdin = curlConfig(url, args)
                probe.append(
                    "t=$(mktemp) || exit 92; curl -K - -L -f -s -S -o \"$t\" || { rm -f \"$t\"; exit 93; }; base64 -w0 < \"$t\"; echo")
                probe.append("LC_ALL=C gpg --with-colons \"$t\"; rc=$?; rm -f \"$t\"; [ $rc = 0 ] || exit 97")
                readsID = true
            } else if let file {
                probe.append("echo; LC_ALL=C gpg --with-colons \(shellQuote(file)) || exit 97")
                readsID = true
            } else if let data {
                stdin = Array(data.utf8)
                probe.append("echo; LC_ALL=C gpg --with-colons - || exit 97")
                readsID = true
            }
        }
        let script = HostScript.sections(
            [probe.joined(separator: "\n"), "rc=0; " + listCommand(keyring) + " || rc=$?; echo; echo \"rc=$rc\""])
        let probed = try await HostScript.run(context, script, stdin: stdin)
        let stderr = probed.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        switch probed.exitStatus {
        case 0: break
        case 95, 96:
            return .failure(stderr)
        case 93:
            return .failure("Failed to download key at \(maskedURL(url ?? "")): \(stderr)")
        case 97:
            return .failure(
                "Unable to extract key from '\(data != nil ? "inline data" : file ?? "-")'",
                values: ["stdout": .string(probed.stdoutText), "stderr": .string(probed.stderrText)])
        default:
            return .failure("apt_key failed: \(stderr)", values: HostScript.stdoutValues(probed))
        }
        let sections = HostScript.split(probed.stdoutText, count: 2)
        var keyID = givenID
        if readsID {
            let lines = sections[0].components(separatedBy: "\n")
            if url != nil, let encoded = lines.first, let bytes = Data(base64Encoded: encoded) {
                data = String(decoding: bytes, as: UTF8.self)
                stdin = Array(bytes)
            }
            keyID = keyIDs(lines.dropFirst().joined(separator: "\n")).first
        }
        var values: OrderedDictionary<String, Value> = ["id": keyID.map { .string($0) } ?? .null]
        guard let parsed = keyID.flatMap(KeyID.init) else { return .failure("Invalid key_id", values: values) }
        values["short_id"] = .string(parsed.short)
        values["fp"] = .string(parsed.fingerprint)
        values["key_id"] = .string(parsed.full)
        let shortFormat = parsed.full.count == 8
        let (listing, listStatus) = splitStatus(sections[1])
        guard listStatus == 0 else {
            return .failure(
                "Unable to list public keys",
                values: ["cmd": .string(listCommand(keyring)), "rc": .int(listStatus), "stdout": .string(listing)])
        }
        let before = keyIDs(listing, short: shortFormat)
        values["before"] = .list(before.map { .string($0) })
        let wanted = shortFormat ? parsed.short : parsed.fingerprint

        let keyringOption = keyring.map { " --keyring \(shellQuote($0))" } ?? ""
        let change: String
        var changeInput: [UInt8]?
        var failureMessage: String
        if state == "present" {
            guard !before.contains(wanted) else { return ModuleResult(values: values) }
            if context.checkMode { return ModuleResult(changed: true, values: values) }
            if let file {
                change = "apt-key\(keyringOption) add \(shellQuote(file))"
                failureMessage = "Unable to add a key from file \(file)"
            } else if let keyserver {
                change = addProxy(
                    "apt-key\(keyringOption) adv --no-tty --keyserver \(shellQuote(keyserver))", context.environment)
                    + " --recv \(shellQuote(parsed.full))"
                failureMessage = "Error fetching key \(parsed.full) from keyserver: \(keyserver)"
            } else if let data {
                change = "apt-key\(keyringOption) add -"
                changeInput = stdin ?? Array(data.utf8)
                failureMessage = "Unable to add a key from binary data"
            } else if let url {
                // An id was given with the URL: the key is downloaded only now, when it is missing.
                if !isHTTP(url) { return try await unsupportedScheme(url, context: context) }
                change = "t=$(mktemp) || exit 92; curl -K - -L -f -s -S -o \"$t\" || { rm -f \"$t\"; exit 93; }; "
                    + "apt-key\(keyringOption) add - < \"$t\"; r=$?; rm -f \"$t\"; exit $r"
                changeInput = curlConfig(url, args)
                failureMessage = "Unable to add a key from binary data"
            } else {
                return .failure("No key to add ... how did i get here?!?!", values: values)
            }
        } else {
            guard before.contains(parsed.fingerprint) else { return ModuleResult(values: values) }
            if context.checkMode { return ModuleResult(changed: true, values: values) }
            change = "apt-key\(keyringOption) del \(shellQuote(parsed.short))"
            failureMessage = "Unable to remove a key with id \(parsed.short)"
        }

        // Round trip 2: the change (from a keyserver: up to five tries), then the listing again.
        let tries = keyserver != nil && state == "present" ? 5 : 1
        let script2 = HostScript.sections([
            "i=0; while :; do i=$((i+1)); rc=0; ( \(change) ) || rc=$?; { [ $rc = 0 ] || [ $i -ge \(tries) ]; } && break; done; echo; echo \"rc=$rc\"",
            "rc=0; " + listCommand(keyring) + " || rc=$?; echo; echo \"rc=$rc\"",
        ])
        let applied = try await HostScript.run(context, script2, stdin: changeInput)
        let parts = HostScript.split(applied.stdoutText, count: 2)
        let (changeOutput, changeStatus) = splitStatus(parts[0])
        if changeStatus != 0 {
            if changeStatus == 93, let url { failureMessage = "Failed to download key at \(maskedURL(url))" }
            var failure = values
            failure["cmd"] = .string(change)
            failure["rc"] = .int(changeStatus)
            failure["stdout"] = .string(changeOutput)
            failure["stderr"] = .string(applied.stderrText)
            return .failure(failureMessage, values: failure)
        }
        let (afterListing, afterStatus) = splitStatus(parts[1])
        guard afterStatus == 0 else {
            return .failure("Unable to list public keys", values: ["cmd": .string(listCommand(keyring)), "rc": .int(afterStatus)])
        }
        let after = keyIDs(afterListing, short: shortFormat)
        values["after"] = .list(after.map { .string($0) })
        let noError = "apt-key did not return an error, but %@ (check that the id is correct and *not* a subkey)"
        if state == "present" && !after.contains(wanted) {
            return .failure(noError.replacingOccurrences(of: "%@", with: "failed to add the key"), values: values)
        }
        if state == "absent" && after.contains(parsed.fingerprint) {
            return .failure(noError.replacingOccurrences(of: "%@", with: "the key was not removed"), values: values)
        }
        return ModuleResult(changed: true, values: values)
    }

    static func isHTTP(_ url: String) -> Bool { url.hasPrefix("http://") || url.hasPrefix("https://") }

    /// Ansible's fetch_url reads a file:// URL but reports no HTTP status for it, so the module
    /// fails with the size it read; other schemes fail to open.
    static func unsupportedScheme(_ url: String, context: ModuleContext) async throws -> ModuleResult {
        let prefix = "Failed to download key at \(maskedURL(url))"
        guard url.hasPrefix("file://") else { return .failure("\(prefix): Request failed: <urlopen error unknown url type>") }
        let path = String(url.dropFirst("file://".count)).removingPercentEncoding ?? ""
        let size = try await HostScript.run(context, "stat -L -c %s -- \(shellQuote(path))")
        guard size.succeeded else {
            return .failure("\(prefix): Request failed: <urlopen error [Errno 2] No such file or directory: '\(path)'>")
        }
        return .failure("\(prefix): OK (\(size.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) bytes)")
    }

    static func curlConfig(_ url: String, _ args: ModuleArguments) -> [UInt8] {
        Curl.config([("url", url)] + (args.bool("validate_certs") == false ? [("insecure", nil)] : []))
    }

    /// A section ending in "rc=N": its text before that line, and N.
    static func splitStatus(_ section: String) -> (String, Int) {
        var lines = section.components(separatedBy: "\n")
        while lines.last == "" { lines.removeLast() }
        guard let last = lines.last, last.hasPrefix("rc="), let status = Int(last.dropFirst(3)) else { return (section, -1) }
        lines.removeLast()
        return (lines.joined(separator: "\n"), status)
    }

    /// Ansible's `mask_url`: the password of user:password@ hidden.
    static func maskedURL(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":********" + String(url[at...])
    }

    /// The proxy Ansible passes to apt-key adv from the module's environment.
    static func addProxy(_ command: String, _ environment: [(String, String)]) -> String {
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            if let proxy = environment.first(where: { $0.0 == name })?.1, !proxy.isEmpty {
                return command + " --keyserver-options \(shellQuote("http-proxy=" + proxy))"
            }
        }
        return command
    }
}
