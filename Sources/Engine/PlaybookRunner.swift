import Foundation
import OrderedCollections
import Inventory
import PGHACore
import Playbook
import Template
import Vault

/// How a run ended, mapped to ansible-playbook's exit codes by the CLI.
public enum RunOutcome: Sendable, Equatable {
    case success
    case hostFailed
    case hostUnreachable
    case interrupted

    /// ansible-playbook's exit status: 0 ok, 2 a host failed, 4 a host was unreachable, 99 interrupted.
    public var exitCode: Int32 {
        switch self {
        case .success: return 0
        case .hostFailed: return 2
        case .hostUnreachable: return 4
        case .interrupted: return 99
        }
    }
}

/// Runs a loaded playbook against an inventory: plays in order, each with its strategy, handlers
/// and recap. The run's state (`RunState`) goes to each play's executor in turn and comes back.
public final class PlaybookRunner {
    let playbook: Playbook
    let inventory: Inventory
    let options: RunOptions
    let services: RunServices

    public init(
        playbook: Playbook, inventory: Inventory, options: RunOptions, loader: any DynamicLoader,
        connector: any Connector, sink: any EventSink, redactor: Redactor = Redactor(), vault: VaultContext? = nil,
        templateEngine: TemplateEngine = TemplateEngine()
    ) {
        self.playbook = playbook
        self.inventory = inventory
        self.options = options
        let vault = vault ?? VaultContext(secrets: options.vaultSecrets, redactor: redactor)
        var engine = templateEngine
        var lookups = templateEngine.lookups
        if var files = lookups as? DefaultLookups, files.readFile == nil {
            files.readFile = { path in String(decoding: try vault.readFile(path), as: UTF8.self) }
            lookups = files
        }
        engine.lookups = InventoryLookups(inventory: inventory, base: lookups)
        engine.derivedSecrets = redactor
        self.services = RunServices(
            options: options, playbookDirectory: playbook.directory, loader: loader, connector: connector,
            connections: ConnectionPool(),
            // Every event passes the redactor on its way out, whatever produced it.
            sink: RedactingSink(inner: sink, redactor: redactor),
            templating: Templating(engine: engine), redactor: redactor, vault: vault)
    }

    public func run() async throws -> RunOutcome {
        try registerSecrets()
        var state = RunState(inventory: inventory)
        var order: [String] = []
        var interrupted = false
        for play in playbook.plays {
            for (name, value) in play.vars { SecretNames.register(name: name, value: value, with: services.redactor) }
            let execution = PlayExecution(play: play, state: state, services: services)
            var keepGoing = false
            do {
                keepGoing = try await execution.run()
            } catch where _Concurrency.Task.isCancelled {
                // Ctrl-C (the CLI cancels the run): the tasks under way were stopped and no other
                // starts; what ran is in the state, and the recap below shows it.
                interrupted = true
            }
            let (after, hosts) = await execution.finish()
            state = after
            for host in hosts where !order.contains(host) { order.append(host) }
            if !keepGoing || interrupted { break }
        }
        // Not cancelled with the run: closing removes each session's private upload directory.
        let connections = services.connections
        await _Concurrency.Task.detached { await connections.closeAll() }.value
        let recap = state.recap(of: order)
        services.sink.handle(.recap(recap))
        if interrupted || _Concurrency.Task.isCancelled { return .interrupted }
        if recap.values.contains(where: { $0.unreachable > 0 }) { return .hostUnreachable }
        if recap.values.contains(where: { $0.failed > 0 }) { return .hostFailed }
        return .success
    }

    /// Every inventory value marked secret is masked wherever it would be printed.
    private func registerSecrets() throws {
        let redactor = services.redactor
        for host in inventory.hosts(inGroup: "all") {
            for layer in try inventory.variables(for: host, playbookDirectory: playbook.directory) {
                for (name, value) in layer.values {
                    if layer.origin(of: name).isSecret {
                        redactor.register(value: value)
                    } else {
                        SecretNames.register(name: name, value: value, with: redactor)
                    }
                }
            }
        }
        for (name, value) in options.extraVars { SecretNames.register(name: name, value: value, with: redactor) }
        if let password = options.becomePassword { redactor.register(password) }
        if let password = options.connectionPassword { redactor.register(password) }
    }
}
