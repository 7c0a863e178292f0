import Foundation
import OrderedCollections
import PGHACore
import Vault

extension Inventory {
    /// Builds an inventory from `-i` sources: INI or YAML files, directories of them, or `host1,host2,`
    /// lists. Later sources add to (and override variables of) earlier ones.
    ///
    /// - Parameter currentDirectory: where relative source paths start (the process's directory if nil).
    /// - Parameter vault: the vault passwords for vaulted `group_vars`/`host_vars` and `!vault` values.
    public static func load(sources: [String], currentDirectory: String? = nil, vault: VaultContext = .none) throws -> Inventory {
        var inventory = Inventory()
        inventory.vault = vault
        for source in sources where !source.isEmpty {
            try inventory.parseSource(source, currentDirectory: currentDirectory)
        }
        inventory.reconcile()
        return inventory
    }

    /// Reads one more source into an existing inventory (as `-i` given again).
    public mutating func addSource(_ source: String, currentDirectory: String? = nil) throws {
        try parseSource(source, currentDirectory: currentDirectory)
        reconcile()
    }

    static func absolutePath(_ path: String, currentDirectory: String?) -> String {
        var expanded = (path as NSString).expandingTildeInPath
        if !expanded.hasPrefix("/") {
            let base = currentDirectory ?? FileManager.default.currentDirectoryPath
            expanded = (base as NSString).appendingPathComponent(expanded)
        }
        // Like os.path.normpath: collapse `.`/`..` without resolving symlinks.
        var parts: [String] = []
        for part in expanded.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(String(part))
        }
        return "/" + parts.joined(separator: "/")
    }

    mutating func parseSource(_ rawSource: String, currentDirectory: String?) throws {
        let fm = FileManager.default
        let candidate = Self.absolutePath(rawSource, currentDirectory: currentDirectory)
        if rawSource.contains(","), !fm.fileExists(atPath: candidate) {
            sources.append(rawSource)
            parseHostList(rawSource)
            return
        }
        sources.append(candidate)
        try parsePath(candidate, explicit: true)
    }

    /// Entries of an inventory directory that Ansible never reads as inventory.
    static func isIgnoredInDirectory(_ name: String) -> Bool {
        if name.hasPrefix(".") || ["host_vars", "group_vars", "vars_plugins"].contains(name) { return true }
        let ignoredSuffixes = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]
        return ignoredSuffixes.contains { name.hasSuffix($0) }
    }

    mutating func parsePath(_ path: String, explicit: Bool) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PGHAError(
                .inventory, "inventory source not found: \(path)", at: SourceLocation(file: path),
                hint: "pass an INI or YAML inventory file, a directory of them, or a comma-separated host list")
        }
        if isDirectory.boolValue {
            let entries: [String]
            do { entries = try fm.contentsOfDirectory(atPath: path) } catch {
                throw PGHAError(.io, "cannot list inventory directory", at: SourceLocation(file: path))
            }
            // Python sorts os.listdir() byte-wise; compare UTF-8 to match.
            for entry in entries.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            where !Self.isIgnoredInDirectory(entry) {
                try parsePath((path as NSString).appendingPathComponent(entry), explicit: false)
            }
            return
        }
        let text = try InputFile.readText(path, limit: InputLimits.maxYAMLBytes, what: "inventory source")
        if VaultEnvelope.isVaulted(text) {
            // Every value of a vaulted file is a secret, which would hide the host names of a whole
            // vaulted inventory in all output.
            throw PGHAError(
                .inventory, "vault-encrypted inventory sources are not supported", at: SourceLocation(file: path),
                hint: "keep the hosts in plain text and vault their group_vars/host_vars files (or single values with !vault)")
        }
        if fm.isExecutableFile(atPath: path), text.hasPrefix("#!") {
            throw PGHAError(
                .inventory, "executable inventory scripts are not supported", at: SourceLocation(file: path),
                hint: "run the script yourself and save its output as a YAML/JSON inventory, or clear its executable bit")
        }
        let ext = (path as NSString).pathExtension.lowercased()
        let previousSource = currentSource
        currentSource = path
        defer { currentSource = previousSource }
        switch ext {
        case "yml", "yaml", "json":
            guard let root = try vault.loadYAML(text, file: path) else {
                // Ansible only warns about an empty YAML inventory and carries on.
                warnings.append("Parsed empty YAML file \(path); it adds no hosts")
                return
            }
            try parseYAMLInventory(root, path: path)
        case "ini":
            try parseINI(text, path: path)
        case "":
            // Ansible offers extension-less files to the YAML plugin first and falls back to INI.
            if let root = try? YAMLLoader.load(text, file: path), root.isMapping {
                try parseYAMLInventory(try vault.decryptInline(root), path: path)
            } else {
                try parseINI(text, path: path)
            }
        case "toml":
            throw PGHAError(.inventory, "TOML inventories are not supported", at: SourceLocation(file: path),
                            hint: "convert it to YAML or INI")
        default:
            // No plugin claims the extension (hosts.prod, inventory.staging), so Ansible's INI
            // plugin reads the file; in a directory, a file it cannot read is only warned about.
            do {
                try parseINI(text, path: path)
            } catch let error as PGHAError where !explicit {
                warnings.append("Unable to parse \(path) as an inventory source: \(error.message)")
            }
        }
    }

    /// The `host_list` plugin: `a,b:2222,c` adds hosts to `ungrouped`.
    mutating func parseHostList(_ list: String) {
        let previousSource = currentSource
        currentSource = list
        defer { currentSource = previousSource }
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = item.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            var host = entry
            var port: Int?
            if let parsed = try? HostAddress.parse(entry, allowRanges: false) {
                host = parsed.host
                port = parsed.port
            }
            if hosts[host] == nil {
                try? addHostEntry(host, group: "ungrouped", port: port, origin: Origin(location: SourceLocation(file: "<host list>")))
            }
        }
    }
}
