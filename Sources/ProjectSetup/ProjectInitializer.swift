import ClusterCA
import Foundation
import PGHACore
import Vault

/// What `pgha-play init` writes: every file with its bytes and mode, made and checked in memory
/// before anything touches the disk.
public struct InitPlan: Sendable {
    public struct File: Sendable {
        /// Relative to the directory.
        public var path: String
        public var contents: [UInt8]
        public var mode: mode_t
    }

    public var directory: String
    public var files: [File]
    /// Said to the user, not refused (a two-member etcd).
    public var warnings: [String]
}

/// `pgha-play init DIR`: a ready inventory directory for a cluster (hosts.ini, commented settings,
/// freshly generated secrets in a vaulted vault.yml, the vault password, pgha-play.yml). Every
/// refusal comes before anything is written.
public enum ProjectInitializer {
    /// Checks the request and makes every file. `localAddress` finds this machine's address toward
    /// a host (the default admin network).
    public static func plan(
        _ request: InitRequest, localAddress: (String) -> IPAddress? = LocalAddress.toward
    ) throws -> InitPlan {
        try check(request)
        var warnings: [String] = []
        if request.witnesses.isEmpty && request.postgres.count == 2 {
            warnings.append(
                "etcd has only 2 members (--allow-two-member-etcd): this cluster CANNOT fail over. Losing either "
                    + "node or the link between them loses etcd quorum and the primary becomes read-only; add a "
                    + "witness for automatic failover.")
        }
        let clusterNetwork = try request.clusterNetwork.map { try CIDRNetwork.parse($0, option: "--cluster-network") }
            ?? derivedClusterNetwork(request.postgres)
        var adminNetworks = try request.adminNetworks.map { try CIDRNetwork.parse($0, option: "--admin-network") }
        let clientNetworks = try request.clientNetworks.map { try CIDRNetwork.parse($0, option: "--client-network") }
        if adminNetworks.isEmpty {
            let target = request.postgres[0].address
            guard let address = localAddress(target) else {
                throw PGHAError(
                    .usage, "cannot tell this machine's address toward \(target) (the default admin network)",
                    hint: "give --admin-network CIDR: who may SSH in once the firewall is on")
            }
            adminNetworks = [CIDRNetwork(address: address, prefix: address.bitCount)]
        }

        let clusterCA = try makeClusterCA()
        let generatedPassword = request.vaultPassword == nil ? InitSecrets.password(length: 48) : nil
        let vaultPassword = request.vaultPassword ?? Array((generatedPassword ?? "").utf8)
        let files = InitFiles(
            postgres: request.postgres, witnesses: request.witnesses, user: request.user,
            privateKey: request.privateKey.map { PathUtilities.absolute($0) }, clusterNetwork: clusterNetwork,
            adminNetworks: adminNetworks, clientNetworks: clientNetworks.isEmpty ? [clusterNetwork] : clientNetworks,
            allowTwoMemberEtcd: request.allowTwoMemberEtcd, storesVaultPassword: request.vaultPassword == nil,
            clusterCACertificatePEM: clusterCA.authority.certificatePEM)
        let secrets: [(secret: InitSecret, value: String)] = InitSecrets.all.map { secret in
            switch secret.kind {
            case .password: (secret, InitSecrets.password())
            case .clusterCAPrivateKey: (secret, clusterCA.privateKeyPEM)
            }
        }
        let vaulted: String
        do {
            vaulted = try Vault.encrypt(Array(InitFiles.vaultYAML(secrets).utf8), password: vaultPassword)
        } catch {
            throw error.error(at: SourceLocation(file: InitFiles.vaultFile))
        }

        var planned: [InitPlan.File] = [
            .init(path: InitFiles.inventoryFile, contents: Array(files.hostsINI.utf8), mode: 0o644),
            .init(path: InitFiles.settingsFile, contents: Array(files.mainYAML.utf8), mode: 0o644),
            .init(path: InitFiles.vaultFile, contents: Array(vaulted.utf8), mode: 0o600),
            .init(path: InitFiles.projectFile, contents: Array(files.projectYAML.utf8), mode: 0o644),
        ]
        if let generatedPassword {
            planned.append(.init(path: InitFiles.vaultPasswordFile, contents: Array((generatedPassword + "\n").utf8), mode: 0o600))
            planned.append(.init(path: ".gitignore", contents: Array(InitFiles.gitignore.utf8), mode: 0o644))
        }
        return InitPlan(directory: request.directory, files: planned, warnings: warnings)
    }

    /// The cluster CA the tls role signs node certificates with, as `pgha-play ca create` makes it
    /// (ECDSA P-256, ten years).
    static func makeClusterCA() throws -> (authority: CertificateAuthority, privateKeyPEM: String) {
        let now = Date()
        do {
            return try CertificateAuthority.create(
                commonName: "pgha-play cluster CA", notBefore: now.addingTimeInterval(-3600),
                notAfter: now.addingTimeInterval(3650 * 86_400))
        } catch {
            throw PGHAError(.environment, "cannot make the cluster CA: \(error)")
        }
    }

