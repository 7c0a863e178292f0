import Foundation

/// community.crypto's time specifications: relative (`+3650d`, `-1h`, `+32w1d2h`, `+0s`) or
/// absolute ASN.1 time (`20301231235959Z`, also with an explicit offset `20301231235959+0100`).
public enum CertificateTime {
    /// The moment `spec` names, counted from `now` when relative; nil when it does not parse.
    public static func date(_ spec: String, now: Date) -> Date? {
        let text = spec.trimmingCharacters(in: .whitespaces)
        guard let sign = text.first else { return nil }
        if sign == "+" || sign == "-" {
            guard let seconds = relativeSeconds(text.dropFirst()) else { return nil }
            return now.addingTimeInterval(sign == "+" ? seconds : -seconds)
        }
        return absolute(text)
    }

    /// `32w1d2h3m4s`: each unit at most once, in this order, at least one.
    static func relativeSeconds(_ text: Substring) -> Double? {
        let units: [(Character, Double)] = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total = 0.0
        var rest = text
        var unitIndex = 0
        var parsedAny = false
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let number = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = rest.first else { return nil }
            guard let position = units[unitIndex...].firstIndex(where: { $0.0 == unit }) else { return nil }
            total += number * units[position].1
            unitIndex = position + 1
            rest = rest.dropFirst()
            parsedAny = true
        }
        return parsedAny ? total : nil
    }

    static func absolute(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyyMMddHHmmss'Z'", "yyyyMMddHHmmssZ", "yyyyMMddHHmm'Z'"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
