import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `ansible.builtin.script`: copies a controller-side script to the host, runs it with its
/// arguments (through `executable` when given), and removes it.
public enum ScriptModule: Module {
    public static let declaration = ActionDeclaration(
        name: "script", qualifiedNames: ["ansible.builtin.script", "ansible.legacy.script"],
        supportsCheckMode: true, keepsHostLocale: true,
        arguments: ArgumentSpec(
            [
                .init("_raw_params", .string, aliases: ["cmd"]),
                .init("chdir", .path),
                .init("creates", .path),
                .init("removes", .path),
                .init("executable", .string),
                .init("decrypt", .bool, default: true),
            ], freeForm: .commandLine, requiredOneOf: [["_raw_params"]]),
        documentation: ActionDocumentation(
            "Runs a local script on a remote node after transferring it",
            examples: """
                - name: Run a local script with an argument, once
                  ansible.builtin.script: scripts/prepare.sh --fast
                  args:
                    creates: /var/lib/prepared
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let words: [String]
        do {
            words = try ShellWords.split(args.string("_raw_params") ?? "")
        } catch {
            return .failure("cannot parse the script line: \(error)")
        }
        guard let source = words.first else { return .failure("no script given") }
        // creates/removes are checked first, in one command.
        switch try await CommandOutput.pathCondition(args, context: context) {
        case .created(let creates)?:
            return ModuleResult(changed: false, skipped: true, msg: "skipped, since \(creates) exists")
        case .removed(let removes)?:
            return ModuleResult(changed: false, skipped: true, msg: "skipped, since \(removes) does not exist")
        case nil:
            break
        }
        if context.checkMode {
            return ModuleResult(changed: false, skipped: true, msg: "Check mode is not supported for this task")
        }
        guard let local = context.resolveLocalPath(source, "files") else {
            return .failure("Could not find or access '\(source)' on the Ansible Controller.")
        }
        let data: [UInt8]
        do {
            data = try context.readLocalFile(local, args.bool("decrypt") ?? true)
        } catch let error as PGHAError where error.kind == .io {
            return .failure("Could not find or access '\(source)' on the Ansible Controller.")
        }
        let made = try await context.connection.run(
            CommandRequest("mktemp -d \"${TMPDIR:-/tmp}/pgha-script.XXXXXXXX\"", become: context.become))
        guard made.succeeded else { return .failure("could not create a temporary directory: \(made.stderrText)") }
        let dir = made.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let remote = dir + "/" + (local as NSString).lastPathComponent
        try await context.connection.put(
            [UInt8](data), to: remote, attributes: FileAttributes(mode: 0o700), become: context.become)
        let argsText = words.dropFirst().map(shellQuote).joined(separator: " ")
        let invoke = (args.string("executable").map { "\($0) " } ?? "") + shellQuote(remote)
        var line = invoke + (argsText.isEmpty ? "" : " " + argsText)
        if let chdir = args.string("chdir") { line = "cd \(RemoteProbe.tildeQuote(chdir)) && " + line }
        // The trap removes the copy however the script ends.
        let script = "trap 'rm -rf -- \(shellQuote(dir))' EXIT\n\(line)\n"
        let result = try await context.connection.run(
            CommandRequest(script, environment: context.environment, become: context.become))
        return CommandOutput.result(result)
    }
}
