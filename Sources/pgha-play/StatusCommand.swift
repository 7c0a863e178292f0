import ArgumentParser
import ClusterStatus
import Engine
import Foundation
import PGHACore

/// `pgha-play status`: the cluster on one screen, over the inventory's SSH connections.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cluster: members, etcd, HAProxy, backups, alerts (and 15 minutes of lag and TPS).",
        discussion: """
            Reads every host of the inventory over SSH as a playbook run would (patronictl, etcdctl, \
            HAProxy's metrics, the backup metrics, Prometheus' API through curl on a monitoring host). \
            A host that cannot be reached is named and the rest is shown.
            """
    )

    @Option(name: [.customShort("i"), .long], help: "Inventory file, directory or comma list. Repeatable.")
    var inventory: [String] = []

    @Option(name: [.customShort("e"), .customLong("extra-vars")], help: "key=value, YAML/JSON, or @file. Repeatable.")
    var extraVars: [String] = []

    @Option(name: [.customShort("u"), .long], help: "Remote user.")
    var user: String?

    @Option(name: .customLong("private-key"), help: "SSH private key file.")
    var privateKey: String?

    @Flag(name: [.customShort("K"), .customLong("ask-become-pass")], help: "Ask for the sudo password.")
    var askBecomePass = false

    @Option(name: .long, help: "Output format: human or json (one JSON document per look).")
    var output: RunCommand.OutputFormat = .human

    @Flag(name: .long, help: "Look again every --interval seconds, redrawing in place.")
    var watch = false

    @Option(name: .long, help: "Seconds between looks with --watch.")
    var interval: Double = 5

    @Option(name: .long, help: "Seconds to wait for a host's SSH connection.")
    var timeout: Double = 5

    func validate() throws {
        if interval < 1 { throw ValidationError("--interval must be at least 1 second.") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive.") }
    }

    func run() async throws {
        let project = ProjectConfiguration.discover(from: FileManager.default.currentDirectoryPath)
        var options = RunOptions()
        options.inventorySources = inventory.isEmpty ? project.defaultInventory.map { [$0] } ?? [] : inventory
        options.remoteUser = user
        options.privateKeyFile = privateKey
        options.extraVars = try ExtraVarsParser.parse(extraVars)
        var statusOptions = StatusOptions()
        statusOptions.connectTimeout = timeout
        if askBecomePass { statusOptions.become.password = try PasswordPrompt.read("BECOME password: ") }
        let defaults = try InventoryHosts.loadRoleDefaults(roles: ClusterLayout.roles, searchPaths: project.roleSearchPaths)
        let hosts = try InventoryHosts(options: options, roleDefaults: defaults)
        let collector = try StatusCollector(hosts: hosts, options: statusOptions)
        let terminal = isatty(STDOUT_FILENO) == 1
        let screen = StatusScreen(
            sparklines: terminal, colors: terminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
        repeat {
            let report = await collector.collect()
            let text: String
            if output == .json {
                text = JSON.encode(report.jsonValue, style: watch ? .compact : .pythonPretty) + "\n"
            } else {
                // Redraw in place: home the cursor and clear the screen before each look.
                text = (watch && terminal ? "\u{1B}[H\u{1B}[2J" : "") + screen.render(report)
            }
            FileHandle.standardOutput.write(Data(text.utf8))
            if watch { try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000)) }
        } while watch
        await collector.close()
    }
}
