import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Undefined values: `default` (`d`) and `mandatory`.
    static func registerUndefinedFilters(_ t: inout [String: FilterFunction]) {
        t["default"] = { c, input in
            let fallback = c.arg(0, "default_value") ?? .v(.string(""))
            let boolean = try c.bool(1, "boolean") ?? false
            switch input {
            case .undefined: return fallback
            case .v(let v) where boolean && !v.isTruthy: return fallback
            default: return input
            }
        }
        t["d"] = t["default"]
        t["mandatory"] = { c, input in
            if case .undefined(let u) = input {
                var name = u.message
                if name.hasPrefix("'"), name.hasSuffix("' is undefined") { name = String(name.dropFirst().dropLast(14)) }
                let msg = try c.string(0, "msg")
                throw TemplateRuntimeError.template(msg ?? "Mandatory variable '\(name)' not defined.", line: c.line)
            }
            return input
        }
    }
}
