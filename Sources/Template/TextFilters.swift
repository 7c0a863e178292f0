import Foundation
import OrderedCollections
import PGHACore

/// Jinja2's text filters that Ansible playbooks use (`truncate`, `tojson`, `escape`, `safe`,
/// `urlencode`) and Ansible's `random`, `shuffle` and `comment`, with Python's results.
enum TextFilters {
    static func register(_ t: inout [String: FilterFunction]) {
        t["truncate"] = truncate
        t["tojson"] = { c, input in
            let indent = try c.int(0, "indent")
            let json = JSON.encode(try c.input(input), style: JSON.Style(indent: indent, sortKeys: true))
            return .v(.string(htmlSafe(json)))
        }
        t["escape"] = { c, input in .v(.string(htmlEscape(Py.str(try c.input(input))))) }
        t["e"] = t["escape"]
        t["forceescape"] = t["escape"]
        // Without autoescaping, marking text safe changes nothing but its type.
        t["safe"] = { c, input in
            let value = try c.input(input)
            if case .string = value { return .v(value) }
            return .v(.string(Py.str(value)))
        }
        t["urlencode"] = urlencode
        t["random"] = random
        t["shuffle"] = shuffle
        t["comment"] = comment
    }

    /// Ansible's `shuffle(seed=None)`: the items in random order; with a (truthy) seed, the order
    /// `random.Random(seed).shuffle` gives. Something that is not a sequence comes back as it is.
    static func shuffle(_ c: Call, _ input: RV) throws -> RV {
        let value = try c.input(input)
        var items: [Value]
        switch value {
        case .list(let list): items = list
        case .dict(let dict): items = dict.keys.map(Value.string)
        case .string(let s): items = s.map { .string(String($0)) }
        default: return .v(value)
        }
        let seed = try c.value(0, "seed")
        var generator = PythonRandom(seed: seed.flatMap { $0.isTruthy ? $0 : nil } ?? .int(Int.random(in: 0...Int.max)))
        // random.shuffle: from the end, swap each item with one at or before it.
        var index = items.count - 1
        while index > 0 {
            items.swapAt(index, generator.below(index + 1))
            index -= 1
        }
        return .v(.list(items))
    }

    /// Ansible's `comment(style='plain', **kw)`: the text as a comment block (`ansible_managed |
    /// comment` opens many templates), with the styles and the keyword overrides of its filter.
    static func comment(_ c: Call, _ input: RV) throws -> RV {
        let text = Py.str(try c.input(input))
        let style = try c.string(0, "style") ?? "plain"
        let styles: [String: [String: String]] = [
            "plain": ["decoration": "# "], "erlang": ["decoration": "% "], "c": ["decoration": "// "],
            "cblock": ["beginning": "/*", "decoration": " * ", "end": " */"],
            "xml": ["beginning": "<!--", "decoration": " - ", "end": "-->"],
        ]
        guard let styleParameters = styles[style] else {
            throw c.error("Invalid style '\(style)'. Available styles: plain, erlang, c, cblock, xml")
        }
        var given: [String: Value] = [:]
        for (key, argument) in c.kwargs where key != "style" { given[key] = try c.renderer.value(argument, line: c.line) }
        func rstrip(_ s: String) -> String {
            var s = s
            while let last = s.last, last.isWhitespace { s.removeLast() }
            return s
        }
        let prePostfix = given["decoration"].map { Py.str($0) } ?? styleParameters["decoration"] ?? ""
        var p: [String: Value] = [
            "newline": "\n", "beginning": "", "prefix": .string(rstrip(prePostfix)), "prefix_count": 1,
            "decoration": "", "postfix": .string(rstrip(prePostfix)), "postfix_count": 1, "end": "",
        ]
        for (key, value) in styleParameters { p[key] = .string(value) }
        for (key, value) in given { p[key] = value }
        func parameter(_ key: String) -> String { p[key].map { Py.str($0) } ?? "" }
        func count(_ key: String) throws -> Int {
            guard let value = p[key], let number = Py.asInt(value) ?? Int(Py.str(value)) else {
                throw c.error("comment: \(key) must be an integer")
            }
            return max(0, number)
        }
        let newline = parameter("newline")
        let decoration = parameter("decoration")
        var out = ""
        if !parameter("beginning").isEmpty { out += parameter("beginning") + newline }
        let prefix = parameter("prefix")
        if !prefix.isEmpty {
            out += String(repeating: prefix != newline ? prefix + newline : newline, count: try count("prefix_count"))
        }
        let body = decoration + (newline.isEmpty ? text : text.replacingOccurrences(of: newline, with: newline + decoration))
        // A line holding only the decoration loses its trailing spaces.
        out += decoration + newline == rstrip(decoration) + newline
            ? body : body.replacingOccurrences(of: decoration + newline, with: rstrip(decoration) + newline)
        out += ([""] + Array(repeating: parameter("postfix"), count: try count("postfix_count"))).joined(separator: newline)
        if !parameter("end").isEmpty { out += newline + parameter("end") }
        return .v(.string(out))
    }

    /// `truncate(length=255, killwords=False, end='...', leeway=5)`.
    static func truncate(_ c: Call, _ input: RV) throws -> RV {
        let text = Py.str(try c.input(input))
        let length = try c.int(0, "length") ?? 255
        let killWords = try c.bool(1, "killwords") ?? false
        let end = try c.string(2, "end") ?? "..."
        let leeway = try c.int(3, "leeway") ?? 5
        guard length >= end.count else { throw c.error("expected length >= \(end.count), got \(length)") }
        guard leeway >= 0 else { throw c.error("expected leeway >= 0, got \(leeway)") }
        let characters = Array(text)
        if characters.count <= length + leeway { return .v(.string(text)) }
        let kept = String(characters.prefix(length - end.count))
        if killWords { return .v(.string(kept + end)) }
        // rsplit(' ', 1)[0]: up to the last space, or all of it when there is none.
        if let space = kept.lastIndex(of: " ") { return .v(.string(String(kept[..<space]) + end)) }
        return .v(.string(kept + end))
    }

