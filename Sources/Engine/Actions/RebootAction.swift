import Declarations
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `reboot`: reboots the host and waits until it is back, as Ansible's action does: it reads the
/// boot id, runs `shutdown -r`, then opens new connections until the boot id differs and the test
/// command succeeds. An engine action because it drops and reopens the host's connection.
enum RebootAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "reboot",
        arguments: ArgumentSpec([
            .init("pre_reboot_delay", .int, default: 0, aliases: ["reboot_delay"], help: "Seconds before rebooting (shutdown -r +minutes)."),
            .init("post_reboot_delay", .int, default: 0, help: "Seconds to wait once the host answers again."),
            .init("reboot_timeout", .int, default: 600, help: "Seconds to wait for the host to come back."),
            .init("connect_timeout", .int, help: "Seconds one connection attempt may take."),
            .init("test_command", .string, default: "whoami", help: "Must succeed on the rebooted host."),
            .init("msg", .string, default: "Reboot initiated by Ansible"),
            .init("search_paths", .list, default: ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"]),
            .init("boot_time_command", .string, default: "cat /proc/sys/kernel/random/boot_id"),
            .init("reboot_command", .string),
        ]),
        documentation: ActionDocumentation(
            "Reboot a machine",
            details: [
                "Needs become (shutdown runs as root). Under --check it reports the reboot without doing it, as Ansible does."
            ],
            examples: """
                - name: Reboot after the kernel update
                  ansible.builtin.reboot:
                    reboot_timeout: 300
                  become: true
                """))

    static func run(_ context: ActionContext) async throws -> ActionResult {
        let arguments = try context.checkedArguments(declaration)
        if try context.checkMode { return ActionResult(["changed": true, "elapsed": 0, "rebooted": true]) }
        let started = Date()
        let invocation = context.invocation
        let become = try ModuleAction.become(context)
        let key = invocation.delegate?.name ?? invocation.host
        let bootCommand = try arguments.requiredString("boot_time_command")
        let timeout = Double(try arguments.requiredInt("reboot_timeout"))
        let delay = max(0, try arguments.requiredInt("pre_reboot_delay"))
        func elapsed() -> Int { Int(Date().timeIntervalSince(started)) }

        let connection = try await invocation.connection()
        let before = try await connection.run(CommandRequest(bootCommand, become: become))
        guard before.succeeded else {
            return failed("failed to get boot time: \(before.stderrText)", elapsed: elapsed())
        }
        let bootID = before.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let command: String
        if let custom = arguments.string("reboot_command") {
            command = custom
        } else {
            // Ansible finds shutdown along search_paths; the first one that exists runs.
            let paths = (arguments["search_paths"]?.listValue ?? []).compactMap(\.pythonString).map { shellQuote($0 + "/shutdown") }
            let message = shellQuote(try arguments.requiredString("msg"))
            command = "for s in \(paths.joined(separator: " ")); do if [ -x \"$s\" ]; then exec \"$s\" -r \(delay / 60) \(message); fi; done; "
                + "echo 'Unable to find command \"shutdown\" in search paths' >&2; exit 127"
        }
        do {
            let result = try await connection.run(CommandRequest(command, become: become, timeout: 30))
            if !result.succeeded {
                return failed(
                    "Reboot command failed. Error was: '\(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))', "
                        + "'\(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))'", elapsed: elapsed())
            }
        } catch let error as PGHAError where error.kind == .unreachable || error.kind == .io {
            // The host went down before answering: that is the reboot.
        }
        await invocation.connections.drop(key)
        var variables = invocation.delegate?.variables ?? context.variables
        if let connectTimeout = arguments.int("connect_timeout") { variables.set("ansible_timeout", .int(connectTimeout)) }
        let deadline = started.addingTimeInterval(timeout + Double(delay))
        let test = try arguments.requiredString("test_command")
        var lastProblem = "the host did not answer"
        var rebooted = false
        while Date() < deadline {
            do {
                let attempt = try await invocation.connector.connect(host: key, variables: variables)
                if !rebooted {
                    let now = try await attempt.run(CommandRequest(bootCommand, become: become, timeout: 10))
                    let id = now.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                    if now.succeeded && !id.isEmpty && id != bootID { rebooted = true } else { lastProblem = "boot time has not changed" }
                }
                if rebooted {
                    let check = try await attempt.run(CommandRequest(test, become: become, timeout: 30))
                    if check.succeeded {
                        let pause = try arguments.requiredInt("post_reboot_delay")
                        if pause > 0 { try await Task.sleep(nanoseconds: UInt64(pause) * 1_000_000_000) }
                        await attempt.close()
                        return ActionResult(["changed": true, "elapsed": .int(elapsed()), "rebooted": true])
                    }
                    lastProblem = "test command failed: \(check.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))"
                }
                await attempt.close()
            } catch let error as PGHAError {
                lastProblem = error.message
            }
            try await Task.sleep(nanoseconds: 2_000_000_000)
        }
        return failed("Timed out waiting for \(rebooted ? "post-reboot test command" : "last boot time check") (timeout=\(Int(timeout))): \(lastProblem)", elapsed: elapsed())
    }

    static func failed(_ message: String, elapsed: Int) -> ActionResult {
        var result = ActionResult.failed(message)
        result.values["elapsed"] = .int(elapsed)
        result.values["rebooted"] = false
        return result
    }
}
