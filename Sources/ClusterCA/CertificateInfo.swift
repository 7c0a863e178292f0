import Crypto
import Foundation
import SwiftASN1
import X509

/// What a PEM certificate says: validity, names, usages, fingerprints. Read on the controller;
/// the certificate is public.
public struct CertificateInfo: Sendable {
    let certificate: Certificate
    /// The DER bytes (for fingerprints).
    public let der: [UInt8]

    public init(pem: String) throws {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: PEMText.first("CERTIFICATE", in: pem))
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError("the certificate does not parse (\(error))")
        }
        self.certificate = certificate
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        self.der = serializer.serializedBytes
    }

    public var notBefore: Date { certificate.notValidBefore }
    public var notAfter: Date { certificate.notValidAfter }
    public var subject: [(String, String)] { Self.attributes(certificate.subject) }
    public var issuer: [(String, String)] { Self.attributes(certificate.issuer) }
    /// The serial number as a decimal string (it can exceed 64 bits).
    public var serialNumber: String { Self.decimal(Array(certificate.serialNumber.bytes)) }
    public var subjectAlternativeNames: [String] {
        ((try? certificate.extensions.subjectAlternativeNames) ?? nil).map(SubjectAltName.describe) ?? []
    }
    public var isCertificateAuthority: Bool {
        if case .isCertificateAuthority = (try? certificate.extensions.basicConstraints) ?? nil { return true }
        return false
    }
    /// The subject public key as a PEM `PUBLIC KEY`.
    public var publicKeyPEM: String {
        (try? certificate.publicKey.serializeAsPEM().pemString).map { $0 + "\n" } ?? ""
    }
    public var publicKeyType: String {
        let text = String(describing: certificate.publicKey)
        if text.hasPrefix("P256") || text.hasPrefix("P384") || text.hasPrefix("P521") { return "ECC" }
        if text.hasPrefix("RSA") { return "RSA" }
        if text.hasPrefix("Ed25519") { return "Ed25519" }
        return text
    }
    public var signatureAlgorithm: String {
        switch certificate.signatureAlgorithm {
        case .ecdsaWithSHA256: return "ecdsa-with-SHA256"
        case .ecdsaWithSHA384: return "ecdsa-with-SHA384"
        case .ecdsaWithSHA512: return "ecdsa-with-SHA512"
        case .sha256WithRSAEncryption: return "sha256WithRSAEncryption"
        case .sha384WithRSAEncryption: return "sha384WithRSAEncryption"
        case .sha512WithRSAEncryption: return "sha512WithRSAEncryption"
        case .ed25519: return "ed25519"
        default: return String(describing: certificate.signatureAlgorithm)
        }
    }
    /// Extended key usages by their OpenSSL long names.
    public var extendedKeyUsage: [String] {
        guard let eku = (try? certificate.extensions.extendedKeyUsage) ?? nil else { return [] }
        return eku.map { usage in
            switch usage {
            case .serverAuth: return "TLS Web Server Authentication"
            case .clientAuth: return "TLS Web Client Authentication"
            default: return String(describing: usage)
            }
        }
    }
    /// Key usages by community.crypto's names.
    public var keyUsage: [String] {
        let names = [
            "digitalSignature": "Digital Signature", "nonRepudiation": "Non Repudiation",
            "keyEncipherment": "Key Encipherment", "dataEncipherment": "Data Encipherment",
            "keyAgreement": "Key Agreement", "keyCertSign": "Certificate Sign", "cRLSign": "CRL Sign",
            "encipherOnly": "Encipher Only", "decipherOnly": "Decipher Only",
        ]
        return extensionSummary.keyUsage.map { names[$0] ?? $0 }
    }

    /// Colon-separated hex digests of the DER certificate (`sha256`, `sha1`), as community.crypto reports them.
    public var fingerprints: [(String, String)] {
        [
            ("sha1", Self.colonHex(Array(Insecure.SHA1.hash(data: der)))),
            ("sha256", Self.colonHex(Array(SHA256.hash(data: der)))),
        ]
    }

    /// Whether the certificate is issued for this CSR: same subject, same public key and the CSR's
    /// requested extensions (key identifiers aside, which the signer adds).
    public func matches(_ request: CertificateRequest) -> Bool {
        guard certificate.subject == request.subject, certificate.publicKey == request.publicKey else { return false }
        let ignored: Set<ASN1ObjectIdentifier> = [
            .X509ExtensionID.subjectKeyIdentifier, .X509ExtensionID.authorityKeyIdentifier,
        ]
        let have = Set(certificate.extensions.filter { !ignored.contains($0.oid) }.map(ExtensionKey.init))
        let want = Set(request.requestedExtensions.filter { !ignored.contains($0.oid) }.map(ExtensionKey.init))
        return have == want
    }

    /// Whether `privateKeyPEM` is the key of this certificate.
    public func belongs(toPrivateKeyPEM privateKeyPEM: String) -> Bool {
        guard let key = try? Certificate.PrivateKey(pemEncoded: privateKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return false }
        return key.publicKey == certificate.publicKey
    }

    /// ASN.1 GeneralizedTime text (`20301231235959Z`), the form community.crypto returns.
    public static func asn1Time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.string(from: date) + "Z"
    }

    static func attributes(_ name: DistinguishedName) -> [(String, String)] {
        name.flatMap { rdn in rdn.map { (Self.attributeName($0.type), String(describing: $0.value)) } }
    }

    static func attributeName(_ oid: ASN1ObjectIdentifier) -> String {
        typealias T = ASN1ObjectIdentifier.RDNAttributeType
        switch oid {
        case T.commonName: return "commonName"
        case T.countryName: return "countryName"
        case T.localityName: return "localityName"
        case T.stateOrProvinceName: return "stateOrProvinceName"
        case T.organizationName: return "organizationName"
        case T.organizationalUnitName: return "organizationalUnitName"
        case T.streetAddress: return "streetAddress"
        case T.domainComponent: return "domainComponent"
        case T.emailAddress: return "emailAddress"
        default: return String(describing: oid)
        }
    }

    static func colonHex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// Big-endian unsigned bytes to decimal text.
    static func decimal(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = [0]  // little-endian base 10
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                let value = Int(digits[index]) * 256 + carry
                digits[index] = UInt8(value % 10)
                carry = value / 10
            }
            while carry > 0 {
                digits.append(UInt8(carry % 10))
                carry /= 10
            }
        }
        while digits.count > 1 && digits.last == 0 { digits.removeLast() }
        return String(digits.reversed().map { Character(String($0)) })
    }
}

/// An extension compared by identity and content.
private struct ExtensionKey: Hashable {
    let oid: ASN1ObjectIdentifier
    let critical: Bool
    let value: [UInt8]
    init(_ ext: Certificate.Extension) {
        oid = ext.oid
        critical = ext.critical
        value = Array(ext.value)
    }
}
