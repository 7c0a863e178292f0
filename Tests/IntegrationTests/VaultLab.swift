import Foundation
import PGHACore
import Testing

/// What the lab tests that deploy from vaulted inventories share: the lab's addresses, SSH to a host,
/// patronictl's members and psql through HAProxy. The cluster deployed from an inventory whose
/// secrets are all vaulted (issue 10) is StandaloneLabTests' (`init` vaults every secret).
enum VaultLab {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["PGHA_CLUSTER_TESTS"] == "1" || environment["PGHA_LAB_TESTS"] == "1" }
    static let labDirectory = environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"
    /// Extra arguments for site.yml, as the cluster tests take them (PGHA_CLUSTER_SITE_ARGS).
    static let extraArguments = (environment["PGHA_CLUSTER_SITE_ARGS"] ?? "").split(separator: " ").map(String.init)

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String

        func require(_ what: String) throws {
            if status != 0 { throw PGHAError(.environment, "\(what) failed (\(status)): \(stderr)") }
        }
    }

    static func pgha(_ arguments: [String], in directory: String) throws -> Output {
        let out = try TestSupport.run(TestSupport.executable, arguments, in: directory, environment: ["NO_COLOR": "1"])
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// Addresses from `lab status`; a host that is not running with SSH up fails the test.
    static func addresses(of names: [String]) throws -> [String: String] {
        let status = try pgha(["lab", "status"], in: TestSupport.repositoryRoot)
        try status.require("lab status (is the lab up? pgha-play lab up --hosts 20)")
        var result: [String: String] = [:]
        for line in status.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 4, names.contains(fields[0]) else { continue }
            guard fields[2] == "running" else { throw PGHAError(.environment, "lab host \(fields[0]) is \(fields[2])") }
            result[fields[0]] = fields[1]
        }
        let missing = names.filter { result[$0] == nil }
        if !missing.isEmpty { throw PGHAError(.environment, "lab hosts not found: \(missing) (pgha-play lab up --hosts 20)") }
        return result
    }

    @discardableResult
    static func ssh(_ address: String, _ command: String, stdin: String? = nil) throws -> Output {
        var arguments = [
            "-i", labDirectory + "/id_ed25519", "-o", "UserKnownHostsFile=\(labDirectory)/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "deploy@\(address)", command,
        ]
        if stdin != nil { arguments.insert("-T", at: 0) }
        let out = try TestSupport.run("/usr/bin/ssh", arguments, stdin: stdin)
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    struct Member: CustomStringConvertible {
        var name: String
        var role: String
        var state: String
        var description: String { "\(name) \(role) \(state)" }
    }

    /// `patronictl list`, waiting up to a minute for a leader and a running replica.
    static func members(on nodes: [String], addresses: [String: String]) throws -> [Member] {
        let deadline = Date().addingTimeInterval(60)
        var last: [Member] = []
        repeat {
            for node in nodes {
                guard let address = addresses[node],
                    let out = try? ssh(address, "sudo patronictl -c /etc/patroni/config.yml list -f json"), out.status == 0,
                    case .list(let rows)? = try? JSON.decode(out.stdout)
                else { continue }
                last = rows.map {
                    Member(name: $0["Member"]?.stringValue ?? "?", role: $0["Role"]?.stringValue ?? "?", state: $0["State"]?.stringValue ?? "?")
                }
                break
            }
            if last.count == 2 && last.contains(where: { $0.role == "Leader" })
                && last.allSatisfy({ $0.state == "running" || $0.state == "streaming" })
            {
                return last
            }
            Thread.sleep(forTimeInterval: 3)
        } while Date() < deadline
        return last
    }

    /// One psql command on the host at `address`, through its HAProxy 5432, the password on stdin.
    static func sql(address: String, password: String, _ query: String) throws -> Output {
        let script = """
            export PGPASSWORD='\(password)'
            exec psql "host=\(address) port=5432 user=postgres dbname=postgres connect_timeout=5" -qAtc "\(query)"
            """
        return try ssh(address, "bash -s", stdin: script)
    }
}
