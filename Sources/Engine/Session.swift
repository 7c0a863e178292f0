import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Playbook
import Template
import Vault

/// One invocation of pgha-play: the inventory and playbooks loaded and checked up front (so bad
/// input fails before any host is touched), then listed or run.
public struct Session {
    public let playbooks: [Playbook]
    public let inventory: Inventory
    public let options: RunOptions
    /// Knows every secret of the run (vaulted values as they are decrypted, secret-named variables).
    public let redactor: Redactor
    let vault: VaultContext
    let loader: PlaybookLoader

    /// - Parameter redactor: the run's redactor, when the caller has registered secrets already
    ///   (a vaulted `-e @file`) or masks errors with it.
    public init(playbookPaths: [String], options: RunOptions, redactor: Redactor = Redactor()) throws {
        self.options = options
        self.redactor = redactor
        let vault = VaultContext(secrets: options.vaultSecrets, redactor: redactor)
        self.vault = vault
        let templates = TemplateEngine()
        let loader = PlaybookLoader(
            roleSearchPaths: options.roleSearchPaths, catalog: ActionRegistry.catalog, strategies: Strategies.names,
            vault: vault, templateSyntax: .jinja(templates), collectionPaths: options.collectionPaths)
        self.loader = loader
        self.inventory = try Inventory.load(sources: options.inventorySources, vault: vault)
        if let limit = options.limit { try Inventory.validatePattern(limit, at: SourceLocation(file: "<--limit>")) }
        self.playbooks = try playbookPaths.map { try loader.load(playbookPath: $0) }
        try VaultPreflight.check(playbooks, vault: vault)
        try TemplatePreflight.check(
            playbooks, inventory: inventory, extraVars: options.extraVars, vault: vault, engine: templates)
        for play in playbooks.flatMap(\.plays) {
            for pattern in play.hosts.listValue ?? [play.hosts] {
                guard let text = pattern.stringValue, !TemplateEngine.isTemplate(text) else { continue }
                try Inventory.validatePattern(text, at: play.location)
            }
        }
    }

    /// Runs every playbook in order with one set of host states and one recap.
    public func run(sink: any EventSink) async throws -> RunOutcome {
        for playbook in playbooks {
            for warning in playbook.warnings { sink.handle(.warning(warning.description)) }
        }
        guard let first = playbooks.first else { return .success }
        let combined = Playbook(path: first.path, plays: playbooks.flatMap(\.plays))
        let runner = PlaybookRunner(
            playbook: combined, inventory: inventory, options: options, loader: loader,
            connector: HostConnector(options: options), sink: sink, redactor: redactor, vault: vault)
        return try await runner.run()
    }

    /// `--list-hosts`, `--list-tasks`, `--list-tags` in ansible-playbook's layout.
    public func listing(hosts: Bool, tasks: Bool, tags: Bool) throws -> String {
        var out = ""
        let filter = TagFilter(only: options.tags, skip: options.skipTags)
        for playbook in playbooks {
            out += "\nplaybook: \(playbook.path)\n"
            for (index, play) in playbook.plays.enumerated() {
                let pattern = Templating.display(play.hosts)
                out += "\n  play #\(index + 1) (\(pattern)): \(play.name ?? pattern)\tTAGS: [\(play.keywords.tags.joined(separator: ", "))]\n"
                if hosts {
                    let selected = try inventory.select(pattern, limit: options.limit).hosts
                    out += "    pattern: ['\(pattern)']\n    hosts (\(selected.count)):\n"
                    for host in selected { out += "      \(host)\n" }
                }
                let all = play.preTasks + play.roles + play.tasks + play.postTasks
                if tasks {
                    out += "    tasks:\n"
                    for task in Self.flatten(all) where filter.shouldRun(tags: task.keywords.tags) {
                        out += "      \(task.displayName)\tTAGS: [\(task.keywords.tags.sorted().joined(separator: ", "))]\n"
                    }
                }
                if tags {
                    var used = OrderedSet<String>()
                    for task in Self.flatten(all) where filter.shouldRun(tags: task.keywords.tags) {
                        for tag in task.keywords.tags { used.append(tag) }
                    }
                    out += "      TASK TAGS: [\(used.sorted().joined(separator: ", "))]\n"
                }
            }
        }
        return out
    }

    static func flatten(_ nodes: [TaskNode]) -> [Task] {
        nodes.flatMap { node -> [Task] in
            switch node {
            case .task(let task): return [task]
            case .block(let block): return flatten(block.block + block.rescue + block.always)
            }
        }
    }
}