    static func htmlSafe(_ json: String) -> String {
        json.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026").replacingOccurrences(of: "'", with: "\\u0027")
    }

    static func htmlEscape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Python's `urllib.parse.quote` (always safe: letters, digits, `_.-~`, plus `safe`).
    static func quote(_ text: String, safe: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~")
        allowed.insert(charactersIn: safe)
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Jinja's `urlencode`: a string quoted for a path; a dict or list of pairs as a query string.
    static func urlencode(_ c: Call, _ input: RV) throws -> RV {
        func forQuery(_ v: Value) -> String {
            quote(v.stringValue ?? Py.str(v), safe: "").replacingOccurrences(of: "%20", with: "+")
        }
        switch try c.input(input) {
        case .dict(let d):
            return .v(.string(d.map { "\(forQuery(.string($0.key)))=\(forQuery($0.value))" }.joined(separator: "&")))
        case .list(let items):
            let pairs = try items.map { item -> String in
                guard case .list(let pair) = item, pair.count == 2 else { throw c.error("urlencode expects pairs") }
                return "\(forQuery(pair[0]))=\(forQuery(pair[1]))"
            }
            return .v(.string(pairs.joined(separator: "&")))
        case let value:
            return .v(.string(quote(value.stringValue ?? Py.str(value), safe: "/")))
        }
    }

    /// Ansible's `random(end, start=None, step=None, seed=None)`: a number from `range(start, end,
    /// step)` or an element of a list; with a seed, the same pick as Python's `random.Random(seed)`.
    static func random(_ c: Call, _ input: RV) throws -> RV {
        let end = try c.input(input)
        let seedValue = try c.value(2, "seed")
        var generator: PythonRandom
        if let seedValue, seedValue != .null {
            generator = PythonRandom(seed: seedValue)
        } else {
            generator = PythonRandom(seed: .int(Int.random(in: 0...Int.max)))
        }
        if let stop = Py.asInt(end), !(end.isBool) {
            let start = try c.int(0, "start") ?? 0
            let step = try c.int(1, "step") ?? 1
            guard step != 0 else { throw c.error("zero step for randrange()") }
            let width = stop - start
            let count = step == 1 ? width : (step > 0 ? (width + step - 1) / step : (width + step + 1) / step)
            guard count > 0 else { throw c.error("empty range for randrange() (\(start), \(stop), \(width))") }
            return .v(.int(start + step * generator.below(count)))
        }
        let start = try c.value(0, "start")
        let step = try c.value(1, "step")
        if (start != nil && start != .null) || (step != nil && step != .null) {
            throw c.error("start and step can only be used with integer values")
        }
        let items: [Value]
        switch end {
        case .list(let list): items = list
        case .dict(let dict): items = dict.keys.map(Value.string)
        case .string(let s): items = s.map { .string(String($0)) }
        default: throw c.error("random expects a number or a sequence, got \(end.typeName)")
        }
        guard !items.isEmpty else { throw c.error("Cannot choose from an empty sequence") }
        return .v(items[generator.below(items.count)])
    }
}

private extension Value {
    var isBool: Bool { if case .bool = self { return true } else { return false } }
}

/// CPython's Mersenne Twister (`random.Random`), seeded as `random.seed(x)` (version 2) seeds it,
/// so a seeded pick matches Ansible's.
struct PythonRandom {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: Value) {
        var magnitude: [UInt8]  // the seed as a non-negative integer, big-endian bytes
        switch seed {
        case .int(let i):
            var value = i.magnitude
            magnitude = []
            while value > 0 {
                magnitude.insert(UInt8(value & 0xff), at: 0)
                value >>= 8
            }
        case .string(let s):
            // version 2: int.from_bytes(s.encode() + sha512(s.encode()).digest(), 'big')
            let bytes = Array(s.utf8)
            magnitude = bytes + Digest.sha512Bytes(bytes)
        default:
            let bytes = Array(Py.str(seed).utf8)
            magnitude = bytes + Digest.sha512Bytes(bytes)
        }
        // init_by_array takes 32-bit words, least significant first.
        var key: [UInt32] = []
        var end = magnitude.count
        while end > 0 {
            let start = max(0, end - 4)
            var word: UInt32 = 0
            for byte in magnitude[start..<end] { word = word << 8 | UInt32(byte) }
            key.append(word)
            end = start
        }
        if key.isEmpty { key = [0] }
        initByArray(key)
    }

    private mutating func initGenrand(_ s: UInt32) {
        state[0] = s
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenrand(19_650_218)
        var i = 1
        var j = 0
        for _ in 0..<max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= 624 {
                state[0] = state[623]
                i = 1
            }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 {
                state[0] = state[623]
                i = 1
            }
        }
        state[0] = 0x8000_0000
    }

    private mutating func next() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7fff_ffff)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// getrandbits(k) for k up to 64.
    private mutating func bits(_ k: Int) -> UInt64 {
        if k <= 32 { return k == 0 ? 0 : UInt64(next() >> UInt32(32 - k)) }
        let low = UInt64(next())
        let high = UInt64(next() >> UInt32(64 - k))
        return high << 32 | low
    }

    /// `_randbelow_with_getrandbits(n)`.
    mutating func below(_ n: Int) -> Int {
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = bits(k)
        while r >= UInt64(n) { r = bits(k) }
        return Int(r)
    }
}
