import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Mappings: `combine`, `dict2items`, `items2dict`, `extract`, `subelements`, `product`.
    static func registerDictionaryFilters(_ t: inout [String: FilterFunction]) {
        t["combine"] = { c, input in
            var result = try c.input(input)
            let recursive = try c.bool(-1, "recursive") ?? false
            let listMerge = try c.string(-1, "list_merge") ?? "replace"
            var terms: [Value] = []
            for a in c.args {
                let v = try c.input(a)
                if case .list(let l) = v { terms += l } else { terms.append(v) }
            }
            if case .list(let l) = result {
                guard let first = l.first else { return .v(.dict([:])) }
                terms = Array(l.dropFirst()) + terms
                result = first
            }
            for term in terms {
                guard case .dict = result, case .dict = term else {
                    throw c.error("failed to combine variables, expected dicts but got '\(result.typeName)' and '\(term.typeName)'")
                }
                result = combine(result, term, recursive: recursive, listMerge: listMerge)
            }
            return .v(result)
        }
        t["dict2items"] = { c, input in
            let v = try c.input(input)
            guard case .dict(let d) = v else { throw c.error("dict2items requires a dictionary, got \(v.typeName) instead.") }
            let k = try c.string(0, "key_name") ?? "key", vn = try c.string(1, "value_name") ?? "value"
            return .v(.list(d.map { .dict([k: .string($0.key), vn: $0.value]) }))
        }
        t["items2dict"] = { c, input in
            let v = try c.input(input)
            guard case .list(let l) = v else { throw c.error("items2dict requires a list, got \(v.typeName) instead.") }
            let k = try c.string(0, "key_name") ?? "key", vn = try c.string(1, "value_name") ?? "value"
            var d = OrderedDictionary<String, Value>()
            for item in l {
                guard case .dict(let entry) = item, let key = entry[k], let value = entry[vn] else {
                    throw c.error("items2dict requires each element to have '\(k)' and '\(vn)' keys")
                }
                d[key.stringValue ?? Py.str(key)] = value
            }
            return .v(.dict(d))
        }
        t["extract"] = { c, input in
            let key = try c.input(input)
            guard let container = try c.value(0, "container") else { throw c.error("extract needs a container") }
            var result = try c.renderer.getitem(.v(container), key, line: c.line)
            if let more = try c.value(1, "morekeys") {
                for k in more.listValue ?? [more] { result = try c.renderer.getitem(result, k, line: c.line) }
            }
            return result
        }
        t["subelements"] = { c, input in
            let v = try c.input(input)
            let elements: [Value]
            switch v {
            case .dict(let d): elements = Array(d.values)
            case .list(let l): elements = l
            default: throw c.error("obj must be a list of dicts or a nested dict")
            }
            let spec = try c.value(0, "subelements") ?? .string("")
            let path: [String] = spec.listValue?.map { Py.str($0) } ?? Py.str(spec).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let skipMissing = try c.bool(1, "skip_missing") ?? false
            var out: [Value] = []
            for element in elements {
                var values = element
                for key in path {
                    guard case .dict(let d) = values else {
                        throw c.error("the key \(key) should point to a dictionary, got '\(Py.str(values))'")
                    }
                    guard let next = d[key] else {
                        if skipMissing { values = .list([]); break }
                        throw c.error("could not find '\(key)' key in iterated item \(Py.repr(values))")
                    }
                    values = next
                }
                guard case .list(let items) = values else {
                    throw c.error("the key '\(path.joined(separator: "."))' should point to a list, got \(Py.repr(values))")
                }
                for item in items { out.append(.list([element, item])) }
            }
            return .v(.list(out))
        }
        t["product"] = { c, input in
            var lists = [try iterable(c, input)]
            for a in c.args { lists.append(Py.iterate(try c.input(a)) ?? []) }
            var out: [[Value]] = [[]]
            for list in lists { out = out.flatMap { prefix in list.map { prefix + [$0] } } }
            return .v(.list(out.map { .list($0) }))
        }
    }
}
