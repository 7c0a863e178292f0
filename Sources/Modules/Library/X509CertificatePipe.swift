import ClusterCA
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.crypto.x509_certificate_pipe`: issues a certificate for a CSR and returns it as
/// `certificate` (ownca: signed by a CA; selfsigned: by the CSR's own key). Signing happens in this
/// process; delegated to localhost, the CA key never reaches a host. Given the current certificate
/// as `content`, it is returned unchanged while it still fits the CSR and the CA.
public enum X509CertificatePipeModule: Module {
    public static let declaration = ActionDeclaration(
        name: "x509_certificate_pipe", qualifiedNames: ["community.crypto.x509_certificate_pipe"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            CertificateSigning.arguments + [.init("content", .string)],
            mutuallyExclusive: CertificateSigning.exclusive),
        documentation: ActionDocumentation(
            "Generate and/or check OpenSSL certificates, returning the certificate (signed on the controller)",
            examples: """
                - name: Sign the node's CSR with the cluster CA on the controller
                  community.crypto.x509_certificate_pipe:
                    csr_content: "{{ csr.csr }}"
                    provider: ownca
                    ownca_content: "{{ ca_certificate }}"
                    ownca_privatekey_content: "{{ ca_private_key }}"
                  delegate_to: localhost
                  register: signed
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        guard args.string("provider") != nil else { return .failure("missing required arguments: provider") }
        do {
            let outcome = try await CertificateSigning.decide(
                existing: args.string("content"), args: args, context: context)
            var diffs: [FileDiff] = []
            if context.diffMode && outcome.changed {
                diffs.append(
                    FileDiff(
                        before: args.string("content") ?? "", after: outcome.certificate, beforeHeader: "",
                        afterHeader: ""))
            }
            return ModuleResult(
                changed: outcome.changed, values: ["certificate": .string(outcome.certificate)], diffs: diffs)
        } catch let failure as ModuleFailure {
            return failure.result
        } catch let error as CertificateError {
            return .failure(error.message)
        }
    }
}
