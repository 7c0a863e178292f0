import Foundation
import PGHACore

/// A role as `pgha-play roles list` shows it.
public struct RoleSummary: Sendable, Equatable {
    public var name: String
    /// Where it is: `builtin:roles/NAME`, or a directory on disk.
    public var path: String
    /// meta/main.yml's `galaxy_info.description`.
    public var description: String
    /// The variables a user is expected to set: the required options of the role's `main` entry
    /// point in meta/argument_specs.yml (which ansible-playbook validates before the role runs).
    public var requiredVariables: [String]
}

/// A playbook as `pgha-play playbooks list` shows it.
public struct PlaybookSummary: Sendable, Equatable {
    public var name: String
    public var path: String
    /// The first sentence of the playbook's leading comment.
    public var description: String
    /// The first `pgha-play ...` example of that comment, if any.
    public var usage: String?
}

/// The roles and playbooks built into pgha-play, described and exported from their files.
public enum BuiltinCatalog {
    /// Every built-in role, by name.
    public static func roles() throws -> [RoleSummary] {
        try (ContentSource.entries(ofDirectory: ContentSource.builtinRoles) ?? []).map {
            try role(at: ContentSource.join(ContentSource.builtinRoles, $0), name: $0)
        }
    }

    /// The role in the directory `path`, described from its meta files.
    public static func role(at path: String, name: String) throws -> RoleSummary {
        var summary = RoleSummary(name: name, path: path, description: "", requiredVariables: [])
        let metaFile = ContentSource.join(path, "meta/main.yml")
        let meta = try yaml(metaFile)
        if let description = meta?["galaxy_info"]?["description"]?.stringValue {
            summary.description = description.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Ansible reads argument specs from meta/argument_specs.yml, or from meta/main.yml.
        let specs = try yaml(ContentSource.join(path, "meta/argument_specs.yml"))?["argument_specs"] ?? meta?["argument_specs"]
        if let options = specs?["main"]?["options"]?.dictValue {
            summary.requiredVariables = options.compactMap { name, option in
                option["required"].map(\.isTruthy) == true ? name : nil
            }.sorted()
            if summary.description.isEmpty, let short = specs?["main"]?["short_description"]?.stringValue {
                summary.description = short
            }
        }
        return summary
    }

    /// Every top-level built-in playbook (task files under tasks/ are not playbooks).
    public static func playbooks() -> [PlaybookSummary] {
        (ContentSource.entries(ofDirectory: ContentSource.builtinPlaybooks) ?? []).compactMap { name in
            guard name.hasSuffix(".yml") || name.hasSuffix(".yaml") else { return nil }
            return playbook(at: ContentSource.join(ContentSource.builtinPlaybooks, name), name: name)
        }
    }

    /// The playbook at `path`, described from its leading comment.
    public static func playbook(at path: String, name: String) -> PlaybookSummary? {
        guard ContentSource.isFile(path), let bytes = ContentSource.contents(path) else { return nil }
        var sentence: [String] = []
        var usage: String?
        var describing = true
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "---" { continue }
            guard line.hasPrefix("#") else { break }
            let text = line.dropFirst().drop(while: { $0 == " " })
            let indented = line.hasPrefix("#  ")
            if indented, usage == nil, text.hasPrefix("pgha-play ") {
                usage = String(text.prefix(while: { $0 != "(" })).trimmingCharacters(in: .whitespaces)
            }
            // The description: the first comment lines up to a blank line, an example or a list.
            if text.isEmpty || indented || text.first?.isNumber == true { describing = false }
            if describing { sentence.append(String(text)) }
        }
        // One sentence; a long one up to its colon.
        var description = sentence.joined(separator: " ")
        if let end = description.range(of: ". ") { description = String(description[..<end.lowerBound]) + "." }
        if description.count > 100, let colon = description.range(of: ": ") {
            description = String(description[..<colon.lowerBound]) + "."
        }
        return PlaybookSummary(name: name, path: path, description: description, usage: usage)
    }

    /// Writes the built-in role `name` to `directory/name`, to be changed there (a role in the
    /// roles path is used instead of the built-in one). Refuses an unknown role and an existing
    /// destination. Returns the role's directory and how many files were written.
    public static func exportRole(_ name: String, into directory: String) throws -> (path: String, files: Int) {
        let source = ContentSource.join(ContentSource.builtinRoles, name)
        let known = ContentSource.entries(ofDirectory: ContentSource.builtinRoles) ?? []
        guard !name.contains("/"), known.contains(name), let entries = ContentSource.descendants(of: source) else {
            throw PGHAError(
                .usage, "there is no built-in role named '\(name)'", hint: "built-in roles: " + known.joined(separator: ", "))
        }
        let destination = (directory as NSString).appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw PGHAError(
                .usage, "\(destination) exists", hint: "remove it first, or export into another directory: pgha-play roles export \(name) DIR")
        }
        let manager = FileManager.default
        var count = 0
        do {
            try manager.createDirectory(atPath: destination, withIntermediateDirectories: true)
            for entry in entries {
                let target = destination + "/" + entry.relative
                if entry.isDirectory {
                    try manager.createDirectory(atPath: target, withIntermediateDirectories: true)
                    continue
                }
                let path = ContentSource.join(source, entry.relative)
                guard let bytes = ContentSource.contents(path) else {
                    throw PGHAError(.io, "cannot read the built-in file", at: SourceLocation(file: path))
                }
                guard manager.createFile(
                    atPath: target, contents: Data(bytes),
                    attributes: [.posixPermissions: NSNumber(value: ContentSource.permissions(path) ?? 0o644)])
                else {
                    throw PGHAError(.io, "cannot write the file", at: SourceLocation(file: target))
                }
                count += 1
            }
        } catch {
            try? manager.removeItem(atPath: destination)
            if let error = error as? PGHAError { throw error }
            throw PGHAError(.io, "cannot write \(destination): \(error.localizedDescription)")
        }
        return (destination, count)
    }

    private static func yaml(_ path: String) throws -> Value? {
        guard let bytes = ContentSource.contents(path) else { return nil }
        return try YAMLLoader.load(String(decoding: bytes, as: UTF8.self), file: path)?.value
    }
}
