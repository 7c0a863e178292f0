import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority as the controller holds it: the CA certificate and its
/// private key, both PEM. It signs the CSRs nodes make; the key stays in this process.
public struct CertificateAuthority: Sendable {
    /// The CA certificate, PEM (what nodes and clients trust).
    public let certificatePEM: String
    let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    /// Loads a CA from PEM text. Fails when the key does not belong to the certificate or the
    /// certificate may not sign others (no `CA:TRUE`).
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: PEMText.first("CERTIFICATE", in: certificatePEM))
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError("the CA certificate is not a PEM certificate (\(error))")
        }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            // The parser's message can quote key material: never pass it on.
            throw CertificateError("the CA private key is not a PEM private key (PKCS#8, SEC1 or PKCS#1)")
        }
        guard key.publicKey == certificate.publicKey else {
            throw CertificateError("the CA private key does not belong to the CA certificate")
        }
        guard case .isCertificateAuthority = try certificate.extensions.basicConstraints else {
            throw CertificateError("the CA certificate is not a CA (its basic constraints lack CA:TRUE)")
        }
        self.certificate = certificate
        self.privateKey = key
        self.certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
    }

    /// Makes a new CA: an ECDSA P-256 key and a self-signed certificate with `CA:TRUE` (path
    /// length 0: it signs node certificates only), keyCertSign and cRLSign.
    public static func create(commonName: String, notBefore: Date, notAfter: Date) throws
        -> (authority: CertificateAuthority, privateKeyPEM: String)
    {
        let key = P256.Signing.PrivateKey()
        let privateKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName { CommonName(commonName) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: privateKey.publicKey)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
            notValidBefore: wholeSeconds(notBefore), notValidAfter: wholeSeconds(notAfter), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: privateKey)
        let keyPEM = key.pemRepresentation + "\n"
        let authority = try CertificateAuthority(
            certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: keyPEM)
        return (authority, keyPEM)
    }

    /// Signs a CSR: the certificate gets the request's subject, public key and requested
    /// extensions (SANs, key usages), plus a subject and an authority key identifier, as
    /// community.crypto's `ownca` provider does. The CSR's own signature is checked first.
    public func sign(_ request: CertificateRequest, notBefore: Date, notAfter: Date) throws -> String {
        var extensions = request.requestedExtensions
        if extensions[oid: .X509ExtensionID.subjectKeyIdentifier] == nil {
            try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: request.publicKey), critical: false))
        }
        _ = extensions.remove(.X509ExtensionID.authorityKeyIdentifier)
        try extensions.append(Certificate.Extension(authorityKeyIdentifier, critical: false))
        return try Self.issue(
            subject: request.subject, publicKey: request.publicKey, extensions: extensions, issuer: certificate.subject,
            signer: privateKey, notBefore: notBefore, notAfter: notAfter)
    }

    /// Whether `certificate` was issued by this CA: its issuer is this CA's subject and this CA's
    /// key verifies its signature.
    public func issued(_ info: CertificateInfo) -> Bool {
        info.certificate.issuer == certificate.subject
            && certificate.publicKey.isValidSignature(info.certificate.signature, for: info.certificate)
    }

    /// The identifier of this CA's key, as issued certificates name it.
    var authorityKeyIdentifier: AuthorityKeyIdentifier {
        let ski = (try? certificate.extensions.subjectKeyIdentifier)?.map { $0.keyIdentifier }
        return AuthorityKeyIdentifier(
            keyIdentifier: ski ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier)
    }

    static func issue(
        subject: DistinguishedName, publicKey: Certificate.PublicKey, extensions: Certificate.Extensions,
        issuer: DistinguishedName, signer: Certificate.PrivateKey, notBefore: Date, notAfter: Date
    ) throws -> String {
        guard notAfter > notBefore else {
            throw CertificateError("the certificate would expire before it becomes valid")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: wholeSeconds(notBefore), notValidAfter: wholeSeconds(notAfter), issuer: issuer,
            subject: subject,
            extensions: extensions, issuerPrivateKey: signer)
        return try certificate.serializeAsPEM().pemString + "\n"
    }
}

/// A self-signed certificate for a CSR, made with the CSR's own key (community.crypto's
/// `selfsigned` provider). The key stays in this process.
public enum SelfSigned {
    public static func sign(
        _ request: CertificateRequest, privateKeyPEM: String, notBefore: Date, notAfter: Date
    ) throws -> String {
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw CertificateError("the private key is not a PEM private key (PKCS#8, SEC1 or PKCS#1)")
        }
        guard key.publicKey == request.publicKey else {
            throw CertificateError("the private key does not belong to the CSR")
        }
        var extensions = request.requestedExtensions
        if extensions[oid: .X509ExtensionID.subjectKeyIdentifier] == nil {
            try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: request.publicKey), critical: false))
        }
        return try CertificateAuthority.issue(
            subject: request.subject, publicKey: request.publicKey, extensions: extensions, issuer: request.subject,
            signer: key, notBefore: notBefore, notAfter: notAfter)
    }
}

/// X.509 times have whole seconds; a fraction would be rounded, possibly up, and a certificate
/// issued "now" would not be valid yet for a moment. Truncate, as OpenSSL and cryptography do.
func wholeSeconds(_ date: Date) -> Date {
    Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
}

/// Why a certificate operation failed, in words an operator can act on. Never carries key material.
public struct CertificateError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// PEM blocks inside larger text (a file may hold a certificate chain, or a key and a certificate).
enum PEMText {
    /// The PEM blocks with the given label, in order.
    static func blocks(_ label: String, in text: String) -> [String] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        var found: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: begin), let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) {
            found.append(String(rest[start.lowerBound..<stop.upperBound]))
            rest = rest[stop.upperBound...]
        }
        return found
    }

    static func first(_ label: String, in text: String) throws -> String {
        guard let block = blocks(label, in: text).first else {
            throw CertificateError("no PEM \(label.lowercased()) found")
        }
        return block
    }
}
