import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Sequences: counting, ends, `join`, `flatten`, `sort`, `min`/`max`/`sum`, `batch`, `slice`, `zip`, `items`, `dictsort`, `groupby`.
    static func registerSequenceFilters(_ t: inout [String: FilterFunction]) {
        t["length"] = { c, input in
            // Counting a lazily templated container must not render its elements.
            if case .obj(let lazy as LazyContainer) = input, let n = Py.length(lazy.raw) { return .v(.int(n)) }
            if case .obj(let partial as PartialList) = input { return .v(.int(partial.items.count)) }
            let v = try c.input(input)
            guard let n = Py.length(v) else { throw c.error("object of type '\(v.typeName)' has no len()") }
            return .v(.int(n))
        }
        t["count"] = t["length"]
        t["first"] = { c, input in
            let v = try c.input(input)
            guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            return items.first.map { .v($0) } ?? .undefined(Undefined(message: "No first item, sequence was empty."))
        }
        t["last"] = { c, input in
            let v = try c.input(input)
            guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            return items.last.map { .v($0) } ?? .undefined(Undefined(message: "No last item, sequence was empty."))
        }
        t["reverse"] = { c, input in
            let v = try c.input(input)
            if case .string(let s) = v { return .v(.string(String(s.unicodeScalars.reversed().map(Character.init)))) }
            guard let items = Py.iterate(v) else { throw c.error("argument to reverse() must be a sequence") }
            return .v(.list(items.reversed()))
        }
        t["join"] = { c, input in
            let v = try c.input(input)
            let sep = try c.string(0, "d") ?? ""
            guard var items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            if let attr = try c.string(1, "attribute") {
                items = try items.map { try attribute($0, attr, c) }
            }
            return .v(.string(items.map { Py.str($0) }.joined(separator: sep)))
        }
        t["flatten"] = { c, input in
            let items = try iterable(c, input)
            let levels = try c.int(0, "levels")
            let skipNulls = try c.bool(1, "skip_nulls") ?? true
            func flat(_ l: [Value], _ depth: Int) -> [Value] {
                var out: [Value] = []
                for x in l {
                    if skipNulls, x.isNull || x == .string("None") { continue }
                    if case .list(let inner) = x, levels == nil || depth < levels! {
                        out += flat(inner, depth + 1)
                    } else {
                        out.append(x)
                    }
                }
                return out
            }
            return .v(.list(flat(items, 0)))
        }
        t["sort"] = { c, input in
            let items = try iterable(c, input)
            let reverse = try c.bool(0, "reverse") ?? false
            let caseSensitive = try c.bool(1, "case_sensitive") ?? false
            let attrs = try c.string(2, "attribute")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return .v(.list(try sortValues(items, reverse: reverse, caseSensitive: caseSensitive, attributes: attrs, c)))
        }
        func minmax(_ wantMax: Bool) -> FilterFunction {
            { c, input in
                let items = try iterable(c, input)
                let caseSensitive = try c.bool(0, "case_sensitive") ?? false
                let attrs = try c.string(1, "attribute").map { [$0] }
                let sorted = try sortValues(items, reverse: false, caseSensitive: caseSensitive, attributes: attrs, c)
                guard let v = wantMax ? try maxStable(items, sorted, caseSensitive, attrs, c) : sorted.first else {
                    return .undefined(Undefined(message: "No aggregated item, sequence was empty."))
                }
                return .v(v)
            }
        }
        t["min"] = minmax(false)
        t["max"] = minmax(true)
        t["sum"] = { c, input in
            var items = try iterable(c, input)
            if let attr = try c.string(0, "attribute") { items = try items.map { try attribute($0, attr, c) } }
            var total = try c.value(1, "start") ?? .int(0)
            for item in items { total = try Arithmetic.binary("+", total, item, line: c.line) }
            return .v(total)
        }
        t["batch"] = { c, input in
            let items = try iterable(c, input)
            let size = max(1, try c.int(0, "linecount") ?? 1)
            let fill = try c.value(1, "fill_with")
            var out: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(i + size, items.count)])
                if let fill, chunk.count < size { chunk += Array(repeating: fill, count: size - chunk.count) }
                out.append(.list(chunk))
                i += size
            }
            return .v(.list(out))
        }
        t["slice"] = { c, input in
            let items = try iterable(c, input)
            let slices = max(1, try c.int(0, "slices") ?? 1)
            let fill = try c.value(1, "fill_with")
            let perSlice = items.count / slices
            let withExtra = items.count % slices
            var offset = 0
            var out: [Value] = []
            for n in 0..<slices {
                let start = offset + n * perSlice
                if n < withExtra { offset += 1 }
                let end = offset + (n + 1) * perSlice
                var chunk = Array(items[min(start, items.count)..<min(end, items.count)])
                if let fill, n >= withExtra { chunk.append(fill) }
                out.append(.list(chunk))
            }
            return .v(.list(out))
        }
        t["zip"] = { c, input in
            var lists = [try iterable(c, input)]
            for a in c.args { lists.append(Py.iterate(try c.input(a)) ?? []) }
            let n = lists.map(\.count).min() ?? 0
            return .v(.list((0..<n).map { i in .list(lists.map { $0[i] }) }))
        }
        t["zip_longest"] = { c, input in
            var lists = [try iterable(c, input)]
            for a in c.args { lists.append(Py.iterate(try c.input(a)) ?? []) }
            let fill = try c.value(-1, "fillvalue") ?? .null
            let n = lists.map(\.count).max() ?? 0
            return .v(.list((0..<n).map { i in .list(lists.map { i < $0.count ? $0[i] : fill }) }))
        }
        t["items"] = { c, input in
            if case .undefined = input { return .v(.list([])) }
            let v = try c.input(input)
            guard case .dict(let d) = v else { throw c.error("Can only get item pairs from a mapping.") }
            return .v(.list(d.map { .list([.string($0.key), $0.value]) }))
        }
        t["dictsort"] = { c, input in
            let v = try c.input(input)
            guard case .dict(let d) = v else { throw c.error("You can only sort by either \"key\" or \"value\"") }
            let caseSensitive = try c.bool(0, "case_sensitive") ?? false
            let byValue = (try c.string(1, "by") ?? "key") == "value"
            let reverse = try c.bool(2, "reverse") ?? false
            let pairs: [Value] = d.map { .list([.string($0.key), $0.value]) }
            let sorted = try stableSort(pairs) { a, b in
                let x = a.listValue![byValue ? 1 : 0], y = b.listValue![byValue ? 1 : 0]
                return try compareForSort(x, y, caseSensitive: caseSensitive, c)
            }
            return .v(.list(reverse ? sorted.reversed() : sorted))
        }
        t["groupby"] = { c, input in
            let items = try iterable(c, input)
            let attr = try c.string(0, "attribute") ?? ""
            let fallback = try c.value(1, "default")
            let caseSensitive = try c.bool(2, "case_sensitive") ?? false
            let keyed: [(Value, Value)] = try items.map { item in
                if let k = lookupAttribute(item, attr) { return (k, item) }
                if let fallback { return (fallback, item) }
                throw TemplateRuntimeError(kind: .undefined, message: missingAttributeMessage(item, attr), line: c.line)
            }
            let sorted = try stableSort(keyed.map { Value.list([$0.0, $0.1]) }) { a, b in
                try compareForSort(a.listValue![0], b.listValue![0], caseSensitive: caseSensitive, c)
            }
            var groups: [(Value, [Value])] = []
            for pair in sorted {
                let k = pair.listValue![0], item = pair.listValue![1]
                let norm: (Value) -> Value = { v in
                    if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
                    return v
                }
                if let last = groups.last, Py.equals(norm(last.0), norm(k)) {
                    groups[groups.count - 1].1.append(item)
                } else {
                    groups.append((k, [item]))
                }
            }
            return .v(.list(groups.map { .list([$0.0, .list($0.1)]) }))
        }
    }
}
