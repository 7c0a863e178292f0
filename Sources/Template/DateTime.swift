import Foundation
import PGHACore

/// Python's `datetime` as Ansible's `now()` and `to_datetime` return it: prints as
/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, with the attributes and the methods (`strftime`, `isoformat`,
/// `timestamp`) templates use; subtracting one from another gives a `timedelta`.
final class DateTimeObject: RObject {
    let seconds: Int
    let microseconds: Int
    let utc: Bool
    let fields: tm

    init(date: Date, utc: Bool) {
        let interval = date.timeIntervalSince1970
        seconds = Int(interval.rounded(.down))
        microseconds = Int(((interval - Double(seconds)) * 1_000_000).rounded(.down))
        self.utc = utc
        fields = PyTime.fields(seconds, utc: utc)
    }

    /// A naive datetime from its fields (as `strptime` makes it); its timestamp is local time's.
    init(fields: tm, microseconds: Int) {
        var normalized = fields
        normalized.tm_isdst = -1
        var copy = normalized
        seconds = Int(mktime(&copy))
        self.microseconds = microseconds
        utc = false
        // mktime fills in the weekday and day of the year.
        normalized.tm_wday = copy.tm_wday
        normalized.tm_yday = copy.tm_yday
        self.fields = normalized
    }

    /// The wall-clock fields as if they were UTC: the difference of two naive datetimes, as Python
    /// subtracts them, ignores time zones.
    var wallClockSeconds: Int {
        var copy = fields
        return Int(timegm(&copy))
    }

    /// `a - b` for two datetimes: a timedelta; nil for any other operands.
    static func subtract(_ a: RV, _ b: RV) -> RV? {
        guard case .obj(let left as DateTimeObject) = a, case .obj(let right as DateTimeObject) = b else { return nil }
        let micro = (left.wallClockSeconds - right.wallClockSeconds) * 1_000_000 + left.microseconds - right.microseconds
        return .obj(TimeDeltaObject(microseconds: micro))
    }

    override var typeName: String { "datetime" }

    override var asValue: Value? { .string(isoformat(separator: " ")) }

    func isoformat(separator: String) -> String {
        let base = PyTime.strftime("%Y-%m-%d\(separator)%H:%M:%S", fields, microseconds: microseconds)
        return microseconds == 0 ? base : base + String(format: ".%06d", microseconds)
    }

    override func attribute(_ name: String) -> RV? {
        switch name {
        case "year": return .v(.int(Int(fields.tm_year) + 1900))
        case "month": return .v(.int(Int(fields.tm_mon) + 1))
        case "day": return .v(.int(Int(fields.tm_mday)))
        case "hour": return .v(.int(Int(fields.tm_hour)))
        case "minute": return .v(.int(Int(fields.tm_min)))
        case "second": return .v(.int(Int(fields.tm_sec)))
        case "microsecond": return .v(.int(microseconds))
        case "strftime":
            return .obj(BuiltinFunction("strftime") { r, args, kwargs, line in
                let c = Call(renderer: r, args: args, kwargs: kwargs, line: line, name: "strftime")
                guard let format = try c.string(0, "format") else { throw c.error("strftime() missing argument 'format'") }
                return .v(.string(PyTime.strftime(format, self.fields, microseconds: self.microseconds)))
            })
        case "isoformat":
            return .obj(BuiltinFunction("isoformat") { r, args, kwargs, line in
                let c = Call(renderer: r, args: args, kwargs: kwargs, line: line, name: "isoformat")
                return .v(.string(self.isoformat(separator: try c.string(0, "sep") ?? "T")))
            })
        case "timestamp":
            return .obj(BuiltinFunction("timestamp") { _, _, _, _ in
                .v(.double(Double(self.seconds) + Double(self.microseconds) / 1_000_000))
            })
        case "weekday":
            return .obj(BuiltinFunction("weekday") { _, _, _, _ in .v(.int((Int(self.fields.tm_wday) + 6) % 7)) })
        default: return nil
        }
    }

    /// Ansible's `to_datetime(format='%Y-%m-%d %H:%M:%S')`: `datetime.strptime`.
    static func filter(_ c: Call, _ input: RV) throws -> RV {
        let text = Py.str(try c.input(input))
        let format = try c.string(0, "format") ?? "%Y-%m-%d %H:%M:%S"
        guard let parsed = PyTime.strptime(text, format) else {
            throw c.error("time data '\(text)' does not match format '\(format)'")
        }
        return .obj(DateTimeObject(fields: parsed.fields, microseconds: parsed.microseconds))
    }

    /// Ansible's `now(utc=False, fmt=None)`: the controller's time, formatted when `fmt` is given.
    static func now(_ r: Renderer, _ args: [RV], _ kwargs: [(String, RV)], _ line: Int) throws -> RV {
        let c = Call(renderer: r, args: args, kwargs: kwargs, line: line, name: "now")
        let now = DateTimeObject(date: Date(), utc: try c.bool(0, "utc") ?? false)
        if let format = try c.string(1, "fmt") {
            return .v(.string(PyTime.strftime(format, now.fields, microseconds: now.microseconds)))
        }
        return .obj(now)
    }
}

/// Python's `timedelta`: what subtracting two datetimes gives. Prints as `[D day[s], ]H:MM:SS[.ffffff]`.
final class TimeDeltaObject: RObject {
    /// Normalized as Python keeps it: days may be negative, seconds and microseconds are not.
    let days: Int
    let seconds: Int
    let microseconds: Int

    init(microseconds total: Int) {
        let perDay = 86_400 * 1_000_000
        days = Int((Double(total) / Double(perDay)).rounded(.down))
        let rest = total - days * perDay
        seconds = rest / 1_000_000
        microseconds = rest % 1_000_000
    }

    override var typeName: String { "timedelta" }

    var totalSeconds: Double { Double(days) * 86_400 + Double(seconds) + Double(microseconds) / 1_000_000 }

    override var asValue: Value? {
        var text = String(format: "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
        if microseconds != 0 { text += String(format: ".%06d", microseconds) }
        if days != 0 { text = "\(days) day\(abs(days) == 1 ? "" : "s"), " + text }
        return .string(text)
    }

    override func attribute(_ name: String) -> RV? {
        switch name {
        case "days": return .v(.int(days))
        case "seconds": return .v(.int(seconds))
        case "microseconds": return .v(.int(microseconds))
        case "total_seconds": return .obj(BuiltinFunction("total_seconds") { _, _, _, _ in .v(.double(self.totalSeconds)) })
        default: return nil
        }
    }
}

/// C `strftime` as Python calls it, plus Python's own `%f` (microseconds); `strptime` as Python's.
enum PyTime {
    static func fields(_ seconds: Int, utc: Bool) -> tm {
        var time = time_t(seconds)
        var result = tm()
        if utc { gmtime_r(&time, &result) } else { localtime_r(&time, &result) }
        return result
    }

    static func strftime(_ format: String, _ fields: tm, microseconds: Int?) -> String {
        var format = format
        if let microseconds { format = format.replacingOccurrences(of: "%f", with: String(format: "%06d", microseconds)) }
        var fields = fields
        var capacity = 256
        while capacity <= 65_536 {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = Foundation.strftime(&buffer, capacity, format, &fields)
            if count > 0 || format.isEmpty { return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            capacity *= 4
        }
        return ""
    }

    /// Ansible's `strftime` filter: `fmt | strftime(second=None, utc=False)`, as `time.strftime`.
    static func filter(_ c: Call, _ input: RV) throws -> RV {
        let format = Py.str(try c.input(input))
        let utc = try c.bool(1, "utc") ?? false
        var seconds = Int(Date().timeIntervalSince1970)
        if let given = try c.value(0, "second"), given != .null {
            guard let number = Double(Py.str(given)) else { throw c.error("Invalid value for epoch value (\(Py.str(given)))") }
            seconds = Int(number)
        }
        return .v(.string(strftime(format, fields(seconds, utc: utc), microseconds: nil)))
    }
}

extension PyTime {
    /// Python's `time.strptime` for the directives templates use (%Y %y %m %d %H %I %M %S %f %p %b
    /// %B %a %A %j %z %Z %%): the whole text must match; whitespace in the format matches any run.
    static func strptime(_ text: String, _ format: String) -> (fields: tm, microseconds: Int)? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let fullMonths = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
            "october", "november", "december"]
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        let fullDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        var input = Substring(text)
        var year = 1900, month = 1, day = 1, hour = 0, minute = 0, second = 0, micro = 0
        var pm: Bool?
        let formatCharacters = Array(format)
        var index = 0
        func number(_ maxDigits: Int) -> Int? {
            let digits = input.prefix(maxDigits).prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Int(digits) else { return nil }
            input = input.dropFirst(digits.count)
            return value
        }
        func name(_ options: [String]) -> Int? {
            // The longest name that starts the text, case-insensitively.
            let lowered = input.lowercased()
            guard let match = options.enumerated().filter({ lowered.hasPrefix($0.element) }).max(by: { $0.element.count < $1.element.count })
            else { return nil }
            input = input.dropFirst(match.element.count)
            return match.offset
        }
        while index < formatCharacters.count {
            let ch = formatCharacters[index]
            if ch.isWhitespace {
                while let first = input.first, first.isWhitespace { input = input.dropFirst() }
                index += 1
                continue
            }
            guard ch == "%", index + 1 < formatCharacters.count else {
                guard input.first == ch else { return nil }
                input = input.dropFirst()
                index += 1
                continue
            }
            let directive = formatCharacters[index + 1]
            index += 2
            switch directive {
            case "Y": guard let v = number(4) else { return nil }; year = v
            case "y": guard let v = number(2) else { return nil }; year = v < 69 ? 2000 + v : 1900 + v
            case "m": guard let v = number(2), (1...12).contains(v) else { return nil }; month = v
            case "d": guard let v = number(2), (1...31).contains(v) else { return nil }; day = v
            case "H": guard let v = number(2), (0...23).contains(v) else { return nil }; hour = v
            case "I": guard let v = number(2), (1...12).contains(v) else { return nil }; hour = v
            case "M": guard let v = number(2), (0...59).contains(v) else { return nil }; minute = v
            case "S": guard let v = number(2), (0...61).contains(v) else { return nil }; second = v
            case "f":
                let digits = input.prefix(6).prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, let v = Int(digits.padding(toLength: 6, withPad: "0", startingAt: 0)) else { return nil }
                input = input.dropFirst(digits.count)
                micro = v
            case "p":
                if input.lowercased().hasPrefix("am") { pm = false } else if input.lowercased().hasPrefix("pm") { pm = true } else { return nil }
                input = input.dropFirst(2)
            case "b": guard let v = name(months) else { return nil }; month = v + 1
            case "B": guard let v = name(fullMonths) else { return nil }; month = v + 1
            case "a": guard name(days) != nil else { return nil }
            case "A": guard name(fullDays) != nil else { return nil }
            case "j": guard number(3) != nil else { return nil }
            case "z":
                guard let sign = input.first, sign == "+" || sign == "-" else { return nil }
                input = input.dropFirst()
                guard number(4) != nil else { return nil }
            case "Z": guard name(["utc", "gmt"]) != nil else { return nil }
            case "%": guard input.first == "%" else { return nil }; input = input.dropFirst()
            default: return nil
            }
        }
        guard input.isEmpty else { return nil }
        if let pm { hour = hour % 12 + (pm ? 12 : 0) }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(hour)
        fields.tm_min = Int32(minute)
        fields.tm_sec = Int32(second)
        // Reject dates that do not exist (31 February), as Python does.
        var check = fields
        _ = timegm(&check)
        guard check.tm_mday == fields.tm_mday, check.tm_mon == fields.tm_mon else { return nil }
        return (fields, micro)
    }
}
