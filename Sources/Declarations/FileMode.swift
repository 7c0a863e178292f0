import PGHACore

/// File permissions as Ansible's `mode:` accepts them.
///
/// An integer is used as is (YAML `0644` arrives as 420, which is right; a bare `644` means the
/// decimal number 644 and gives odd permissions, exactly as in Ansible). A string is octal
/// (`"0644"`, `"644"`) or symbolic (`"u=rw,g=r,o=r"`, `"u+x"`, `"a-w"`), applied to the file's
/// current mode like chmod(1) does. `"preserve"` (copy/template) keeps the source file's mode.
public enum FileMode: Sendable, Equatable {
    case absolute(UInt32)
    case symbolic(String)
    case preserve

    /// Validation-time conversion: octal strings become integers, symbolic ones are syntax-checked.
    package static func normalize(_ value: Value) throws -> Value {
        switch value {
        case .int(let i):
            guard i >= 0, i <= 0o7777 else {
                throw ConversionProblem(message: "mode \(i) is out of range (permission bits only)")
            }
            return value
        case .string(let s):
            if s == "preserve" { return value }
            if let octal = parseOctal(s) {
                guard octal <= 0o7777 else {
                    throw ConversionProblem(message: "Invalid mode supplied, only permission info is allowed: \(s)")
                }
                return .int(Int(octal))
            }
            do {
                _ = try applySymbolic(s, to: 0, isDirectory: false, umask: 0o022)
            } catch {
                throw ConversionProblem(message: "mode must be in octal or symbolic form: '\(s)'")
            }
            return value
        default:
            throw ConversionProblem(message: "mode must be in octal or symbolic form, got \(value.typeName)")
        }
    }

    /// Python's int(s, 8), which also accepts a `0o` prefix.
    package static func parseOctal(_ s: String) -> UInt32? {
        var text = Substring(s)
        if text.hasPrefix("0o") || text.hasPrefix("0O") { text = text.dropFirst(2) }
        guard !text.isEmpty, text.allSatisfy({ ("0"..."7").contains($0) }) else { return nil }
        return UInt32(text, radix: 8)
    }

    /// Reads a validated `mode` argument.
    public init?(_ value: Value?) {
        switch value {
        case .int(let i)?: self = .absolute(UInt32(i))
        case .string(let s)?:
            if s == "preserve" {
                self = .preserve
            } else if let o = Self.parseOctal(s) {
                self = .absolute(o)
            } else {
                self = .symbolic(s)
            }
        default: return nil
        }
    }

    /// The permission bits the file ends up with, given its current bits.
    public func resolve(current: UInt32, isDirectory: Bool, umask: UInt32, preserved: UInt32? = nil) throws -> UInt32 {
        switch self {
        case .absolute(let m): return m
        case .preserve: return preserved ?? current
        case .symbolic(let s): return try Self.applySymbolic(s, to: current, isDirectory: isDirectory, umask: umask)
        }
    }

    struct SymbolicError: Error {}

    /// Ansible's `_symbolic_mode_to_octal`, including its handling of `X`, `s`, `t`, copy-from
    /// (`g=u`) and the umask for an empty "who" (`+x`).
    package static func applySymbolic(_ text: String, to start: UInt32, isDirectory: Bool, umask: UInt32) throws -> UInt32 {
        var mode = start & 0o7777
        for clause in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let opIndex = clause.firstIndex(where: { "+-=".contains($0) }) else { throw SymbolicError() }
            var users = String(clause[..<opIndex])
            let useUmask = users.isEmpty
            if users.isEmpty || users == "a" { users = "ugo" }
            guard users.allSatisfy({ "ugo".contains($0) }) else { throw SymbolicError() }
            // Split the rest into (operator, perms) pairs: "+x-w" -> [("+","x"), ("-","w")].
            var pairs: [(Character, String)] = []
            for ch in clause[opIndex...] {
                if "+-=".contains(ch) { pairs.append((ch, "")) } else { pairs[pairs.count - 1].1.append(ch) }
            }
            for (op, perms) in pairs {
                guard perms.allSatisfy({ "rwxXstugo".contains($0) }) else { throw SymbolicError() }
                for user in users {
                    let bits = permissionBits(
                        user: user, perms: perms, useUmask: useUmask, umask: umask, previous: mode,
                        isDirectory: isDirectory)
                    switch op {
                    case "=":
                        let mask: UInt32 = user == "u" ? 0o4700 : user == "g" ? 0o2070 : 0o1007
                        mode = (mode & (mask ^ 0o7777)) | bits
                    case "+": mode |= bits
                    default: mode &= ~bits
                    }
                }
            }
        }
        return mode
    }

    private static func permissionBits(
        user: Character, perms: String, useUmask: Bool, umask: UInt32, previous: UInt32, isDirectory: Bool
    ) -> UInt32 {
        let keep = useUmask ? (umask ^ 0o7777) : 0o7777
        let applyX = isDirectory || (previous & 0o111) != 0
        let shift: UInt32 = user == "u" ? 6 : user == "g" ? 3 : 0
        var bits: UInt32 = 0
        for perm in perms {
            switch perm {
            case "r": bits |= (0o4 << shift) & keep
            case "w": bits |= (0o2 << shift) & keep
            case "x": bits |= (0o1 << shift) & keep
            case "X": if applyX { bits |= 0o1 << shift }
            case "s": bits |= user == "u" ? 0o4000 : user == "g" ? 0o2000 : 0
            case "t": bits |= user == "o" ? 0o1000 : 0
            case "u": bits |= (((previous >> 6) & 0o7) << shift)
            case "g": bits |= (((previous >> 3) & 0o7) << shift)
            case "o": bits |= ((previous & 0o7) << shift)
            default: break
            }
        }
        return bits
    }

    /// "0644", as Ansible prints modes in results.
    public static func format(_ mode: UInt32) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
