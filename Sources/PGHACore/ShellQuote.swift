/// Quotes a string for a POSIX shell, as Python's shlex.quote does: text made only of ASCII
/// letters, digits and `@%+=:,./-_` stays as it is; anything else is single-quoted.
///
/// Works on UTF-8 bytes: every `'` byte is closed, escaped and reopened whatever follows it (a
/// search by characters would not see a quote that a combining mark joins into one character).
public func shellQuote(_ text: String) -> String {
    if text.isEmpty { return "''" }
    let safe = text.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: ":"),
            UInt8(ascii: ","), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
    if safe { return text }
    let quote = UInt8(ascii: "'")
    var quoted: [UInt8] = [quote]
    quoted.reserveCapacity(text.utf8.count + 8)
    for byte in text.utf8 {
        if byte == quote {
            quoted += [quote, UInt8(ascii: "\""), quote, UInt8(ascii: "\""), quote]
        } else {
            quoted.append(byte)
        }
    }
    quoted.append(quote)
    return String(decoding: quoted, as: UTF8.self)
}
