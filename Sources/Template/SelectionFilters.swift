import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Picking by test or attribute: `map`, `select`, `reject`, `selectattr`, `rejectattr`, `attr`.
    static func registerSelectionFilters(_ t: inout [String: FilterFunction]) {
        t["map"] = { c, input in
            let items = try iterable(c, input)
            if let attr = try c.string(-1, "attribute") {
                let fallback = try c.value(-1, "default")
                return .v(.list(try items.map { item in
                    if let v = lookupAttribute(item, attr) { return v }
                    if let fallback { return fallback }
                    throw TemplateRuntimeError(kind: .undefined, message: missingAttributeMessage(item, attr), line: c.line)
                }))
            }
            guard let filterName = try c.string(0) else { return .v(.list(items)) }
            let rest = Array(c.args.dropFirst())
            return .v(.list(try items.map { item in
                try c.renderer.value(try c.renderer.applyFilter(filterName, .v(item), rest, c.kwargs, line: c.line), line: c.line)
            }))
        }
        func selectFilter(attr: Bool, keep: Bool) -> FilterFunction {
            { c, input in
                let subjects: [RV]
                if case .obj(let partial as PartialList) = input { subjects = partial.items } else {
                    subjects = try iterable(c, input).map { .v($0) }
                }
                var offset = 0
                var attrName: String?
                if attr {
                    attrName = try c.string(0) ?? ""
                    offset = 1
                }
                let testName = try c.string(offset)
                let testArgs = Array(c.args.dropFirst(offset + 1))
                let kept = try subjects.filter { element in
                    var subject = element
                    if let attrName {
                        let item = try c.input(element)
                        subject = lookupAttribute(item, attrName).map { .v($0) }
                            ?? .undefined(Undefined(message: missingAttributeMessage(item, attrName)))
                    }
                    let result: Bool
                    if let testName {
                        result = try c.renderer.applyTest(testName, subject, testArgs, c.kwargs, line: c.line)
                    } else {
                        result = try c.renderer.truthy(subject, line: c.line)
                    }
                    return result == keep
                }
                return .v(.list(try kept.map { try c.input($0) }))
            }
        }
        t["select"] = selectFilter(attr: false, keep: true)
        t["reject"] = selectFilter(attr: false, keep: false)
        t["selectattr"] = selectFilter(attr: true, keep: true)
        t["rejectattr"] = selectFilter(attr: true, keep: false)
        t["attr"] = { c, input in
            // Python getattr only: no fallback to dictionary keys.
            let name = try c.string(0, "name") ?? ""
            switch input {
            case .undefined: return input
            case .obj(let o): return o.attribute(name) ?? .undefined(Undefined(message: "object of type '\(o.typeName)' has no attribute '\(name)'"))
            case .v(let v):
                if Methods.has(v, name) { return .obj(BoundMethod(v, name)) }
                return .undefined(Undefined(message: "object of type '\(v.typeName)' has no attribute '\(name)'"))
            }
        }
    }
}
