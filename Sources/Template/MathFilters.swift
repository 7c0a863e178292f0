import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Math: `pow`, `log`, `root`.
    static func registerMathFilters(_ t: inout [String: FilterFunction]) {
        t["pow"] = { c, input in
            .v(.double(pow(Py.asDouble(try c.input(input)) ?? 0, Py.asDouble(try c.value(0) ?? .int(1)) ?? 1)))
        }
        t["log"] = { c, input in
            let x = Py.asDouble(try c.input(input)) ?? 0
            if let base = try c.value(0).flatMap(Py.asDouble) { return .v(.double(Foundation.log(x) / Foundation.log(base))) }
            return .v(.double(Foundation.log(x)))
        }
        t["root"] = { c, input in
            let x = Py.asDouble(try c.input(input)) ?? 0
            let base = try c.value(0).flatMap(Py.asDouble) ?? 2
            return .v(.double(base == 2 ? x.squareRoot() : pow(x, 1 / base)))
        }
    }
}
