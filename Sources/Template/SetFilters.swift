import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Set operations that keep order, as Ansible's: `unique`, `union`, `intersect`, `difference`, `symmetric_difference`.
    static func registerSetFilters(_ t: inout [String: FilterFunction]) {
        t["unique"] = { c, input in
            let items = try iterable(c, input)
            let caseSensitive = try c.bool(0, "case_sensitive") ?? false
            let attr = try c.string(1, "attribute")
            var seen: [Value] = []
            var out: [Value] = []
            for item in items {
                var key = try attr.map { try attribute(item, $0, c) } ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                if !seen.contains(where: { Py.equals($0, key) }) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .v(.list(out))
        }
        t["union"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            return .v(.list(uniqueExact(a + b)))
        }
        t["intersect"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            return .v(.list(uniqueExact(a.filter { x in b.contains { Py.equals($0, x) } })))
        }
        t["difference"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            return .v(.list(uniqueExact(a.filter { x in !b.contains { Py.equals($0, x) } })))
        }
        t["symmetric_difference"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            let both = a.filter { x in b.contains { Py.equals($0, x) } }
            return .v(.list(uniqueExact(a + b).filter { x in !both.contains { Py.equals($0, x) } }))
        }
    }
}
