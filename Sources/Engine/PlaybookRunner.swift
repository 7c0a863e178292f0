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
/// and recap. Owns the per-host state for the whole run.
public final class PlaybookRunner {
    let playbook: Playbook
    var inventory: Inventory
    let options: RunOptions
    let loader: any DynamicLoader
    let connector: any Connector
    let sink: any EventSink
    let templating: Templating
    let redactor: Redactor
    /// Decrypts vaulted vars files, `include_vars` files and `copy`/`template` sources at run time.
    let vault: VaultContext
    var hosts: [String: HostRuntime] = [:]
    let connections = ConnectionPool()

    public init(
        playbook: Playbook, inventory: Inventory, options: RunOptions, loader: any DynamicLoader,
        connector: any Connector, sink: any EventSink, redactor: Redactor = Redactor(), vault: VaultContext? = nil,
        templateEngine: TemplateEngine = TemplateEngine()
    ) {
        self.playbook = playbook
        self.inventory = inventory
        self.options = options
        self.loader = loader
        self.connector = connector
        // Every event passes the redactor on its way out, whatever produced it.
        self.sink = RedactingSink(inner: sink, redactor: redactor)
        self.redactor = redactor
        self.vault = vault ?? VaultContext(secrets: options.vaultSecrets, redactor: redactor)
        var engine = templateEngine
        var lookups = templateEngine.lookups
        if var files = lookups as? DefaultLookups, files.readFile == nil {
            let vault = self.vault
            files.readFile = { path in String(decoding: try vault.readFile(path), as: UTF8.self) }
            lookups = files
        }
        engine.lookups = InventoryLookups(inventory: inventory, base: lookups)
        engine.derivedSecrets = redactor
        self.templating = Templating(engine: engine)
    }

    public func run() async throws -> RunOutcome {
        try registerSecrets()
        var order: [String] = []
        for play in playbook.plays {
            for (name, value) in play.vars where SecretNames.isSecret(name) { redactor.register(value: value) }
            let execution = PlayExecution(play: play, runner: self)
            let keepGoing = try await execution.run()
            for host in execution.allHosts where !order.contains(host) { order.append(host) }
            if !keepGoing { break }
        }
        await connections.closeAll()
        var recap = OrderedDictionary<String, HostStats>()
        for host in order.sorted() {
            recap[host] = hosts[host]?.stats ?? HostStats()
        }
        sink.handle(.recap(recap))
        if recap.values.contains(where: { $0.unreachable > 0 }) { return .hostUnreachable }
        if recap.values.contains(where: { $0.failed > 0 }) { return .hostFailed }
        return .success
    }

    func runtime(_ host: String) -> HostRuntime {
        if let existing = hosts[host] { return existing }
        let created = HostRuntime(name: host)
        hosts[host] = created
        return created
    }

    /// Every inventory value marked secret is masked wherever it would be printed.
    private func registerSecrets() throws {
        for host in inventory.hosts(inGroup: "all") {
            for layer in try inventory.variables(for: host, playbookDirectory: playbook.directory) {
                for (name, value) in layer.values where layer.origin(of: name).isSecret || SecretNames.isSecret(name) {
                    redactor.register(value: value)
                }
            }
        }
        for (name, value) in options.extraVars where SecretNames.isSecret(name) { redactor.register(value: value) }
        if let password = options.becomePassword { redactor.register(password) }
        if let password = options.connectionPassword { redactor.register(password) }
    }
}
