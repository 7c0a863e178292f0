import CLibSSH2
import Foundation

/// libssh2_init is not thread-safe; this runs it once, before the first session.
let libssh2Initialized: Bool = libssh2_init(0) == 0

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// State the C callbacks reach through the session's `abstract` pointer.
final class CallbackContext {
    /// Monotonic time of the last byte read from the server: the inactivity check's clock.
    var lastReceive: Double = monotonicSeconds()
    /// The answer to keyboard-interactive prompts during authentication only.
    var interactivePassword: String?
}

/// Reads from the socket like libssh2's own recv, and notes when bytes arrived.
let recordingRecv:
    @convention(c) (
        libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int = { socket, buffer, length, flags, abstract in
        let count = recv(socket, buffer, length, flags)
        if count < 0 { return -Int(errno) }
        if count > 0, let raw = abstract?.pointee {
            Unmanaged<CallbackContext>.fromOpaque(raw).takeUnretainedValue().lastReceive = monotonicSeconds()
        }
        return count
    }

/// Answers each keyboard-interactive prompt with the configured password; libssh2 frees the answers.
let keyboardInteractiveResponder:
    @convention(c) (
        UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Int32, Int32,
        UnsafePointer<LIBSSH2_USERAUTH_KBDINT_PROMPT>?, UnsafeMutablePointer<LIBSSH2_USERAUTH_KBDINT_RESPONSE>?,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Void = { _, _, _, _, promptCount, _, responses, abstract in
        guard let responses, let raw = abstract?.pointee else { return }
        let password = Unmanaged<CallbackContext>.fromOpaque(raw).takeUnretainedValue().interactivePassword ?? ""
        for index in 0..<Int(max(promptCount, 0)) {
            let bytes = Array(password.utf8)
            let text = malloc(max(bytes.count, 1))!.assumingMemoryBound(to: CChar.self)
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { memcpy(text, base, bytes.count) }
            }
            responses[index].text = text
            responses[index].length = UInt32(bytes.count)
        }
    }

/// The SHA256 fingerprint as `ssh` prints it: `SHA256:` and unpadded base64.
func sha256Fingerprint(session: OpaquePointer) -> String? {
    guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return nil }
    let data = Data(bytes: hash, count: 32)
    var text = data.base64EncodedString()
    while text.hasSuffix("=") { text.removeLast() }
    return "SHA256:" + text
}

/// Host key algorithm names and known_hosts type bits for libssh2's host key types.
struct HostKeyType {
    let name: String
    let label: String
    let knownHostBits: Int32

    init?(libssh2Type: Int32) {
        switch libssh2Type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519:
            (name, label, knownHostBits) = ("ssh-ed25519", "ED25519", LIBSSH2_KNOWNHOST_KEY_ED25519)
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
            (name, label, knownHostBits) = ("ecdsa-sha2-nistp256", "ECDSA", LIBSSH2_KNOWNHOST_KEY_ECDSA_256)
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
            (name, label, knownHostBits) = ("ecdsa-sha2-nistp384", "ECDSA", LIBSSH2_KNOWNHOST_KEY_ECDSA_384)
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
            (name, label, knownHostBits) = ("ecdsa-sha2-nistp521", "ECDSA", LIBSSH2_KNOWNHOST_KEY_ECDSA_521)
        case LIBSSH2_HOSTKEY_TYPE_RSA:
            (name, label, knownHostBits) = ("ssh-rsa", "RSA", LIBSSH2_KNOWNHOST_KEY_SSHRSA)
        case LIBSSH2_HOSTKEY_TYPE_DSS:
            (name, label, knownHostBits) = ("ssh-dss", "DSA", LIBSSH2_KNOWNHOST_KEY_SSHDSS)
        default:
            return nil
        }
    }

    static let all: [HostKeyType] = [
        LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
        LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_HOSTKEY_TYPE_RSA,
    ].compactMap { HostKeyType(libssh2Type: $0) }
}

/// The key type of a private key file, read from its unencrypted parts (or the `.pub` next to it).
func privateKeyType(path: String) -> String? {
    if let pub = try? String(contentsOfFile: path + ".pub", encoding: .utf8),
        let first = pub.split(separator: " ").first
    {
        return String(first)
    }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    if text.contains("BEGIN RSA PRIVATE KEY") { return "ssh-rsa" }
    if text.contains("BEGIN EC PRIVATE KEY") { return "ecdsa" }
    if text.contains("BEGIN DSA PRIVATE KEY") { return "ssh-dss" }
    guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return nil }
    let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    guard let data = Data(base64Encoded: body) else { return nil }
    // openssh-key-v1\0, cipher, kdf, kdf options, key count, then the first public key blob.
    let bytes = [UInt8](data)
    let magic = Array("openssh-key-v1\0".utf8)
    guard bytes.starts(with: magic) else { return nil }
    var offset = magic.count
    func readString() -> [UInt8]? {
        guard offset + 4 <= bytes.count else { return nil }
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        offset += 4
        guard length >= 0, offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }
    for _ in 0..<3 { guard readString() != nil else { return nil } }
    offset += 4
    guard let blob = readString() else { return nil }
    var blobOffset = 0
    guard blob.count >= 4 else { return nil }
    let typeLength = blob[0..<4].reduce(0) { $0 << 8 | Int($1) }
    blobOffset = 4
    guard blobOffset + typeLength <= blob.count else { return nil }
    return String(decoding: blob[blobOffset..<blobOffset + typeLength], as: UTF8.self)
}
