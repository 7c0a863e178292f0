import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Paths: `basename`, `dirname`, `expanduser`, `realpath`, `relpath`, `splitext`, `path_join`.
    static func registerPathFilters(_ t: inout [String: FilterFunction]) {
        t["basename"] = stringFilter { s in
            guard let i = s.lastIndex(of: "/") else { return s }
            return String(s[s.index(after: i)...])
        }
        t["dirname"] = stringFilter(dirname)
        t["expanduser"] = stringFilter { s in
            guard s == "~" || s.hasPrefix("~/") else { return s }
            let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
            return home + s.dropFirst()
        }
        t["realpath"] = stringFilter { s in URL(fileURLWithPath: s).resolvingSymlinksInPath().standardizedFileURL.path }
        t["relpath"] = { c, input in
            let path = Py.str(try c.input(input))
            let start = try c.string(0, "start") ?? "."
            guard !path.isEmpty else { throw c.error("no path specified") }
            return .v(.string(relativePath(path, from: start)))
        }
        t["splitext"] = { c, input in
            let s = Py.str(try c.input(input))
            let base = s.lastIndex(of: "/").map { s.index(after: $0) } ?? s.startIndex
            var dot = s.lastIndex(of: ".")
            if let d = dot, d <= base || s[base..<d].allSatisfy({ $0 == "." }) { dot = nil }
            guard let d = dot else { return .v(.list([.string(s), ""])) }
            return .v(.list([.string(String(s[..<d])), .string(String(s[d...]))]))
        }
        t["path_join"] = { c, input in
            let v = try c.input(input)
            let parts = v.listValue?.map { Py.str($0) } ?? [Py.str(v)]
            var out = ""
            for p in parts {
                if p.hasPrefix("/") { out = p } else if out.isEmpty || out.hasSuffix("/") { out += p } else { out += "/" + p }
            }
            return .v(.string(out))
        }
    }

    /// Python's `os.path.relpath(path, start)`: both made absolute against the working directory
    /// and normalized, then the walk from `start` to `path`.
    static func relativePath(_ path: String, from start: String) -> String {
        func components(_ p: String) -> [String] {
            let absolute = p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
            var parts: [String] = []
            for part in absolute.split(separator: "/") where part != "." {
                if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(String(part)) }
            }
            return parts
        }
        let target = components(path)
        let base = components(start)
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        let walk = Array(repeating: "..", count: base.count - common) + target[common...]
        return walk.isEmpty ? "." : walk.joined(separator: "/")
    }
}
