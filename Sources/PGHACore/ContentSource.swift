import BuiltinContent
import Foundation

/// The controller's files as the loader, the modules and the lookups read them: from the disk, or
/// from the roles and playbooks built into pgha-play, whose paths start with `builtin:`
/// (`builtin:roles/patroni/tasks/main.yml`). A built-in path joins, resolves `..` and names its
/// directory like any other, so content found in the built-in tree keeps resolving its templates,
/// files, vars and includes there, and errors in it name the file and line as on disk.
public enum ContentSource {
    public static let builtinPrefix = "builtin:"
    /// Where the built-in roles are (the last entry of every roles path).
    public static let builtinRoles = "builtin:roles"
    /// Where the built-in playbooks are (searched after the user's for a bare playbook name).
    public static let builtinPlaybooks = "builtin:playbooks"

    public static func isBuiltin(_ path: String) -> Bool { path.hasPrefix(builtinPrefix) }

    /// A regular file (or, on disk, a link to one).
    public static func isFile(_ path: String) -> Bool {
        if let relative = builtinRelative(path) { return BuiltinTree.shared.files[relative] != nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    public static func isDirectory(_ path: String) -> Bool {
        if let relative = builtinRelative(path) { return BuiltinTree.shared.directories[relative] != nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    public static func exists(_ path: String) -> Bool {
        if let relative = builtinRelative(path) {
            return BuiltinTree.shared.files[relative] != nil || BuiltinTree.shared.directories[relative] != nil
        }
        return FileManager.default.fileExists(atPath: path)
    }

    /// The file's bytes; nil when it does not exist or cannot be read.
    public static func contents(_ path: String) -> [UInt8]? {
        if let relative = builtinRelative(path) { return BuiltinTree.shared.files[relative]?.bytes }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// The file's permission bits (a built-in file's are 0755 or 0644); nil when unknown.
    public static func permissions(_ path: String) -> UInt32? {
        if let relative = builtinRelative(path) {
            return BuiltinTree.shared.files[relative].map { $0.isExecutable ? 0o755 : 0o644 }
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.posixPermissions] as? NSNumber).map { $0.uint32Value & 0o7777 }
    }

    /// The names in a directory, sorted; nil when it is not a directory.
    public static func entries(ofDirectory path: String) -> [String]? {
        if let relative = builtinRelative(path) { return BuiltinTree.shared.directories[relative] }
        return (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted()
    }

    /// Everything below `root` (directories and files, each path relative to `root`), sorted.
    public static func descendants(of root: String) -> [(relative: String, isDirectory: Bool)]? {
        guard isDirectory(root) else { return nil }
        if !isBuiltin(root) {
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { return nil }
            var relatives: [String] = []
            while let item = enumerator.nextObject() as? String { relatives.append(item) }
            return relatives.sorted().compactMap { relative in
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory) else { return nil }
                return (relative, isDirectory.boolValue)
            }
        }
        var result: [(relative: String, isDirectory: Bool)] = []
        func walk(_ directory: String, prefix: String) {
            for name in entries(ofDirectory: directory) ?? [] {
                let child = join(directory, name)
                let directoryChild = isDirectory(child)
                result.append((prefix + name, directoryChild))
                if directoryChild { walk(child, prefix: prefix + name + "/") }
            }
        }
        walk(root, prefix: "")
        return result.sorted { $0.relative < $1.relative }
    }

    /// `name` in `directory` (`name` itself when absolute), `.` and `..` resolved.
    public static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") || isBuiltin(name) { return standardize(name) }
        return standardize(directory + "/" + name)
    }

    /// The path with `.`, `..` and repeated slashes resolved; a built-in path never leaves the
    /// built-in tree (`builtin:roles/../..` is `builtin:`).
    public static func standardize(_ path: String) -> String {
        guard isBuiltin(path) else { return (path as NSString).standardizingPath }
        let relative = path.dropFirst(builtinPrefix.count)
        var components: [Substring] = []
        for component in relative.split(separator: "/") where component != "." {
            if component == ".." {
                _ = components.popLast()
            } else {
                components.append(component)
            }
        }
        return builtinPrefix + components.joined(separator: "/")
    }

    /// The directory holding `path` (`builtin:` for a top-level built-in entry).
    public static func directory(of path: String) -> String {
        if let relative = builtinRelative(standardize(path)) {
            guard let slash = relative.lastIndex(of: "/") else { return builtinPrefix }
            return builtinPrefix + relative[..<slash]
        }
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The path below the built-in root ("" for the root itself), or nil for a path on disk.
    static func builtinRelative(_ path: String) -> String? {
        guard isBuiltin(path) else { return nil }
        let relative = path.dropFirst(builtinPrefix.count)
        if !relative.contains("//") && !relative.hasPrefix("/") && !relative.hasSuffix("/")
            && !relative.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        {
            return String(relative)
        }
        return String(standardize(path).dropFirst(builtinPrefix.count))
    }
}

/// The built-in files indexed once: each file, and each directory's sorted entries.
struct BuiltinTree: Sendable {
    static let shared = BuiltinTree(BuiltinFiles.files)

    let files: [String: BuiltinFiles.File]
    /// Directory path ("" for the root) to the names it holds.
    let directories: [String: [String]]

    init(_ files: [String: BuiltinFiles.File]) {
        self.files = files
        var children: [String: Set<String>] = ["": []]
        for path in files.keys {
            var components = path.split(separator: "/").map(String.init)
            var name = components.removeLast()
            while true {
                let parent = components.joined(separator: "/")
                children[parent, default: []].insert(name)
                guard let last = components.popLast() else { break }
                name = last
            }
        }
        directories = children.mapValues { $0.sorted() }
    }
}
