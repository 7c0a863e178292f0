import ArgumentParser
import Engine
import Foundation
import Output
import OrderedCollections
import PGHACore
import Vault

/// `pgha-play [options] PLAYBOOK...`, in ansible-playbook's shape.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one or more playbooks (the default command).",
        discussion: """
            pgha-play.yml (optional, found by walking up from the working directory) names the inventory, \
            playbook_dirs, roles_path and vault_password_file; without it the working directory is the project.
            Inventory: -i, else pgha-play.yml's, else ./hosts.ini, ./inventory/ or ./inventory.ini (the first that exists).
            Playbook: the path as given, else in playbook_dirs (default playbooks/), else built in (pgha-play playbooks list).
            Role: roles/ beside the playbook, roles_path (default roles/), then built in (pgha-play roles list): a role \
            of your own overrides the built-in one of the same name.
            """
    )

    @Argument(help: "Playbooks to run: a path, or a bare name (site.yml) found in playbook_dirs, then among the built-in ones.")
    var playbooks: [String] = []

    @Option(
        name: [.customShort("i"), .long],
        help: "Inventory file, directory or comma list (host1,host2,). Repeatable. Default: pgha-play.yml's, else ./hosts.ini, ./inventory/, ./inventory.ini.")
    var inventory: [String] = []

    @Option(name: [.customShort("l"), .long], help: "Limit to hosts matching this pattern (a:b, a:&b, a:!b, globs).")
    var limit: String?

    @Option(name: [.customShort("t"), .long], help: "Only run tasks with these tags (comma separated, repeatable).")
    var tags: [String] = []

    @Option(name: .customLong("skip-tags"), help: "Skip tasks with these tags.")
    var skipTags: [String] = []

    @Flag(name: [.customShort("C"), .long], help: "Predict changes without making them.")
    var check = false

    @Flag(name: [.customShort("D"), .long], help: "Show what changes, as unified diffs.")
    var diff = false

    @Option(name: [.customShort("e"), .customLong("extra-vars")], help: "key=value, YAML/JSON, or @file. Repeatable.")
    var extraVars: [String] = []

    @Option(name: [.customShort("f"), .long], help: "Hosts worked on at once.")
    var forks: Int = 50

    @Flag(name: .customLong("list-hosts"), help: "List the hosts each play would run on.")
    var listHosts = false

    @Flag(name: .customLong("list-tasks"), help: "List the tasks each play would run.")
    var listTasks = false

    @Flag(name: .customLong("list-tags"), help: "List the tags in use.")
    var listTags = false

    @Flag(name: .customLong("syntax-check"), help: "Check the playbooks and stop.")
    var syntaxCheck = false

    @Option(name: [.customShort("c"), .long], help: "Connection: ssh or local.")
    var connection: String?

    @Option(name: [.customShort("u"), .long], help: "Remote user.")
    var user: String?

    @Option(name: .customLong("private-key"), help: "SSH private key file.")
    var privateKey: String?

    @Flag(name: [.customShort("k"), .customLong("ask-pass")], help: "Ask for the SSH password.")
    var askPass = false

    @Flag(name: [.customShort("b"), .long], help: "Run operations with become (sudo).")
    var become = false

    @Option(name: .customLong("become-user"), help: "User to become (default root).")
    var becomeUser: String?

    @Flag(name: [.customShort("K"), .customLong("ask-become-pass")], help: "Ask for the sudo password.")
    var askBecomePass = false

    @Option(name: [.customShort("T"), .long], help: "Connection timeout in seconds; also how long a connected host may stay silent.")
    var timeout: Double = 10

    @Flag(name: .customLong("accept-new-host-keys"), help: "Record unknown SSH host keys instead of refusing them.")
    var acceptNewHostKeys = false

    @Flag(name: .customShort("v"), help: "More output (-v to -vvvv).")
    var verbose: Int

    @Option(name: .long, help: "Output format: human or json (JSON lines).")
    var output: OutputFormat = .human

    @Flag(name: .long, help: "After the recap: the slowest tasks, time per role and round trips per task.")
    var profile = false

    @OptionGroup(title: "Vault") var vault: VaultOptions

    enum OutputFormat: String, ExpressibleByArgument {
        case human, json
    }

    func validate() throws {
        if playbooks.isEmpty {
            throw ValidationError("Missing a playbook to run (e.g. pgha-play site.yml).")
        }
        if let connection, !["ssh", "local"].contains(connection) {
            throw ValidationError("--connection must be ssh or local, not '\(connection)'.")
        }
        if forks < 1 { throw ValidationError("--forks must be at least 1.") }
        if !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds.") }
    }

    func run() async throws {
        // Decrypted values are secrets from the moment they are read; errors are masked with them too.
        let redactor = Redactor()
        do {
            try await run(redactor: redactor)
        } catch let error as PGHAError {
            throw redactor.redact(error)
        }
    }

    private func run(redactor: Redactor) async throws {
        var options = RunOptions()
        let project = ProjectConfiguration.discover(from: FileManager.default.currentDirectoryPath)
        options.inventorySources = inventory.isEmpty ? project.defaultInventory.map { [$0] } ?? [] : inventory
        options.limit = limit
        options.tags = tags.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        options.skipTags = skipTags.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        options.check = check
        options.diff = diff
        options.forks = forks
        options.connection = connection.flatMap(RunOptions.ConnectionKind.init(rawValue:))
        options.remoteUser = user
        options.privateKeyFile = privateKey
        options.become = become
        options.becomeUser = becomeUser
        options.verbosity = verbose
        options.acceptNewHostKeys = acceptNewHostKeys
        options.connectionTimeout = timeout
        options.roleSearchPaths = project.roleSearchPaths
        options.collectionPaths = project.collectionSearchPaths(environment: ProcessInfo.processInfo.environment)
        options.vaultSecrets = try vault.secrets(project: project, autoPrompt: false)
        options.extraVars = try ExtraVarsParser.parse(extraVars, vault: VaultContext(secrets: options.vaultSecrets, redactor: redactor))
        if askPass { options.connectionPassword = try PasswordPrompt.read("SSH password: ") }
        if askBecomePass { options.becomePassword = try PasswordPrompt.read("BECOME password: ") }
        let paths = try playbooks.map { try project.resolvePlaybook($0) }
        var sink: any EventSink =
            output == .json ? JSONLinesOutput() : HumanOutput(verbosity: verbose)
        if profile { sink = ProfileSummary(wrapping: sink, json: output == .json) }
        let session = try Session(playbookPaths: paths, options: options, redactor: redactor)
        if syntaxCheck {
            for path in paths { print("\nplaybook: \(path)") }
            return
        }
        if listHosts || listTasks || listTags {
            print(try session.listing(hosts: listHosts, tasks: listTasks, tags: listTags))
            return
        }
        let outcome = try await SignalHandling.stoppable { try await session.run(sink: sink) }
        if outcome != .success { throw ExitCode(outcome.exitCode) }
    }
}
