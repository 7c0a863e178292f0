import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Type conversions and arithmetic on one value: `int`, `float`, `bool`, `list`, `abs`, `round`, `type_debug`, `ternary`.
    static func registerConversionFilters(_ t: inout [String: FilterFunction]) {
        t["int"] = { c, input in
            let v = try c.input(input)
            let fallback = try c.value(0, "default") ?? .int(0)
            let base = try c.int(1, "base") ?? 10
            switch v {
            case .int: return .v(v)
            case .bool(let b): return .v(.int(b ? 1 : 0))
            case .double(let d):
                guard d.isFinite else { return .v(fallback) }
                // Beyond 64 bits Python keeps an exact bigint; the closest we have is the truncated double.
                return .v(Py.truncate(d).map { .int($0) } ?? .double(d.rounded(.towardZero)))
            case .string(let s):
                var text = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                if base == 16, text.lowercased().hasPrefix("0x") { text = String(text.dropFirst(2)) }
                if let i = Int(text, radix: base) { return .v(.int(i)) }
                if base == 10, let d = Double(text), let i = Py.truncate(d) { return .v(.int(i)) }
                return .v(fallback)
            default: return .v(fallback)
            }
        }
        t["float"] = { c, input in
            let v = try c.input(input)
            let fallback = try c.value(0, "default") ?? .double(0)
            switch v {
            case .double: return .v(v)
            case .int(let i): return .v(.double(Double(i)))
            case .bool(let b): return .v(.double(b ? 1 : 0))
            case .string(let s):
                let text = s.trimmingCharacters(in: .whitespaces).lowercased()
                if ["inf", "+inf", "infinity"].contains(text) { return .v(.double(.infinity)) }
                if ["-inf", "-infinity"].contains(text) { return .v(.double(-.infinity)) }
                if text == "nan" { return .v(.double(.nan)) }
                if let d = Double(text.replacingOccurrences(of: "_", with: "")), !text.hasPrefix("0x") { return .v(.double(d)) }
                return .v(fallback)
            default: return .v(fallback)
            }
        }
        t["bool"] = { c, input in
            let v = try c.input(input)
            return .v(.bool(Py.ansibleBool(v)))
        }
        t["list"] = { c, input in
            let v = try c.input(input)
            guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            return .v(.list(items))
        }
        t["abs"] = { c, input in
            let v = try c.input(input)
            switch v {
            case .int(let i): return .v(i == .min ? .double(-Double(i)) : .int(abs(i)))
            case .double(let d): return .v(.double(abs(d)))
            case .bool(let b): return .v(.int(b ? 1 : 0))
            default: throw c.error("bad operand type for abs(): '\(v.typeName)'")
            }
        }
        t["round"] = { c, input in
            let v = try c.input(input)
            guard let d = Py.asDouble(v) else { throw c.error("round: expected a number, got \(v.typeName)") }
            let precision = try c.int(0, "precision") ?? 0
            let method = try c.string(1, "method") ?? "common"
            let scale = pow(10.0, Double(precision))
            switch method {
            case "ceil": return .v(.double((d * scale).rounded(.up) / scale))
            case "floor": return .v(.double((d * scale).rounded(.down) / scale))
            default:
                // Python's round(): exact binary value, ties to even; printf rounds the same way.
                if case .int = v, precision >= 0 { return .v(v) }
                if precision == 0 { return .v(.double(d.rounded(.toNearestOrEven))) }
                let text = String(format: "%.\(max(precision, 0))f", d)
                return .v(.double(Double(text) ?? d))
            }
        }
        t["type_debug"] = { c, input in
            switch input {
            case .v(let v): return .v(.string(v.typeName))
            case .undefined: return .v(.string("Undefined"))
            case .obj(let o): return .v(.string(o.typeName))
            }
        }
        t["ternary"] = { c, input in
            let v = try c.input(input)
            if case .null = v, let noneValue = c.arg(2, "none_val") { return noneValue }
            return v.isTruthy ? (c.arg(0, "true_val") ?? .none) : (c.arg(1, "false_val") ?? .none)
        }
    }
}
