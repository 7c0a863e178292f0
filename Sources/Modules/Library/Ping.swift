import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.ping`: proves a command runs on the host; returns `ping: <data>`.
public enum PingModule: Module {
    public static let declaration = ActionDeclaration(
        name: "ping", qualifiedNames: ["ansible.builtin.ping", "ansible.legacy.ping"],
        supportsCheckMode: true,
        arguments: ArgumentSpec([.init("data", .string, default: "pong")]),
        documentation: ActionDocumentation(
            "Try to connect to host, verify a usable command line, return pong on success",
            examples: """
                - name: Check that each host answers
                  ansible.builtin.ping:
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let data = args.string("data") ?? "pong"
        if data == "crash" { return .failure("boom") }
        let result = try await context.connection.run(
            CommandRequest("echo pong", environment: context.environment, become: context.become))
        guard result.succeeded else {
            return .failure("ping failed: \(result.stderrText)", values: ["rc": .int(Int(result.exitStatus))])
        }
        return ModuleResult(changed: false, values: ["ping": .string(data)])
    }
}
