import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.raw`: the free-form text run as it is by the host's shell (or `executable`).
public enum RawModule: Module {
    public static let declaration = ActionDeclaration(
        name: "raw", qualifiedNames: ["ansible.builtin.raw", "ansible.legacy.raw"],
        // raw has no check mode in Ansible: the engine skips it under --check.
        supportsCheckMode: false,
        arguments: ArgumentSpec(
            [.init("_raw_params", .string), .init("executable", .path)], freeForm: .commandLine,
            requiredOneOf: [["_raw_params"]]),
        documentation: ActionDocumentation(
            "Runs a command line as written, through the host's shell",
            examples: """
                - name: Install python3 on a bare host
                  ansible.builtin.raw: test -e /usr/bin/python3 || apt-get install -y python3
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let text = args.string("_raw_params") ?? ""
        let command = args.string("executable").map { "\(shellQuote($0)) -c \(shellQuote(text))" } ?? text
        let result = try await context.connection.run(
            CommandRequest(command, environment: context.environment, become: context.become))
        return CommandOutput.result(result)
    }
}
