import Foundation
import PGHACore

/// A cluster host as `init` takes it: `NAME=ADDR`.
public struct ClusterHost: Equatable, Sendable {
    public var name: String
    /// An IP address or a DNS name (`ansible_host`).
    public var address: String

    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }

    /// `NAME=ADDR[,NAME=ADDR...]`, as given to `option`.
    public static func parseList(_ text: String, option: String) throws -> [ClusterHost] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw PGHAError(
                    .usage, "\(option) '\(item)': write each host as NAME=ADDR", hint: "e.g. \(option) db1=10.0.0.11,db2=10.0.0.12")
            }
            guard isValidName(parts[0]) else {
                throw PGHAError(
                    .usage, "\(option) '\(item)': '\(parts[0])' is not a usable host name",
                    hint: "letters, digits, '.', '_' and '-', starting with a letter or digit")
            }
            guard IPAddress(parts[1]) != nil || isValidHostName(parts[1]) else {
                throw PGHAError(.usage, "\(option) '\(item)': '\(parts[1])' is neither an IP address nor a host name")
            }
            return ClusterHost(name: parts[0], address: parts[1])
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, CharacterSet.alphanumerics.contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    static func isValidHostName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-".unicodeScalars.contains($0)) }
            && !name.hasPrefix("-") && !name.hasPrefix(".")
    }

    /// The address as compared for duplicates: an IP's canonical form, a name in lower case.
    var addressKey: String { IPAddress(address).map(\.description) ?? address.lowercased() }
}

/// What `pgha-play init DIR` is asked to write.
public struct InitRequest: Sendable {
    /// The directory to create (or an empty one to fill).
    public var directory: String
    public var postgres: [ClusterHost] = []
    public var witnesses: [ClusterHost] = []
    /// `ansible_user`, when given.
    public var user: String?
    /// `ansible_ssh_private_key_file`, when given (written as an absolute path).
    public var privateKey: String?
    /// Who may SSH in and see the stats page; empty: this machine's address toward the database nodes.
    public var adminNetworks: [String] = []
    /// Who may connect through HAProxy; empty: the cluster network.
    public var clientNetworks: [String] = []
    /// The network the database nodes replicate over; nil: the smallest /24 (/64) holding them.
    public var clusterNetwork: String?
    /// Accept no witness: etcd then runs on two members and cannot fail over.
    public var allowTwoMemberEtcd = false
    /// The vault password: nil generates one into DIR/.vault-pass; given (`--ask-vault-pass`), it
    /// is used and not stored.
    public var vaultPassword: [UInt8]?

    public init(directory: String) {
        self.directory = directory
    }
}
