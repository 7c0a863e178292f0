import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Strings: case, trimming, splitting, indenting, `format`, `quote`, `strftime`.
    static func registerStringFilters(_ t: inout [String: FilterFunction]) {
        t["lower"] = stringFilter { $0.lowercased() }
        t["upper"] = stringFilter { $0.uppercased() }
        t["title"] = stringFilter(Methods.titleCase)
        t["capitalize"] = stringFilter(Methods.capitalize)
        t["string"] = stringFilter { $0 }
        t["trim"] = { c, input in
            let s = Py.str(try c.input(input))
            return .v(.string(Methods.pyStrip(s, chars: try c.string(0, "chars"), left: true, right: true)))
        }
        t["replace"] = { c, input in
            let s = Py.str(try c.input(input))
            let m = try Methods.stringMethod(Call(renderer: c.renderer, args: c.args, kwargs: [], line: c.line, name: "replace"), s, "replace")
            return .v(m)
        }
        t["split"] = { c, input in
            let s = Py.str(try c.input(input))
            return .v(try Methods.stringMethod(c, s, "split"))
        }
        t["center"] = { c, input in
            let s = Py.str(try c.input(input))
            let width = try c.int(0, "width") ?? 80
            return .v(try Methods.stringMethod(
                Call(renderer: c.renderer, args: [.v(.int(width))], kwargs: [], line: c.line, name: "center"), s, "center"))
        }
        t["wordcount"] = { c, input in
            let s = Py.str(try c.input(input))
            let words = s.unicodeScalars.split { !($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }
            return .v(.int(words.count))
        }
        t["indent"] = { c, input in
            let s = Py.str(try c.input(input))
            let widthValue = try c.value(0, "width") ?? .int(4)
            let indention: String
            if case .string(let w) = widthValue { indention = w } else { indention = String(repeating: " ", count: max(0, Py.asInt(widthValue) ?? 4)) }
            let first = try c.bool(1, "first") ?? false
            let blank = try c.bool(2, "blank") ?? false
            var lines = (s + "\n").components(separatedBy: "\n")
            lines.removeLast()
            var rv: String
            if blank {
                rv = lines.joined(separator: "\n" + indention)
            } else {
                rv = lines.removeFirst()
                if !lines.isEmpty {
                    rv += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
                }
            }
            if first { rv = indention + rv }
            return .v(.string(rv))
        }
        t["format"] = { c, input in
            let fmt = Py.str(try c.input(input))
            var args: [Value] = []
            for a in c.args { args.append(try c.input(a)) }
            if !c.kwargs.isEmpty {
                var d = OrderedDictionary<String, Value>()
                for (k, v) in c.kwargs { d[k] = try c.input(v) }
                return .v(.string(try PyFormat.percent(fmt, .dict(d), line: c.line)))
            }
            return .v(.string(try PyFormat.percent(fmt, args: args, line: c.line)))
        }
        t["quote"] = { c, input in .v(.string(shellQuote(Py.str(try c.input(input))))) }
        t["strftime"] = PyTime.filter
        t["to_datetime"] = DateTimeObject.filter
    }
}
