import Foundation
import PGHACore

/// What the lab remembers between commands, stored as JSON in the state dir.
///
/// Only facts that cannot be read back from the system live here: which hosts exist, from which
/// image, and whether the operator partitioned them. Whether a host runs is read from its pid file
/// and /proc each time, so a crashed controller never leaves the state lying.
public struct LabState: Codable, Sendable, Equatable {
    public struct Host: Codable, Sendable, Equatable {
        public var name: String
        public var address: IPv4Address
        /// The recipe hash of the image under this host's upper dir; an upper dir only makes sense on
        /// the image it was made on, so a recipe change does not move existing hosts.
        public var imageHash: String
        public var partitioned: Bool

        public init(name: String, address: IPv4Address, imageHash: String, partitioned: Bool = false) {
            self.name = name
            self.address = address
            self.imageHash = imageHash
            self.partitioned = partitioned
        }
    }

    public var version: Int = 1
    /// The bridge this lab created, so `down` removes exactly that and nothing else.
    public var bridge: String?
    public var hosts: [Host] = []

    public init(bridge: String? = nil, hosts: [Host] = []) {
        self.bridge = bridge
        self.hosts = hosts
    }

    public func host(_ name: String) -> Host? { hosts.first { $0.name == name } }

    /// Adds or replaces the host with the same name, keeping the order hosts were first added in.
    public mutating func upsert(_ host: Host) {
        if let index = hosts.firstIndex(where: { $0.name == host.name }) {
            hosts[index] = host
        } else {
            hosts.append(host)
        }
    }

    /// The state at `path`; an empty state when the file does not exist.
    public static func load(from path: String) throws -> LabState {
        guard FileManager.default.fileExists(atPath: path) else { return LabState() }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(LabState.self, from: data)
        } catch {
            throw PGHAError(
                .io, "lab state file is corrupt: \(error)", at: SourceLocation(file: path),
                hint: "run `pgha-play lab down` after removing it")
        }
    }

    /// Writes the state atomically (a crash leaves the old or the new file, never half of one).
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
