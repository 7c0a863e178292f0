import ArgumentParser
import Foundation
import PGHACore
import ProjectSetup
import Vault

/// `pgha-play init DIR --postgres NAME=ADDR,... --witness NAME=ADDR`: a ready inventory directory
/// for the operator's own cluster.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a ready inventory directory for your own cluster.",
        discussion: """
            DIR (new, or empty) gets hosts.ini ([postgres], [witness]), group_vars/all/main.yml (every setting \
            with a comment), group_vars/all/vault.yml (every secret freshly generated, encrypted), the vault \
            password in DIR/.vault-pass (0600; not with --ask-vault-pass) and pgha-play.yml, so that \
            `cd DIR && pgha-play site.yml` deploys the cluster with the built-in roles.
            The cluster network defaults to the smallest /24 holding the database nodes, the admin network to \
            this machine's address toward them, the client network to the cluster network.
            """)

    @Argument(help: "The directory to write (it must not exist, or be empty).")
    var directory: String

    @Option(name: .customLong("postgres"), help: "Database nodes, NAME=ADDR[,NAME=ADDR...]: at least 2. Repeatable.")
    var postgres: [String] = []

    @Option(name: .customLong("witness"), help: "The etcd-only witness, NAME=ADDR.")
    var witness: [String] = []

    @Option(name: [.customShort("u"), .long], help: "SSH user on the hosts (with sudo); default: your login name.")
    var user: String?

    @Option(name: .customLong("private-key"), help: "SSH private key file; default: your agent or ~/.ssh keys.")
    var privateKey: String?

    @Option(name: .customLong("admin-network"), help: "CIDR allowed to SSH in and see the HAProxy stats. Repeatable.")
    var adminNetworks: [String] = []

    @Option(name: .customLong("client-network"), help: "CIDR allowed to connect to HAProxy's 5432 and 5433. Repeatable.")
    var clientNetworks: [String] = []

    @Option(name: .customLong("cluster-network"), help: "CIDR the database nodes replicate over.")
    var clusterNetwork: String?

    @Flag(name: .customLong("allow-two-member-etcd"), help: "Accept no witness: etcd on 2 members, no automatic failover.")
    var allowTwoMemberEtcd = false

    @Flag(name: [.customShort("J"), .customLong("ask-vault-pass")], help: "Ask for the vault password instead of generating DIR/.vault-pass.")
    var askVaultPass = false

    func run() throws {
        var request = InitRequest(directory: directory)
        request.postgres = try postgres.flatMap { try ClusterHost.parseList($0, option: "--postgres") }
        request.witnesses = try witness.flatMap { try ClusterHost.parseList($0, option: "--witness") }
        request.user = user
        request.privateKey = privateKey
        request.adminNetworks = adminNetworks
        request.clientNetworks = clientNetworks
        request.clusterNetwork = clusterNetwork
        request.allowTwoMemberEtcd = allowTwoMemberEtcd
        try ProjectInitializer.check(request)
        if askVaultPass {
            let secrets = try VaultOptions.reader.secrets(
                for: [VaultIdentity(source: .prompt(askVaultPass: true))], confirmNew: true)
            request.vaultPassword = secrets.secrets.first?.password
        }
        let plan = try ProjectInitializer.plan(request)
        for warning in plan.warnings { FileHandle.standardError.write(Data("[WARNING]: \(warning)\n".utf8)) }
        try ProjectInitializer.write(plan)

        print("Wrote \(directory):")
        for file in plan.files { print("  \(file.path)") }
        print("""

            Next:
              cd \(shellQuote(directory))
              pgha-play site.yml\(askVaultPass ? " -J" : "")          # deploys the cluster (built-in site.yml and roles)
              pgha-play playbooks list   # switchover, rolling restart, add a node, restore test
            """)
    }
}
