import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.shell`: runs a command line through the shell.
public enum ShellModule: Module {
    public static let declaration = ActionDeclaration(
        name: "shell", qualifiedNames: ["ansible.builtin.shell", "ansible.legacy.shell"],
        supportsCheckMode: true, keepsHostLocale: true,
        arguments: ArgumentSpec(
            [
                .init("_raw_params", .string, aliases: ["cmd"]),
                .init("chdir", .path),
                .init("creates", .path),
                .init("removes", .path),
                .init("executable", .path),
                .init("stdin", .string),
                .init("stdin_add_newline", .bool, default: true),
                .init("strip_empty_ends", .bool, default: true),
            ], freeForm: .commandLine, requiredOneOf: [["_raw_params"]]),
        documentation: ActionDocumentation(
            "Execute shell commands on targets",
            examples: """
                - name: Count the WAL files
                  ansible.builtin.shell: ls /var/lib/postgresql/15/main/pg_wal | wc -l
                  register: wal_files
                  changed_when: false
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let command = args.string("_raw_params") ?? ""
        guard !command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .failure("no command given", values: ["rc": 256])
        }
        var line = command
        if let executable = args.string("executable") {
            line = "exec \(shellQuote(executable)) -c \(shellQuote(command))"
        }
        return try await CommandRunner.run(
            commandLine: line, reportedCommand: .string(command), args: args, context: context)
    }
}

/// The part `command` and `shell` share: creates/removes, chdir, stdin, timing and result keys.
