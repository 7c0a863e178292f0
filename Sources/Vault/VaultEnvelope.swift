import Foundation

/// The text form of vaulted data, as ansible-vault writes it:
///
///     $ANSIBLE_VAULT;1.1;AES256            (or 1.2;AES256;<vault id>)
///     <hex of "hex(salt)\nhex(hmac)\nhex(ciphertext)", in lines of 80 characters>
///
/// The vault id in a 1.2 header is not authenticated: it only says which password to try first.
public struct VaultEnvelope: Sendable, Equatable {
    /// The first bytes of every vaulted text.
    public static let marker = "$ANSIBLE_VAULT"
    /// The format versions pgha-play reads; it writes 1.1, or 1.2 when a vault id is given.
    public static let readableVersions: Set<String> = ["1.1", "1.2"]
    /// The only cipher ansible-core still reads or writes.
    public static let cipherName = "AES256"
    /// The label of a password given without one, and of 1.1 files (Ansible's DEFAULT_VAULT_IDENTITY).
    public static let defaultVaultID = "default"

    public var version: String
    public var cipher: String
    /// The vault id from a 1.2 header; nil for 1.1.
    public var vaultID: String?
    public var salt: [UInt8]
    public var hmac: [UInt8]
    public var ciphertext: [UInt8]

    public init(version: String, cipher: String, vaultID: String?, salt: [UInt8], hmac: [UInt8], ciphertext: [UInt8]) {
        self.version = version
        self.cipher = cipher
        self.vaultID = vaultID
        self.salt = salt
        self.hmac = hmac
        self.ciphertext = ciphertext
    }

    /// True when `text` starts with the vault marker (after nothing at all, as Ansible checks).
    public static func isVaulted(_ text: String) -> Bool {
        text.utf8.starts(with: marker.utf8)
    }

    /// True when `bytes` start with the vault marker.
    public static func isVaulted(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: marker.utf8)
    }

    /// Reads an envelope: the header, then the hex payload (line breaks and surrounding spaces ignored).
    public static func parse(_ text: String) throws(VaultFailure) -> VaultEnvelope {
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        lines.removeAll(where: \.isEmpty)
        guard let headerLine = lines.first, isVaulted(headerLine) else { throw .notVaulted }
        let header = headerLine.split(separator: ";", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard header.count >= 3, header[0] == marker else { throw .malformed("the header '\(headerLine)' is not $ANSIBLE_VAULT;VERSION;CIPHER") }
        let version = header[1]
        guard readableVersions.contains(version) else { throw .unsupportedVersion(version) }
        let cipher = header[2]
        guard cipher == cipherName else { throw .unsupportedCipher(cipher) }
        // As ansible-core: a fourth field is the vault id whatever the version says.
        let vaultID = header.count >= 4 && !header[3].isEmpty ? header[3] : nil
        guard let payload = Hex.decode(lines.dropFirst().joined()) else {
            throw .malformed("the payload is not hexadecimal")
        }
        // The payload is itself the text "hex(salt)\nhex(hmac)\nhex(ciphertext)".
        let parts = payload.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let salt = Hex.decode(parts[0]), let hmac = Hex.decode(parts[1]),
            let ciphertext = Hex.decode(parts[2])
        else {
            throw .malformed("the payload does not hold a salt, an HMAC and a ciphertext")
        }
        guard !salt.isEmpty, hmac.count == 32, !ciphertext.isEmpty, ciphertext.count % 16 == 0 else {
            throw .malformed("the payload's salt, HMAC or ciphertext has the wrong length")
        }
        return VaultEnvelope(version: version, cipher: cipher, vaultID: vaultID, salt: salt, hmac: hmac, ciphertext: ciphertext)
    }

    /// The envelope as ansible-vault writes it: header, payload in 80-column lines, a final newline.
    public var text: String {
        var header = [Self.marker, version, cipher]
        if version == "1.2", let vaultID { header.append(vaultID) }
        let inner = Hex.encode(salt) + "\n" + Hex.encode(hmac) + "\n" + Hex.encode(ciphertext)
        let payload = Hex.encode(Array(inner.utf8))
        var lines = [header.joined(separator: ";")]
        var index = payload.startIndex
        while index < payload.endIndex {
            let end = payload.index(index, offsetBy: 80, limitedBy: payload.endIndex) ?? payload.endIndex
            lines.append(String(payload[index..<end]))
            index = end
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Lowercase hexadecimal, as Python's binascii.hexlify writes it.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }

    /// Upper- and lowercase digits, as binascii.unhexlify accepts; nil for an odd length or another character.
    static func decode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        guard bytes.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        var high: UInt8? = nil
        for byte in bytes {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }
}
