import SwiftASN1
import X509

/// The extensions that matter when comparing a CSR or certificate with what a task asks for, in
/// OpenSSL's short spelling (`DNS:name`, `digitalSignature`, `serverAuth`, `CA:FALSE`).
public struct ExtensionSummary: Equatable, Sendable {
    public var subjectAltNames: [String] = []
    public var subjectAltNamesCritical = false
    public var keyUsage: [String] = []
    public var keyUsageCritical = false
    public var extendedKeyUsage: [String] = []
    public var extendedKeyUsageCritical = false
    /// `CA:TRUE`/`CA:FALSE` and `pathlen:N`; empty when the extension is absent.
    public var basicConstraints: [String] = []
    public var basicConstraintsCritical = false

    public init() {}

    init(_ extensions: Certificate.Extensions) {
        for ext in extensions {
            switch ext.oid {
            case .X509ExtensionID.subjectAlternativeName:
                if let names = try? SubjectAlternativeNames(ext) {
                    subjectAltNames = SubjectAltName.describe(names)
                    subjectAltNamesCritical = ext.critical
                }
            case .X509ExtensionID.keyUsage:
                if let usage = try? KeyUsage(ext) {
                    keyUsage = Self.keyUsageNames(usage)
                    keyUsageCritical = ext.critical
                }
            case .X509ExtensionID.extendedKeyUsage:
                if let usage = try? ExtendedKeyUsage(ext) {
                    extendedKeyUsage = usage.map(Self.extendedKeyUsageName)
                    extendedKeyUsageCritical = ext.critical
                }
            case .X509ExtensionID.basicConstraints:
                if let constraints = try? BasicConstraints(ext) {
                    switch constraints {
                    case .isCertificateAuthority(let length):
                        basicConstraints = ["CA:TRUE"] + (length.map { ["pathlen:\($0)"] } ?? [])
                    case .notCertificateAuthority:
                        basicConstraints = ["CA:FALSE"]
                    }
                    basicConstraintsCritical = ext.critical
                }
            default:
                continue
            }
        }
    }

    /// OpenSSL's short names, in the extension's bit order.
    static func keyUsageNames(_ usage: KeyUsage) -> [String] {
        var names: [String] = []
        if usage.digitalSignature { names.append("digitalSignature") }
        if usage.nonRepudiation { names.append("nonRepudiation") }
        if usage.keyEncipherment { names.append("keyEncipherment") }
        if usage.dataEncipherment { names.append("dataEncipherment") }
        if usage.keyAgreement { names.append("keyAgreement") }
        if usage.keyCertSign { names.append("keyCertSign") }
        if usage.cRLSign { names.append("cRLSign") }
        if usage.encipherOnly { names.append("encipherOnly") }
        if usage.decipherOnly { names.append("decipherOnly") }
        return names
    }

    static func extendedKeyUsageName(_ usage: ExtendedKeyUsage.Usage) -> String {
        switch usage {
        case .serverAuth: return "serverAuth"
        case .clientAuth: return "clientAuth"
        case .codeSigning: return "codeSigning"
        case .emailProtection: return "emailProtection"
        case .timeStamping: return "timeStamping"
        case .ocspSigning: return "OCSPSigning"
        case .any: return "anyExtendedKeyUsage"
        default: return String(describing: usage)
        }
    }
}

extension CertificateRequest {
    /// Subject attributes in order, with community.crypto's long names (`commonName`, ...).
    public var subjectAttributes: [(String, String)] { CertificateInfo.attributes(subject) }
    /// The requested extensions, summarised.
    public var extensionSummary: ExtensionSummary { ExtensionSummary(requestedExtensions) }
    /// The public key as DER SubjectPublicKeyInfo (what `openssl pkey -pubout -outform DER` prints).
    public var publicKeyDER: [UInt8] { (try? publicKey.serializeAsPEM().derBytes) ?? [] }
}

extension CertificateInfo {
    public var extensionSummary: ExtensionSummary { ExtensionSummary(certificate.extensions) }
    public var publicKeyDER: [UInt8] { (try? certificate.publicKey.serializeAsPEM().derBytes) ?? [] }
}
