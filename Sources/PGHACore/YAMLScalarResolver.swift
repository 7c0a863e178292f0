/// Scalars typed as Ansible's YAML loader types them: PyYAML's YAML 1.1 `Resolver` picks a tag for
/// each plain scalar and `SafeConstructor` builds the value.
///
/// The rules are PyYAML's, character for character: booleans only in three spellings each
/// (`yes`, `Yes`, `YES`, ...), integers with `0b`, `0x`, a leading `0` (octal) or `:` groups of
/// `[0-5]?[0-9]` (base 60, so `10:30` is 630 but `10:30:60` stays text), floats that need a dot
/// (`1e3` is text, `1.0e+3` a float), no `0o` prefix (`0o17` is text), timestamps, and `=` or `<<`
/// as a value failing as PyYAML fails. Timestamps become their ISO 8601 text (`2001-12-14`,
/// `2001-12-14T21:59:43.100000-05:00`), the form Ansible prints them in.
/// `Tests/IntegrationTests/YAMLScalarDifferentialTests` compares these rules with PyYAML over a
/// generated corpus.
enum YAMLScalarResolver {
    /// A scalar's value from its tag: `tag` is "" for a plain scalar without one (resolved
    /// implicitly), or the explicit or quoted scalar's tag.
    ///
    /// A plain `<<` key is a merge key, taken apart by the mapping before any value is built, and a
    /// plain `=` key is text; as values neither has a constructor.
    static func value(of text: String, tag: String, isKey: Bool = false) throws(ScalarError) -> Value {
        let core = "tag:yaml.org,2002:"
        guard tag.isEmpty || tag.hasPrefix(core) else { return .string(text) }
        let name = tag.isEmpty ? implicitTag(of: Array(text.utf8)) : String(tag.dropFirst(core.count))
        if (name == "merge" || name == "value") && isKey { return .string(text) }
        return try construct(name, text)
    }

    /// Why a scalar has no value (PyYAML raises a ConstructorError or a ValueError).
    struct ScalarError: Error {
        var message: String
    }

    // MARK: - Resolution (yaml/resolver.py's implicit resolvers, in their order)

