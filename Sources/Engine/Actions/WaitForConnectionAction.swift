import Declarations
import Foundation
import OrderedCollections
import PGHACore
import Transport

/// `wait_for_connection`: waits until the host can be reached again (after a reboot or a power
/// loss), by opening a fresh connection and running a command on it, as Ansible's ping test does.
enum WaitForConnectionAction: EngineAction {
    static let declaration = ActionDeclaration.engineAction(
        "wait_for_connection", supportsCheckMode: false,
        arguments: ArgumentSpec([
            .init("connect_timeout", .int, default: 5, help: "Seconds one connection attempt may take."),
            .init("delay", .int, default: 0, help: "Seconds to wait before the first attempt."),
            .init("sleep", .int, default: 1, help: "Seconds between attempts."),
            .init("timeout", .int, default: 600, help: "Seconds to keep trying."),
        ]),
        documentation: ActionDocumentation(
            "Waits until remote system is reachable/usable",
            details: [
                "Each attempt opens a new connection (SSH: connect, authenticate, run a command) within "
                    + "connect_timeout; the host's earlier connection is dropped first. Skipped under --check."
            ],
            examples: """
                - name: Reboot without waiting
                  ansible.builtin.shell: sleep 1 && systemctl reboot
                  async: 1
                  poll: 0

                - name: Wait until the host is back
                  ansible.builtin.wait_for_connection:
                    delay: 5
                    timeout: 300
                """))

    static func run(_ context: ActionContext) async throws -> ActionResult {
        let arguments = try context.checkedArguments(declaration)
        if try context.checkMode { return ActionResult(["skipped": true]) }
        let connectTimeout = try arguments.requiredInt("connect_timeout")
        let delay = try arguments.requiredInt("delay")
        let pause = try arguments.requiredInt("sleep")
        let timeout = try arguments.requiredInt("timeout")
        let invocation = context.invocation
        let key = invocation.delegate?.name ?? invocation.host
        // The attempts use a connection of their own, opened within connect_timeout.
        var variables = invocation.delegate?.variables ?? context.variables
        variables.set("ansible_timeout", .int(connectTimeout))
        let start = Date()
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000_000) }
        // The host's own connection predates the outage: later tasks open a new one.
        await invocation.connections.drop(key)
        let deadline = Date().addingTimeInterval(Double(timeout))
        var lastProblem = "no attempt was made"
        while Date() < deadline {
            do {
                let connection = try await invocation.connector.connect(host: key, variables: variables)
                let answer = try await connection.run(CommandRequest("echo pong", timeout: Double(connectTimeout)))
                await connection.close()
                if answer.succeeded && answer.stdoutText.hasPrefix("pong") {
                    return .ok(["elapsed": .int(Int(Date().timeIntervalSince(start)))])
                }
                lastProblem = "ping test failed"
            } catch let error as PGHAError {
                lastProblem = error.message
            }
            try await Task.sleep(nanoseconds: UInt64(max(pause, 0)) * 1_000_000_000)
        }
        var result = ActionResult.failed("timed out waiting for ping module test: \(lastProblem)")
        result.values["elapsed"] = .int(Int(Date().timeIntervalSince(start)))
        return result
    }
}
