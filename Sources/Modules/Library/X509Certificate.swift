import ClusterCA
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `community.crypto.x509_certificate`: a certificate file issued for a CSR (ownca or selfsigned),
/// signed in this process and written through the connection like `copy` (mode, owner, backup,
/// check mode and diff as copy has them). Kept while it still fits the CSR, key and CA.
public enum X509CertificateModule: Module {
    public static let declaration = ActionDeclaration(
        name: "x509_certificate", qualifiedNames: ["community.crypto.x509_certificate"],
        supportsCheckMode: true, supportsDiff: true,
        arguments: ArgumentSpec(
            CertificateSigning.arguments + [
                .init("path", .path, required: true),
                .init("state", .choice(["present", "absent"]), default: "present"),
                .init("backup", .bool, default: false),
                .init("return_content", .bool, default: false),
                .init("mode", .mode),
                .init("owner", .string),
                .init("group", .string),
                .init("unsafe_writes", .bool, default: false),
            ], mutuallyExclusive: CertificateSigning.exclusive),
        documentation: ActionDocumentation(
            "Generate and/or check OpenSSL certificates (signed on the controller with ownca or selfsigned)",
            examples: """
                - name: A certificate signed by the cluster CA, written on the controller
                  community.crypto.x509_certificate:
                    path: /tmp/node1.crt
                    csr_path: /tmp/node1.csr
                    provider: ownca
                    ownca_path: /etc/pgha/ca.crt
                    ownca_privatekey_path: /etc/pgha/ca.key
                  delegate_to: localhost
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let path = args.string("path") ?? ""
        let q = RemoteProbe.tildeQuote(path)
        do {
            let read = try await context.connection.run(
                CommandRequest(
                    "p=\(q); if [ -e \"$p\" ]; then echo present; cat -- \"$p\"; else echo absent; fi",
                    environment: context.environment, become: context.become))
            guard read.succeeded else {
                return .failure("cannot read \(path): \(read.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            let exists = read.stdoutText.hasPrefix("present\n")
            let existing = exists ? String(read.stdoutText.dropFirst("present\n".count)) : nil
            if args.string("state") == "absent" {
                if exists && !context.checkMode {
                    _ = try await FileSupport.runChecked("rm -f -- \(q)", context: context, what: "removing \(path) failed")
                }
                return ModuleResult(changed: exists, values: ["filename": .string(path)])
            }
            guard args.string("provider") != nil else {
                return .failure("state is present but all of the following are missing: provider")
            }
            let outcome = try await CertificateSigning.decide(existing: existing, args: args, context: context)
            // Here `force` means "issue anew"; the write itself always replaces a differing file.
            var writeArguments = args
            writeArguments.values["force"] = .bool(true)
            var result = try await FileWriter.write(
                FileWriter.Request(
                    data: Array(outcome.certificate.utf8), dest: path, sourceName: nil, afterHeader: path,
                    preservedMode: nil),
                args: writeArguments, context: context)
            if result.failed { return result }
            var values: OrderedDictionary<String, Value> = ["filename": .string(path)]
            for key in ["csr_path", "privatekey_path", "ownca_path", "ownca_privatekey_path"] {
                if let value = args.string(key) { values[key.replacingOccurrences(of: "_path", with: "")] = .string(value) }
            }
            if let backup = result.values["backup_file"] { values["backup_file"] = backup }
            if args.bool("return_content") == true { values["certificate"] = .string(outcome.certificate) }
            result.values = values
            return result
        } catch let failure as ModuleFailure {
            return failure.result
        } catch let error as CertificateError {
            return .failure(error.message)
        }
    }
}
