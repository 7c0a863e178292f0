import Foundation
import SwiftASN1
import X509

/// A PEM certificate signing request, its signature checked when it is read.
public struct CertificateRequest: Sendable {
    let request: CertificateSigningRequest

    public init(pem: String) throws {
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemEncoded: PEMText.first("CERTIFICATE REQUEST", in: pem))
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError("the CSR does not parse (\(error))")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw CertificateError("the CSR's signature does not verify with its own public key")
        }
        self.request = request
    }

    public var subject: DistinguishedName { request.subject }
    public var publicKey: Certificate.PublicKey { request.publicKey }

    /// The extensions the requester asks for (its extensionRequest attribute); none when absent.
    public var requestedExtensions: Certificate.Extensions {
        ((try? request.attributes.extensionRequest) ?? nil)?.extensions ?? Certificate.Extensions()
    }

    /// The requested subject alternative names, as OpenSSL prints them (`DNS:name`, `IP:1.2.3.4`).
    public var subjectAlternativeNames: [String] {
        ((try? requestedExtensions.subjectAlternativeNames) ?? nil).map(SubjectAltName.describe) ?? []
    }
}

/// Subject alternative names in OpenSSL's spelling.
public enum SubjectAltName {
    /// `DNS:name`, `IP:192.0.2.1` or `IP:2001:db8::1`, `email:a@b`, `URI:...`.
    static func describe(_ names: SubjectAlternativeNames) -> [String] {
        names.map { name in
            switch name {
            case .dnsName(let dns): return "DNS:" + dns
            case .ipAddress(let octets): return "IP:" + ipText(Array(octets.bytes))
            case .rfc822Name(let mail): return "email:" + mail
            case .uniformResourceIdentifier(let uri): return "URI:" + uri
            default: return String(describing: name)
            }
        }
    }

    /// An address (4 or 16 bytes) as OpenSSL prints it: dotted IPv4, RFC 5952 IPv6.
    public static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes.count == 16 {
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
            }
            return compressIPv6(groups)
        }
        return bytes.map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// RFC 5952: the longest run of two or more zero groups becomes `::`.
    static func compressIPv6(_ groups: [String]) -> String {
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < groups.count {
            if groups[index] == "0" {
                var end = index
                while end < groups.count && groups[end] == "0" { end += 1 }
                if end - index > bestLength && end - index >= 2 {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        guard bestStart >= 0 else { return groups.joined(separator: ":") }
        let head = groups[..<bestStart].joined(separator: ":")
        let tail = groups[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
