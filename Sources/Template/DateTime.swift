import Foundation
import PGHACore

/// Python's `datetime` as Ansible's `now()` returns it: prints as `YYYY-MM-DD HH:MM:SS[.ffffff]`,
/// with the attributes and the methods (`strftime`, `isoformat`, `timestamp`) templates use.
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
        default: return nil
        }
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

/// C `strftime` as Python calls it, plus Python's own `%f` (microseconds).
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
