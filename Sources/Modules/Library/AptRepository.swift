import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.apt_repository`: adds or removes one-line APT sources (`deb ...`) in
/// /etc/apt/sources.list and sources.list.d/*.list. All sources files are read in one round trip.
public enum AptRepositoryModule: Module {
    public static let declaration = ActionDeclaration(
        name: "apt_repository", qualifiedNames: ["ansible.builtin.apt_repository", "ansible.legacy.apt_repository"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec([
            .init("repo", .string, required: true),
            .init("state", .choice(["absent", "present"]), default: "present"),
            .init("mode", .mode),
            .init("update_cache", .bool, default: true, aliases: ["update-cache"]),
            .init("update_cache_retries", .int, default: 5),
            .init("update_cache_retry_max_delay", .int, default: 12),
            .init("validate_certs", .bool, default: true),
            .init("filename", .string),
            .init("codename", .string),
            .init("install_python_apt", .bool, default: true),
        ]),
        documentation: ActionDocumentation(
            "Add and remove APT repositories",
            examples: """
                - name: Add the PostgreSQL project's repository
                  ansible.builtin.apt_repository:
                    repo: deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main
                    filename: pgdg
                    state: present
                """))

    static let directory = "/etc/apt/sources.list.d"

    /// One source line with whitespace normalized (Ansible compares them this way).
    static func normalize(_ line: String) -> String {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// Ansible's `_suggest_filename`: the host and path of the URI, non-alphanumerics as underscores.
    static func suggestFilename(_ line: String) -> String {
        var text = line.replacingOccurrences(of: #"\[[^\]]+\]"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\w+://"#, with: "", options: .regularExpression)
        var parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init).filter {
            $0 != "deb" && $0 != "deb-src"
        }
        if parts.isEmpty { return "sources.list" }
        if let at = parts[0].firstIndex(of: "@") { parts[0] = String(parts[0][parts[0].index(after: at)...]) }
        let cleaned = parts[0].replacingOccurrences(of: "[^a-zA-Z0-9]", with: " ", options: .regularExpression)
        return cleaned.split(separator: " ").joined(separator: "_") + ".list"
    }

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let repo = normalize(try args.requiredString("repo"))
        guard repo.hasPrefix("deb ") || repo.hasPrefix("deb-src ") else {
            if repo.hasPrefix("ppa:") { return .failure("PPA repositories are not supported on Debian") }
            return .failure("Invalid repository string: \(repo)")
        }
        let state = try args.requiredString("state")
        let target = directory + "/" + (args.string("filename").map { $0 + ".list" } ?? suggestFilename(repo))
        let probe = try await HostScript.run(
            context,
            "for f in /etc/apt/sources.list \(directory)/*.list; do [ -f \"$f\" ] || continue; echo \"\(HostScript.marker) $f\"; cat \"$f\"; done")
        var files = OrderedDictionary<String, [String]>()
        var current: String?
        for line in probe.stdoutText.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(HostScript.marker + " ") {
                current = String(line.dropFirst(HostScript.marker.count + 1))
                files[current!] = []
            } else if let current {
                files[current]!.append(String(line))
            }
        }
        for key in files.keys where files[key]!.last == "" { files[key]!.removeLast() }
        let original = files

        func enabled(_ line: String) -> Bool { normalize(line) == repo }
        func commented(_ line: String) -> Bool {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("#") && normalize(String(trimmed.drop(while: { $0 == "#" }))) == repo
        }
        if state == "present" {
            if !files.values.contains(where: { $0.contains(where: enabled) }) {
                if let file = files.keys.first(where: { files[$0]!.contains(where: commented) }) {
                    files[file] = files[file]!.map { commented($0) ? repo : $0 }
                } else {
                    files[target, default: []].append(repo)
                }
            }
        } else {
            for key in files.keys { files[key] = files[key]!.filter { !enabled($0) } }
        }
        let changedFiles = files.keys.filter { files[$0] != original[$0] }
        let added = changedFiles.filter { original[$0] == nil }
        let removed = changedFiles.filter { file in
            files[file]!.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } && file != "/etc/apt/sources.list"
        }
        let values: OrderedDictionary<String, Value> = [
            "repo": .string(repo), "state": .string(state),
            "sources_added": .list(added.map { .string($0) }), "sources_removed": .list(removed.map { .string($0) }),
        ]
        guard !changedFiles.isEmpty else { return ModuleResult(values: values) }
        var diffs: [FileDiff] = []
        if context.diffMode {
            for file in changedFiles {
                let before = original[file].map { $0.joined(separator: "\n") + "\n" } ?? ""
                let after = removed.contains(file) ? "" : files[file]!.joined(separator: "\n") + "\n"
                diffs.append(FileDiff(before: before, after: after, beforeHeader: file, afterHeader: file))
            }
        }
        if context.checkMode { return ModuleResult(changed: true, values: values, diffs: diffs) }
        let mode = String(args["mode"]?.intValue ?? 0o644, radix: 8)
        var script: [String] = []
        for file in changedFiles {
            if removed.contains(file) {
                script.append("rm -f -- \(shellQuote(file))")
                continue
            }
            let content = files[file]!.joined(separator: "\n") + "\n"
            let delimiter = "PGHA_EOF_\(UUID().uuidString.prefix(8))"
            script.append("cat > \(shellQuote(file)) <<'\(delimiter)'\n\(content)\(delimiter)\nchmod \(mode) \(shellQuote(file))")
        }
        if args.bool("update_cache") == true { script.append("apt-get update -q") }
        let result = try await HostScript.run(context, script.joined(separator: " && "), environment: AptModule.environment)
        guard result.succeeded else {
            return .failure("Failed to update apt cache: \(result.stderrText)", values: HostScript.stdoutValues(result))
        }
        return ModuleResult(changed: true, values: values, diffs: diffs)
    }
}