    /// Writes the plan: the directory (made if missing) and its files. On a failure part-way, what
    /// was written is removed again.
    public static func write(_ plan: InitPlan) throws {
        try checkDirectory(plan.directory)
        let manager = FileManager.default
        var created: [String] = []
        do {
            var missing: [String] = []
            var ancestor = PathUtilities.absolute(plan.directory)
            while !manager.fileExists(atPath: ancestor) {
                missing.append(ancestor)
                ancestor = (ancestor as NSString).deletingLastPathComponent
            }
            for directory in missing.reversed() {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: false)
                created.append(directory)
            }
            for file in plan.files {
                let path = plan.directory + "/" + file.path
                var parent = (path as NSString).deletingLastPathComponent
                var parents: [String] = []
                while !manager.fileExists(atPath: parent) {
                    parents.append(parent)
                    parent = (parent as NSString).deletingLastPathComponent
                }
                for directory in parents.reversed() {
                    try manager.createDirectory(atPath: directory, withIntermediateDirectories: false)
                    created.append(directory)
                }
                try VaultFiles.write(file.contents, to: path, mode: file.mode)
                created.append(path)
            }
        } catch {
            for path in created.reversed() { try? manager.removeItem(atPath: path) }
            if let error = error as? PGHAError { throw error }
            throw PGHAError(.io, "cannot write \(plan.directory): \(error.localizedDescription)")
        }
    }

    /// Every refusal that needs no secret: the directory, the hosts, the networks (so a password is
    /// asked for only when the rest is right).
    public static func check(_ request: InitRequest) throws {
        try checkDirectory(request.directory)
        try checkHosts(request)
        if let network = request.clusterNetwork { _ = try CIDRNetwork.parse(network, option: "--cluster-network") }
        for network in request.adminNetworks { _ = try CIDRNetwork.parse(network, option: "--admin-network") }
        for network in request.clientNetworks { _ = try CIDRNetwork.parse(network, option: "--client-network") }
        if request.clusterNetwork == nil { _ = try derivedClusterNetwork(request.postgres) }
    }

    /// DIR may be missing or an empty directory; anything else is refused.
    static func checkDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw PGHAError(.usage, "\(directory) exists and is not a directory", hint: "name a new directory")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard entries.isEmpty else {
            throw PGHAError(
                .usage, "\(directory) is not empty (\(entries.sorted().prefix(3).joined(separator: ", "))\(entries.count > 3 ? ", ..." : ""))",
                hint: "init writes a new inventory into a new or empty directory and changes nothing existing")
        }
    }

    static func checkHosts(_ request: InitRequest) throws {
        guard request.postgres.count >= 2 else {
            throw PGHAError(
                .usage, "--postgres names \(request.postgres.count) database node\(request.postgres.count == 1 ? "" : "s"); a cluster needs at least 2",
                hint: "--postgres db1=10.0.0.11,db2=10.0.0.12")
        }
        if request.witnesses.isEmpty && !request.allowTwoMemberEtcd {
            throw PGHAError(
                .usage, "no --witness: etcd needs a third member to keep quorum when a database node is lost",
                hint: "add --witness NAME=ADDR (a small host running etcd only), or --allow-two-member-etcd to accept a cluster that cannot fail over")
        }
        let members = request.postgres.count + request.witnesses.count
        if members % 2 == 0 && !(members == 2 && request.allowTwoMemberEtcd) {
            throw PGHAError(
                .usage, "etcd would have \(members) members (database nodes and witnesses): an even count tolerates no more failures than one member fewer",
                hint: "add or drop a witness so the count is odd")
        }
        let hosts = request.postgres + request.witnesses
        var names: [String: ClusterHost] = [:]
        var addresses: [String: ClusterHost] = [:]
        for host in hosts {
            if let other = names[host.name.lowercased()] {
                throw PGHAError(.usage, "the host name \(host.name) is given twice (\(other.name)=\(other.address), \(host.name)=\(host.address))")
            }
            names[host.name.lowercased()] = host
            if let other = addresses[host.addressKey] {
                throw PGHAError(.usage, "\(other.name) and \(host.name) have the same address \(host.address): each host needs its own")
            }
            addresses[host.addressKey] = host
        }
    }

    static func derivedClusterNetwork(_ postgres: [ClusterHost]) throws -> CIDRNetwork {
        let addresses = postgres.compactMap { IPAddress($0.address) }
        guard addresses.count == postgres.count, let network = CIDRNetwork.covering(addresses) else {
            throw PGHAError(
                .usage, "cannot derive the cluster network: the database nodes' addresses are not IP addresses of one /16 (or IPv6 /48)",
                hint: "give --cluster-network CIDR (the network they replicate over)")
        }
        return network
    }
}

enum PathUtilities {
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
    }
}
