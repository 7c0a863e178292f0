import FuzzSupport
import PGHACore
import Vault

let secrets = VaultSecrets([VaultSecret(password: "fuzz")])

/// The vault envelope parser, and decryption with a fixed password when the envelope parses:
/// the HMAC check, the cipher and the padding see every mutation of real vault files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVault(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    _ = VaultEnvelope.isVaulted(text)
    guard (try? VaultEnvelope.parse(text)) != nil else { return 0 }
    _ = try? Vault.decryptText(text, secrets: secrets)
    return 0
}
