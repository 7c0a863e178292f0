import Foundation

/// Roles of installed collections (`namespace.collection.role`), found where ansible-core's
/// collection finder looks: `collections/` beside the playbook, then the configured collection
/// paths (`ProjectConfiguration.collectionSearchPaths`), then every `sys.path` entry of the Python
/// environment (`python3` on PATH) holding an `ansible_collections` directory.
enum CollectionRoles {
    /// `namespace.collection.role` split in two; nil for a name that is not collection-qualified.
    static func split(_ name: String) -> (collection: String, role: String)? {
        guard !name.contains("/") else { return nil }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return ("\(parts[0]).\(parts[1])", String(parts[2]))
    }

    /// The directory of `role` in `collection` under the first root that has it.
    static func find(role: String, in collection: String, roots: [String]) -> String? {
        let path = collection.replacingOccurrences(of: ".", with: "/")
        for root in roots {
            let base = (root as NSString).lastPathComponent == "ansible_collections" ? root : root + "/ansible_collections"
            let candidate = PathUtil.absolute(base + "/" + path + "/roles/" + role)
            if PathUtil.isDirectory(candidate) { return candidate }
        }
        return nil
    }

    /// The collection a role directory belongs to (`.../ansible_collections/ns/coll/roles/name`).
    static func collection(ofRoleAt path: String) -> String? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 5, parts[parts.count - 2] == "roles", parts[parts.count - 5] == "ansible_collections" else {
            return nil
        }
        return parts[parts.count - 4] + "." + parts[parts.count - 3]
    }

    /// The Python environment's `sys.path`, read once per process (ansible-core scans it for
    /// `ansible_collections`); empty when no `python3` runs.
    static let pythonSysPath: [String] = {
        let environment = ProcessInfo.processInfo.environment
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        guard let python = directories.map({ $0 + "/python3" }).first(where: FileManager.default.isExecutableFile) else {
            return []
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import sys\nfor p in sys.path:\n    print(p)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return [] }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }()
}
