import Foundation
import PGHACore
import Testing

/// TLS on every link of the lab cluster (issue 12), checked from the outside as an operator or an
/// attacker on the network would: clients on the controller, peers on the hosts, a packet capture
/// of the lab bridge. Called in order by ClusterLabTests, on the cluster it deployed.
enum ClusterTLS {
    /// The CA certificate site.yml writes next to the inventory for clients.
    static var clientCAFile: String { ClusterLab.inventory.directory + "/pgha-ca.crt" }

    /// psql on the controller (as a client application), password in the environment.
    static func psql(_ conninfo: String, _ query: String) throws -> ClusterLab.Output {
        let out = try TestSupport.run(
            "/usr/bin/psql", [conninfo + " user=postgres dbname=postgres connect_timeout=5", "-Atc", query],
            environment: ["PGPASSWORD": ClusterLab.superuserPassword])
        return ClusterLab.Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    static func expectEveryLinkUsesTLS() throws {
        // Clients: verify-full through HAProxy on every node (the session ends on the leader, whose
        // certificate names every entry point); no TLS, no login.
        for node in ClusterLab.databaseNodes {
            let address = ClusterLab.address[node]!
            let verified = try psql(
                "host=\(address) port=5432 sslmode=verify-full sslrootcert=\(clientCAFile)",
                "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()")
            #expect(verified.status == 0 && verified.stdout.hasPrefix("t|TLSv1."), "\(node): \(verified.stdout)\(verified.stderr)")
            let plain = try psql("host=\(address) port=5432 sslmode=disable", "select 1")
            #expect(plain.status != 0 && plain.stderr.contains("no encryption"), "\(node): \(plain.stdout)\(plain.stderr)")
        }

        // Replication: every WAL sender on the leader serves a TLS session.
        let leader = try ClusterLab.leader()
        let replication = try ClusterLab.ssh(
            leader,
            "sudo -u postgres psql -p 5442 -Atc \"select r.application_name || ' ' || s.ssl from pg_stat_replication r join pg_stat_ssl s using (pid)\"")
        let senders = replication.stdout.split(separator: "\n").map(String.init)
        #expect(!senders.isEmpty && senders.allSatisfy { $0.hasSuffix(" true") }, "\(replication.stdout)\(replication.stderr)")

        // Patroni's REST API over https, verified by the cluster CA, from a peer; plain http gets nothing.
        let peer = ClusterLab.databaseNodes.first { $0 != leader }!
        let leaderAddress = ClusterLab.address[leader]!
        let rest = try ClusterLab.ssh(
            peer,
            "curl -sS -o /dev/null -w '%{http_code}' --cacert /etc/pgha/tls/ca.crt https://\(leaderAddress):8008/primary; echo; curl -sS -m 5 -o /dev/null -w '%{http_code}' http://\(leaderAddress):8008/primary; echo \" rc=$?\"")
        let restLines = rest.stdout.split(separator: "\n").map(String.init)
        #expect(restLines.first == "200", "https /primary on the leader: \(rest.stdout)\(rest.stderr)")
        #expect(restLines.count == 2 && !restLines[1].hasPrefix("200") && !restLines[1].hasSuffix("rc=0"), "plain http to 8008: \(rest.stdout)")

        // etcd: plain http refused on 2379 and 2380; TLS without a client certificate refused too.
        let witnessAddress = ClusterLab.address[ClusterLab.witness]!
        let etcd = try ClusterLab.ssh(
            peer,
            """
            for port in 2379 2380; do curl -sS -m 5 http://\(witnessAddress):$port/version >/dev/null 2>&1; echo "http $port $?"; done
            curl -sS -m 5 --cacert /etc/pgha/tls/ca.crt https://\(witnessAddress):2379/version >/dev/null 2>&1; echo "nocert 2379 $?"
            sudo curl -sS -m 5 --cacert /etc/pgha/tls/ca.crt --cert /etc/pgha/tls/etcd.crt --key /etc/pgha/tls/etcd.key https://\(witnessAddress):2379/version >/dev/null 2>&1; echo "cert 2379 $?"
            """)
        let results = Dictionary(
            etcd.stdout.split(separator: "\n").compactMap { line -> (String, Int)? in
                let parts = line.split(separator: " ")
                return parts.count == 3 ? ("\(parts[0]) \(parts[1])", Int(parts[2]) ?? -1) : nil
            }, uniquingKeysWith: { first, _ in first })
        #expect(results["http 2379"].map { $0 != 0 } == true, "\(etcd.stdout)")
        #expect(results["http 2380"].map { $0 != 0 } == true, "\(etcd.stdout)")
        #expect(results["nocert 2379"].map { $0 != 0 } == true, "\(etcd.stdout)")
        #expect(results["cert 2379"] == 0, "\(etcd.stdout)\(etcd.stderr)")

        // Root's tools on a node work without TLS flags.
        let tools = try ClusterLab.ssh(leader, "sudo -i sh -c 'patronictl list && etcdctl endpoint health'")
        #expect(tools.status == 0 && tools.stdout.contains("Leader") && tools.stderr.contains("is healthy"), "\(tools.stdout)\(tools.stderr)")
    }

    /// A unique marker inserted through 5432 and replicated is nowhere in a capture of the lab
    /// bridge; a marker sent in clear text during the same capture is (so the capture sees the traffic).
    static func expectMarkerNotOnTheWire() throws {
        let marker = "pgha-secret-marker-\(UUID().uuidString)"
        let control = "pgha-clear-control-\(UUID().uuidString)"
        let capture = NSTemporaryDirectory() + "pgha-tls-\(UUID().uuidString).pcap"
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let filter = ClusterLab.hosts.map { "host \($0.address)" }.joined(separator: " or ")
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
        tcpdump.arguments = ["-i", environmentBridge, "-U", "-s", "0", "-w", capture, filter]
        tcpdump.standardOutput = FileHandle.nullDevice
        tcpdump.standardError = FileHandle.nullDevice
        try tcpdump.run()
        // The test runner's threads block SIGTERM and the child inherits that mask: only SIGKILL
        // stops it. -U writes every packet at once, so nothing is lost.
        func stopCapture() {
            if tcpdump.isRunning { kill(tcpdump.processIdentifier, SIGKILL) }
            tcpdump.waitUntilExit()
        }
        defer { stopCapture() }
        Thread.sleep(forTimeInterval: 2)

        let entry = ClusterLab.databaseNodes[0]
        let conninfo = "host=\(ClusterLab.address[entry]!) port=5432 sslmode=verify-full sslrootcert=\(clientCAFile)"
        let insert = try psql(
            conninfo,
            "create table if not exists tls_marker (note text); insert into tls_marker values ('\(marker)') returning 1")
        #expect(insert.status == 0, "\(insert.stderr)")
        // Replicated: the replica has it (read on the replica itself, over its socket).
        let leader = try ClusterLab.leader()
        let replica = ClusterLab.databaseNodes.first { $0 != leader }!
        var replicated = false
        for _ in 0..<30 where !replicated {
            let out = try ClusterLab.ssh(
                replica, "sudo -u postgres psql -p 5442 -Atc \"select count(*) from tls_marker where note = '\(marker)'\"")
            replicated = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            if !replicated { Thread.sleep(forTimeInterval: 1) }
        }
        #expect(replicated, "the marker did not reach \(replica)")
        // The control: clear text to a lab host (HAProxy's https stats port answers it with an error).
        _ = try? TestSupport.run(
            "/usr/bin/curl", ["-s", "-m", "3", "http://\(ClusterLab.address[entry]!):8404/\(control)"])
        Thread.sleep(forTimeInterval: 2)
        stopCapture()

        let bytes = try Data(contentsOf: URL(fileURLWithPath: capture))
        #expect(bytes.count > 10_000, "the capture holds \(bytes.count) bytes: did it see the traffic?")
        #expect(bytes.range(of: Data(control.utf8)) != nil, "the clear-text control is not in the capture")
        #expect(bytes.range(of: Data(marker.utf8)) == nil, "the marker crossed the bridge in clear text")
    }

    static var environmentBridge: String { ClusterLab.environment["PGHA_LAB_BRIDGE"] ?? "pgha-br0" }

    /// notAfter of a host's certificate, from openssl on the host.
    static func notAfter(_ host: String, _ name: String) throws -> Date? {
        let out = try ClusterLab.ssh(host, "openssl x509 -in /etc/pgha/tls/\(name).crt -noout -enddate")
        let text = out.stdout.replacingOccurrences(of: "notAfter=", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        return formatter.date(from: text.replacingOccurrences(of: "  ", with: " "))
    }

    /// A database certificate and the witness's etcd certificate made to expire in 10 days are
    /// renewed by the next site.yml run, which changes nothing else; the services serve the new ones.
    static func expectRenewal() throws {
        let node = ClusterLab.databaseNodes.last!
        let witness = ClusterLab.witness
        for (host, name) in [(node, "postgresql"), (witness, "etcd")] {
            let shorten = try ClusterLab.pgha([
                TestSupport.fixtures + "/tls/expire-soon.yml", "-e", "target=\(host)", "-e", "tls_name=\(name)", "-e", "days=10",
            ])
            try #require(shorten.status == 0, "\(shorten.tail)")
            let soon = try notAfter(host, name)
            #expect(soon.map { $0.timeIntervalSinceNow < 30 * 86_400 } == true, "\(host) \(name): \(String(describing: soon))")
        }
        let run = try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        try #require(run.status == 0, "\(run.tail)")
        let counts = ClusterLab.changedCounts(run.stdout)
        #expect(counts[node].map { $0 > 0 } == true && counts[witness].map { $0 > 0 } == true, "\(counts)")
        #expect(counts.filter { $0.key != node && $0.key != witness }.values.allSatisfy { $0 == 0 }, "\(counts)")
        for (host, name) in [(node, "postgresql"), (witness, "etcd")] {
            let renewed = try notAfter(host, name)
            #expect(renewed.map { $0.timeIntervalSinceNow > 300 * 86_400 } == true, "\(host) \(name): \(String(describing: renewed))")
        }
        // PostgreSQL on the node serves the renewed certificate (it was reloaded, not restarted).
        let served = try ClusterLab.ssh(
            ClusterLab.databaseNodes[0],
            "echo | openssl s_client -starttls postgres -connect \(ClusterLab.address[node]!):5442 2>/dev/null | openssl x509 -noout -enddate")
        let onDisk = try ClusterLab.ssh(node, "openssl x509 -in /etc/pgha/tls/postgresql.crt -noout -enddate")
        #expect(!served.stdout.isEmpty && served.stdout == onDisk.stdout, "served \(served.stdout), on disk \(onDisk.stdout)")
        let rerun = try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        #expect(ClusterLab.changedCounts(rerun.stdout).values.allSatisfy { $0 == 0 }, "changed: \(rerun.changes)\n\(rerun.tail)")
    }

    /// rotate-ca.yml with a new CA while a client writes through HAProxy: every write succeeds,
    /// every link then uses certificates of the new CA, and with the inventory holding the new CA a
    /// rerun changes nothing. The tests' inventory keeps the new CA afterwards.
    static func expectCARotation() throws {
        let directory = NSTemporaryDirectory() + "pgha-next-ca-\(UUID().uuidString)"
        let made = try ClusterLab.pgha(["ca", "create", directory, "--common-name", "pgha-play test CA \(UUID().uuidString.prefix(8))"])
        try #require(made.status == 0, "\(made.tail)")
        let variables = directory + "/next.yml"
        try """
            pgha_tls_next_ca_cert: "{{ lookup('file', '\(directory)/ca.crt') }}"
            pgha_tls_next_ca_private_key: "{{ lookup('file', '\(directory)/ca.key') }}"

            """.write(toFile: variables, atomically: true, encoding: .utf8)

        let (rotate, _) = try whileWriting(table: "rotate_probe", seconds: 150, what: "rotate-ca.yml") {
            try ClusterLab.pgha(["rotate-ca.yml", "-e", "@" + variables])
        }
        #expect(!ClusterLab.leaksSecret(rotate.stdout + rotate.stderr))
        let newKey = try String(contentsOfFile: directory + "/ca.key", encoding: .utf8)
        #expect(!(rotate.stdout + rotate.stderr).contains(newKey.split(separator: "\n")[1]), "the new CA key reached the output")

        // The clients' CA file is the new CA, and it verifies every node.
        let clientCA = try String(contentsOfFile: clientCAFile, encoding: .utf8)
        #expect(clientCA == (try String(contentsOfFile: directory + "/ca.crt", encoding: .utf8)))
        try ClusterLab.useCA(certificate: directory + "/ca.crt", key: directory + "/ca.key", inventory: ClusterLab.inventory.directory)
        try expectEveryLinkUsesTLS()
        for host in ClusterLab.hosts.map(\.name) {
            let issuers = try ClusterLab.ssh(
                host, "for f in /etc/pgha/tls/*.crt; do [ $f = /etc/pgha/tls/ca.crt ] || openssl verify -CAfile /etc/pgha/tls/ca.crt $f; done; grep -c 'BEGIN CERT' /etc/pgha/tls/ca.crt")
            #expect(issuers.status == 0 && issuers.stdout.hasSuffix("\n1\n") && !issuers.stdout.contains("error"), "\(host): \(issuers.stdout)\(issuers.stderr)")
        }
        let rerun = try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        #expect(rerun.status == 0, "\(rerun.tail)")
        #expect(ClusterLab.changedCounts(rerun.stdout).values.allSatisfy { $0 == 0 }, "changed: \(rerun.changes)\n\(rerun.tail)")
    }

    /// Runs `step` while a client inserts through HAProxy on a replica's node (one connection per
    /// insert, libpq's default sslmode=prefer): the step succeeds, every insert is acknowledged and
    /// every acknowledged row is on the leader afterwards.
    static func whileWriting(table: String, seconds: Int, what: String, _ step: () throws -> ClusterLab.Output) throws
        -> (ClusterLab.Output, ClusterLab.Writer.Outcome)
    {
        let leader = try ClusterLab.leader()
        let entry = ClusterLab.databaseNodes.first { $0 != leader }!
        let writer = try ClusterLab.Writer(on: entry, table: table, seconds: seconds)
        Thread.sleep(forTimeInterval: 3)
        let started = Date()
        let output = try step()
        let elapsed = Date().timeIntervalSince(started)
        let outcome = try writer.finish()
        try #require(output.status == 0, "\(output.tail)")
        let failed = outcome.attempts.filter { !$0.ok }.map(\.id)
        print(String(format: "cluster: %@ in %.0f s; %d writes, %d failed, longest pause %.1f s", what, elapsed, outcome.attempts.count, failed.count, outcome.longestPause))
        let reasons = failed.map { "\($0): \(outcome.errors[$0] ?? "")" }.joined(separator: "\n")
        #expect(failed.isEmpty, "writes failed during \(what):\n\(reasons)")
        #expect(try ClusterLab.missingRows(outcome, table: table).isEmpty)
        return (output, outcome)
    }

    /// Fresh hosts, site.yml with pgha_tls=false, then site.yml as it is while a client with
    /// sslmode=prefer writes through HAProxy: every write succeeds, no row is lost, at most one
    /// switchover (none is planned), and afterwards every link uses TLS and a rerun changes nothing.
    static func expectMigration() throws {
        try ClusterLab.lab(["reset"] + ClusterLab.hosts.map(\.name))
        let plain = try ClusterLab.pgha(["site.yml", "-e", "pgha_tls=false"] + ClusterLab.extraArguments)
        try #require(plain.status == 0, "\(plain.tail)")
        let leaderBefore = try ClusterLab.leader()
        let timelineBefore = try ClusterLab.members().first?.timeline ?? -1
        let ssl = try ClusterLab.ssh(leaderBefore, "sudo -u postgres psql -p 5442 -Atc 'show ssl'")
        #expect(ssl.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "off", "\(ssl.stdout)")

        _ = try whileWriting(table: "migration_probe", seconds: 420, what: "the move to TLS") {
            try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        }
        let members = try ClusterLab.members()
        #expect((members.first?.timeline ?? 99) <= timelineBefore + 1, "more than one switchover: \(members)")
        try ClusterLab.waitForHealthyReplica(timeout: 120)
        try expectEveryLinkUsesTLS()
        let rerun = try ClusterLab.pgha(["site.yml"] + ClusterLab.extraArguments)
        #expect(rerun.status == 0, "\(rerun.tail)")
        #expect(ClusterLab.changedCounts(rerun.stdout).values.allSatisfy { $0 == 0 }, "changed: \(rerun.changes)\n\(rerun.tail)")
    }
}