    static func implicitTag(of bytes: [UInt8]) -> String {
        guard let first = bytes.first else { return "null" }
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"),
            UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            if booleans[String(decoding: bytes, as: UTF8.self)] != nil { return "bool" }
            if ["null", "Null", "NULL"].contains(String(decoding: bytes, as: UTF8.self)) { return "null" }
            return "str"
        case UInt8(ascii: "~"):
            return bytes.count == 1 ? "null" : "str"
        case UInt8(ascii: "="):
            return bytes.count == 1 ? "value" : "str"
        case UInt8(ascii: "<"):
            return bytes == Array("<<".utf8) ? "merge" : "str"
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if isFloat(bytes) { return "float" }
            if isInt(bytes) { return "int" }
            if isTimestamp(bytes) { return "timestamp" }
            return "str"
        default:
            return "str"
        }
    }

    static let booleans: [String: Bool] = [
        "yes": true, "Yes": true, "YES": true, "no": false, "No": false, "NO": false,
        "true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false,
        "on": true, "On": true, "ON": true, "off": false, "Off": false, "OFF": false,
    ]

    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    private static func isDigitOrUnderscore(_ b: UInt8) -> Bool { isDigit(b) || b == UInt8(ascii: "_") }

    /// A cursor over the scalar's bytes for the hand-written patterns below.
    private struct Scan {
        let bytes: [UInt8]
        var index = 0
        var atEnd: Bool { index == bytes.count }
        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func take(_ byte: Character) -> Bool {
            guard let current, current == byte.asciiValue else { return false }
            index += 1
            return true
        }

        mutating func takeSign() { if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { index += 1 } }

        /// Consumes bytes while `predicate` holds; how many it took.
        @discardableResult
        mutating func takeWhile(_ predicate: (UInt8) -> Bool) -> Int {
            let start = index
            while let current, predicate(current) { index += 1 }
            return index - start
        }

        /// `[0-5]?[0-9]`, greedy as Python's regular expressions are, backtracking to one digit.
        mutating func takeSexagesimalDigits() -> Bool {
            guard let first = current, isDigit(first) else { return false }
            if first <= UInt8(ascii: "5"), index + 1 < bytes.count, isDigit(bytes[index + 1]) {
                index += 2
            } else {
                index += 1
            }
            return true
        }

        /// `(?::[0-5]?[0-9])+`
        mutating func takeSexagesimalGroups() -> Bool {
            var groups = 0
            while current == UInt8(ascii: ":") {
                let save = index
                index += 1
                guard takeSexagesimalDigits() else {
                    index = save
                    break
                }
                groups += 1
            }
            return groups > 0
        }

        /// `(?:[eE][-+][0-9]+)?`
        mutating func takeOptionalExponent() {
            guard current == UInt8(ascii: "e") || current == UInt8(ascii: "E") else { return }
            let save = index
            index += 1
            guard current == UInt8(ascii: "-") || current == UInt8(ascii: "+") else {
                index = save
                return
            }
            index += 1
            if takeWhile(isDigit) == 0 { index = save }
        }
    }

    /// `[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)? | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    /// | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`
    static func isFloat(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        if [".nan", ".NaN", ".NAN"].contains(text) { return true }
        var unsigned = Substring(text)
        if let first = unsigned.first, first == "-" || first == "+" { unsigned = unsigned.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(unsigned) { return true }
        // `.5`: a leading dot, without a sign.
        var scan = Scan(bytes: bytes)
        if scan.take(".") {
            guard let digit = scan.current, isDigit(digit) else { return false }
            scan.takeWhile(isDigitOrUnderscore)
            scan.takeOptionalExponent()
            return scan.atEnd
        }
        // `1.5e+3` or `1:30.5`.
        for sexagesimal in [false, true] {
            var scan = Scan(bytes: bytes)
            scan.takeSign()
            guard let digit = scan.current, isDigit(digit) else { return false }
            scan.takeWhile(isDigitOrUnderscore)
            if sexagesimal {
                guard scan.takeSexagesimalGroups() else { continue }
            }
            guard scan.take(".") else { continue }
            scan.takeWhile(isDigitOrUnderscore)
            if !sexagesimal { scan.takeOptionalExponent() }
            if scan.atEnd { return true }
        }
        return false
    }

    /// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    /// | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
    static func isInt(_ bytes: [UInt8]) -> Bool {
        var start = Scan(bytes: bytes)
        start.takeSign()
        let body = Array(bytes[start.index...])
        guard let first = body.first, isDigit(first) else { return false }
        func all(_ slice: ArraySlice<UInt8>, _ predicate: (UInt8) -> Bool) -> Bool {
            !slice.isEmpty && slice.allSatisfy(predicate)
        }
        if first == UInt8(ascii: "0") {
            if body.count == 1 { return true }
            if body[1] == UInt8(ascii: "b") { return all(body[2...], { $0 == 48 || $0 == 49 || $0 == UInt8(ascii: "_") }) }
            if body[1] == UInt8(ascii: "x") {
                return all(body[2...], { isDigit($0) || $0 == UInt8(ascii: "_") || (65...70).contains($0) || (97...102).contains($0) })
            }
            return all(body[1...], { (48...55).contains($0) || $0 == UInt8(ascii: "_") })
        }
        var scan = Scan(bytes: body)
        scan.takeWhile(isDigitOrUnderscore)
        if scan.atEnd { return true }
        return scan.takeSexagesimalGroups() && scan.atEnd
    }

    /// `[0-9]{4}-[0-9]{2}-[0-9]{2}`, or a date with one- or two-digit month and day followed by
    /// `T`, `t` or blanks, a time `H?H:MM:SS`, an optional fraction and an optional zone.
    static func isTimestamp(_ bytes: [UInt8]) -> Bool { timestampFields(bytes, strictDate: true) != nil }

    /// The fields of a timestamp as PyYAML's `timestamp_regexp` groups them.
    private struct TimestampFields {
        var year = 0, month = 0, day = 0
        var time: (hour: Int, minute: Int, second: Int, fraction: [UInt8])?
        /// The offset in minutes; nil without a zone, 0 for `Z`.
        var zone: (sign: Int, hours: Int, minutes: Int)?
    }

    /// `strictDate` is the resolver's form (a bare date needs `YYYY-MM-DD`); the constructor's
    /// pattern accepts one-digit months and days everywhere.
    private static func timestampFields(_ bytes: [UInt8], strictDate: Bool) -> TimestampFields? {
        var scan = Scan(bytes: bytes)
        func number(min: Int, max: Int) -> Int? {
            let start = scan.index
            while scan.index - start < max, let b = scan.current, isDigit(b) { scan.index += 1 }
            guard scan.index - start >= min else { return nil }
            return bytes[start..<scan.index].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        var fields = TimestampFields()
        guard let year = number(min: 4, max: 4), scan.take("-"), let month = number(min: 1, max: 2), scan.take("-"),
            let day = number(min: 1, max: 2)
        else { return nil }
        (fields.year, fields.month, fields.day) = (year, month, day)
        if scan.atEnd {
            return !strictDate || bytes.count == 10 ? fields : nil
        }
        if !scan.take("T") && !scan.take("t") {
            guard scan.takeWhile({ $0 == 32 || $0 == 9 }) > 0 else { return nil }
        }
        guard let hour = number(min: 1, max: 2), scan.take(":"), let minute = number(min: 2, max: 2), scan.take(":"),
            let second = number(min: 2, max: 2)
        else { return nil }
        var fraction: [UInt8] = []
        if scan.take(".") {
            let start = scan.index
            scan.takeWhile(isDigit)
            fraction = Array(bytes[start..<scan.index])
        }
        fields.time = (hour, minute, second, fraction)
        scan.takeWhile { $0 == 32 || $0 == 9 }
        if scan.take("Z") {
            fields.zone = (1, 0, 0)
        } else if let sign = scan.current, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            scan.index += 1
            guard let hours = number(min: 1, max: 2) else { return nil }
            var minutes = 0
            if scan.current == UInt8(ascii: ":") {
                scan.index += 1
                guard let value = number(min: 2, max: 2) else { return nil }
                minutes = value
            }
            fields.zone = (sign == UInt8(ascii: "-") ? -1 : 1, hours, minutes)
        }
        return scan.atEnd ? fields : nil
    }

    // MARK: - Construction (yaml/constructor.py's SafeConstructor)

    static func construct(_ tag: String, _ text: String) throws(ScalarError) -> Value {
        switch tag {
        case "str": return .string(text)
        case "null": return .null
        case "bool":
            guard let value = booleans[text.lowercased()] else {
                throw ScalarError(message: "could not convert '\(text)' to a boolean")
            }
            return .bool(value)
        case "int": return try integer(text)
        case "float": return try float(text)
        case "timestamp": return try timestamp(text)
        default:
            throw ScalarError(message: "could not determine a constructor for the tag 'tag:yaml.org,2002:\(tag)'")
        }
    }

    private static func integer(_ text: String) throws(ScalarError) -> Value {
        var value = text.replacingOccurrences(of: "_", with: "")
        var sign = 1
        if value.hasPrefix("-") { sign = -1 }
        if value.hasPrefix("-") || value.hasPrefix("+") { value.removeFirst() }
        let invalid = ScalarError(message: "invalid literal for an integer: '\(text)'")
        if value == "0" { return .int(0) }
        let magnitude: Int?
        if value.hasPrefix("0b") {
            magnitude = Int(value.dropFirst(2), radix: 2)
        } else if value.hasPrefix("0x") {
            magnitude = Int(value.dropFirst(2), radix: 16)
        } else if value.hasPrefix("0") {
            magnitude = Int(value, radix: 8)
        } else if value.contains(":") {
            var total = 0
            for part in value.split(separator: ":", omittingEmptySubsequences: false) {
                guard let digit = Int(part) else { throw invalid }
                let (product, overflow) = total.multipliedReportingOverflow(by: 60)
                guard !overflow else { throw invalid }
                total = product + digit
            }
            magnitude = total
        } else {
            magnitude = Int(value)
        }
        // Beyond 64 bits (Python's ints have no limit) the text is kept.
        guard let magnitude else {
            if !value.isEmpty, value.utf8.allSatisfy(isDigit) { return .string(text) }
            throw invalid
        }
        return .int(sign * magnitude)
    }

    private static func float(_ text: String) throws(ScalarError) -> Value {
        var value = text.replacingOccurrences(of: "_", with: "").lowercased()
        var sign = 1.0
        if value.hasPrefix("-") { sign = -1 }
        if value.hasPrefix("-") || value.hasPrefix("+") { value.removeFirst() }
        if value == ".inf" { return .double(sign * .infinity) }
        if value == ".nan" { return .double(.nan) }
        let invalid = ScalarError(message: "could not convert string to float: '\(text)'")
        if value.contains(":") {
            // Summed from the last group up, as PyYAML does (the rounding of the sum follows it).
            var total = 0.0
            var base = 1.0
            for part in value.split(separator: ":", omittingEmptySubsequences: false).reversed() {
                guard let digit = pythonFloat(String(part)) else { throw invalid }
                total += digit * base
                base *= 60
            }
            return .double(sign * total)
        }
        guard let parsed = pythonFloat(value) else { throw invalid }
        return .double(sign * parsed)
    }

    /// Python's float() of the digits, dot and exponent the patterns allow (`1.`, `.5`, `1.e+3`).
    private static func pythonFloat(_ text: String) -> Double? {
        var normalized = text
        if normalized.hasPrefix(".") { normalized = "0" + normalized }
        if let dot = normalized.firstIndex(of: ".") {
            let after = normalized.index(after: dot)
            if after == normalized.endIndex || normalized[after] == "e" {
                normalized.insert("0", at: after)
            }
        }
        return Double(normalized)
    }

    private static func timestamp(_ text: String) throws(ScalarError) -> Value {
        guard let fields = timestampFields(Array(text.utf8), strictDate: false) else {
            throw ScalarError(message: "'\(text)' is not a timestamp")
        }
        let daysInMonth = [31, isLeapYear(fields.year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard fields.year >= 1, (1...12).contains(fields.month), fields.day >= 1, fields.day <= daysInMonth[fields.month - 1] else {
            throw ScalarError(message: "'\(text)' is not a valid date")
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var iso = "\(pad(fields.year, 4))-\(pad(fields.month, 2))-\(pad(fields.day, 2))"
        guard let time = fields.time else { return .string(iso) }
        guard time.hour < 24, time.minute < 60, time.second < 60 else {
            throw ScalarError(message: "'\(text)' is not a valid time")
        }
        iso += "T\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2))"
        // Microseconds: the first six digits, padded; none shown when they are all zero.
        let micro = (Array(time.fraction.prefix(6)) + Array(repeating: UInt8(ascii: "0"), count: 6)).prefix(6)
        if micro.contains(where: { $0 != UInt8(ascii: "0") }) { iso += "." + String(decoding: micro, as: UTF8.self) }
        if let zone = fields.zone {
            let offset = zone.hours * 60 + zone.minutes
            guard offset < 24 * 60 else { throw ScalarError(message: "'\(text)' has an offset of a day or more") }
            iso += (zone.sign < 0 && offset > 0 ? "-" : "+") + pad(offset / 60, 2) + ":" + pad(offset % 60, 2)
        }
        return .string(iso)
    }

    private static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
}
