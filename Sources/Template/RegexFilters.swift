import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// Regular expressions (Python's `re`): `regex_escape`, `regex_replace`, `regex_search`, `regex_findall`.
    static func registerRegexFilters(_ t: inout [String: FilterFunction]) {
        t["regex_escape"] = stringFilter { s in
            var out = ""
            for ch in s.unicodeScalars {
                if ch.properties.isAlphabetic || ("0"..."9").contains(ch) || ch == "_" || ch.value > 127 {
                    out.unicodeScalars.append(ch)
                } else {
                    out += "\\" + String(ch)
                }
            }
            return out
        }
        t["regex_replace"] = { c, input in
            let s = Py.str(try c.input(input))
            let pattern = try c.string(0, "pattern") ?? ""
            let replacement = try c.string(1, "replacement") ?? ""
            let re = try PyRegex.compile(pattern, ignoreCase: try c.bool(2, "ignorecase") ?? false,
                                         multiline: try c.bool(3, "multiline") ?? false, line: c.line)
            return .v(.string(PyRegex.sub(re, replacement, s, count: try c.int(4, "count") ?? 0)))
        }
        t["regex_search"] = { c, input in
            let s = Py.str(try c.input(input))
            let pattern = try c.string(0, "regex") ?? ""
            let re = try PyRegex.compile(pattern, ignoreCase: try c.kwBool("ignorecase"), multiline: try c.kwBool("multiline"), line: c.line)
            guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return .none }
            if c.args.count > 1 {
                var out: [Value] = []
                for a in c.args.dropFirst() {
                    let spec = Py.str(try c.input(a))
                    if spec.hasPrefix("\\g<"), spec.hasSuffix(">") {
                        let name = String(spec.dropFirst(3).dropLast())
                        if let n = Int(name) { out.append(PyRegex.group(m, n, in: s)) } else {
                            let r = m.range(withName: name)
                            out.append(r.location == NSNotFound ? .null : .string((s as NSString).substring(with: r)))
                        }
                    } else if spec.hasPrefix("\\"), let n = Int(spec.dropFirst()) {
                        out.append(PyRegex.group(m, n, in: s))
                    } else {
                        throw c.error("Unknown argument")
                    }
                }
                return .v(.list(out))
            }
            return .v(PyRegex.group(m, 0, in: s))
        }
        t["regex_findall"] = { c, input in
            let s = Py.str(try c.input(input))
            let pattern = try c.string(0, "regex") ?? ""
            let re = try PyRegex.compile(pattern, ignoreCase: try c.bool(2, "ignorecase") ?? c.kwBool("ignorecase"),
                                         multiline: try c.bool(1, "multiline") ?? c.kwBool("multiline"), line: c.line)
            let matches = re.matches(in: s, range: NSRange(s.startIndex..., in: s))
            return .v(.list(matches.map { m in
                let groups = re.numberOfCaptureGroups
                if groups == 0 { return PyRegex.group(m, 0, in: s, empty: true) }
                if groups == 1 { return PyRegex.group(m, 1, in: s, empty: true) }
                return .list((1...groups).map { PyRegex.group(m, $0, in: s, empty: true) })
            }))
        }
    }
}
