import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.slurp`: a remote file's bytes, base64-encoded, in one round trip.
public enum SlurpModule: Module {
    public static let declaration = ActionDeclaration(
        name: "slurp", qualifiedNames: ["ansible.builtin.slurp", "ansible.legacy.slurp"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([.init("src", .path, required: true, aliases: ["path"])]),
        documentation: ActionDocumentation(
            "Slurps a file from remote nodes",
            examples: """
                - name: Read the cluster's CA certificate
                  ansible.builtin.slurp:
                    src: /etc/patroni/ca.crt
                  register: ca

                - name: Show it
                  ansible.builtin.debug:
                    msg: "{{ ca.content | b64decode }}"
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let src = args.string("src") ?? ""
        let q = RemoteProbe.tildeQuote(src)
        // Exit codes tell the failures apart without a second round trip.
        let script =
            "p=\(q); [ -e \"$p\" ] || exit 72; [ -d \"$p\" ] && exit 73; [ -r \"$p\" ] || exit 74; exec cat -- \"$p\""
        let result = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become))
        switch result.exitStatus {
        case 0:
            return ModuleResult(
                changed: false,
                values: [
                    "content": .string(Base64.encode(result.stdout)), "source": .string(src),
                    "encoding": "base64",
                ])
        case 72: return .failure("file not found: \(src)")
        case 73: return .failure("source is a directory and must be a file: \(src)")
        case 74: return .failure("file is not readable: \(src)")
        default:
            return .failure(
                "unable to slurp file: \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

