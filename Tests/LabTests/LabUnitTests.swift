import Foundation
import PGHACore
import Testing

@testable import Lab

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct AddressPlanTests {
    @Test func defaultLabIsTwoNodesAndAWitness() throws {
        let hosts = try HostSet.hosts()
        #expect(hosts.map(\.name) == ["node1", "node2", "witness"])
        #expect(hosts.map(\.address.description) == ["10.77.0.11", "10.77.0.12", "10.77.0.13"])
    }

    @Test func extraHostsAreNumberedFromNode3() throws {
        let hosts = try HostSet.hosts(count: 6)
        #expect(hosts.map(\.name) == ["node1", "node2", "witness", "node3", "node4", "node5"])
        #expect(hosts[3].address.description == "10.77.0.14")
        #expect(hosts[5].address.description == "10.77.0.16")
    }

    @Test func addressesSkipZeroAndBroadcastLookingOctetsAndStayInTheLabNetwork() throws {
        #expect(HostSet.address(index: 243).description == "10.77.0.254")
        #expect(HostSet.address(index: 244).description == "10.77.1.1")
        #expect(HostSet.address(index: 497).description == "10.77.1.254")
        #expect(HostSet.address(index: 498).description == "10.77.2.1")
        let hosts = try HostSet.hosts(count: HostSet.maxHosts)
        #expect(Set(hosts.map(\.address)).count == hosts.count)
        #expect(Set(hosts.map(\.name)).count == hosts.count)
        for host in hosts {
            #expect(NetworkPlan.standard.contains(host.address))
            #expect(host.address != NetworkPlan.standard.bridgeAddress)
            #expect(host.address.value & 0xff != 0 && host.address.value & 0xff != 255)
            try HostSet.validate(name: host.name)
        }
    }

    @Test func refusesTooFewOrTooManyHosts() {
        #expect(throws: PGHAError.self) { try HostSet.hosts(count: 2) }
        #expect(throws: PGHAError.self) { try HostSet.hosts(count: HostSet.maxHosts + 1) }
    }

    @Test func labNetworkMembership() {
        #expect(NetworkPlan.standard.contains(IPv4Address("10.77.255.254")!))
        #expect(!NetworkPlan.standard.contains(IPv4Address("10.78.0.1")!))
        #expect(!NetworkPlan.standard.contains(IPv4Address("192.168.0.1")!))
        #expect(NetworkPlan.standard.subnetDescription == "10.77.0.0/16")
        #expect(NetworkPlan.test.subnetDescription == "10.77.200.0/24")
        #expect(!NetworkPlan.test.contains(IPv4Address("10.77.0.11")!))
    }

    @Test func testPlanIsASeparateLabInsideTheLabRange() throws {
        let hosts = try HostSet.hosts(count: 4, plan: .test)
        #expect(hosts.map(\.name) == ["tnode1", "tnode2", "twitness", "tnode3"])
        #expect(hosts.map(\.address.description) == ["10.77.200.11", "10.77.200.12", "10.77.200.13", "10.77.200.14"])
        #expect(NetworkPlan.standard.contains(hosts[0].address))
        // 10.77.200.11 ... .254 is all a /24 holds.
        #expect(try HostSet.hosts(count: 244, plan: .test).last?.address.description == "10.77.200.254")
        #expect(throws: PGHAError.self) { try HostSet.hosts(count: 245, plan: .test) }
    }

    @Test func hostNamesMustFitTheVethName() throws {
        try HostSet.validate(name: "node1")
        try HostSet.validate(name: "abcdefghijkl")
        #expect(throws: PGHAError.self) { try HostSet.validate(name: "abcdefghijklm") }
        #expect(throws: PGHAError.self) { try HostSet.validate(name: "1node") }
        #expect(throws: PGHAError.self) { try HostSet.validate(name: "node_1") }
        #expect(throws: PGHAError.self) { try HostSet.validate(name: "") }
    }

    @Test func ipv4TextRoundTrip() {
        #expect(IPv4Address("10.77.0.11")?.value == 0x0a4d_000b)
        #expect(IPv4Address(10, 77, 1, 2).description == "10.77.1.2")
        #expect(IPv4Address("10.77.0") == nil)
        #expect(IPv4Address("10.77.0.256") == nil)
        #expect(IPv4Address("10.77..1") == nil)
        #expect(IPv4Address("10.77.0.1.2") == nil)
    }
}

@Suite struct StateFileTests {
    @Test func saveAndLoadRoundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sub/state.json"
        var state = LabState(bridge: "pgha-br0")
        state.upsert(.init(name: "node1", address: IPv4Address(10, 77, 0, 11), imageHash: "abc"))
        state.upsert(.init(name: "witness", address: IPv4Address(10, 77, 0, 13), imageHash: "abc", partitioned: true))
        try state.save(to: path)
        let loaded = try LabState.load(from: path)
        #expect(loaded == state)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"10.77.0.13\""))
    }

    @Test func missingFileIsAnEmptyLab() throws {
        let state = try LabState.load(from: "/nonexistent/pgha-lab/state.json")
        #expect(state.hosts.isEmpty)
        #expect(state.bridge == nil)
    }

    @Test func corruptFileIsAnIOErrorNamingTheFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/state.json"
        try Data("{\"hosts\": [{\"name\": 1}]".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try LabState.load(from: path)
            Issue.record("corrupt state loaded")
        } catch let error as PGHAError {
            #expect(error.kind == .io)
            #expect(error.location?.file == path)
        }
    }

    @Test func upsertReplacesInPlace() {
        var state = LabState()
        state.upsert(.init(name: "node1", address: IPv4Address(10, 77, 0, 11), imageHash: "a"))
        state.upsert(.init(name: "node2", address: IPv4Address(10, 77, 0, 12), imageHash: "a"))
        state.upsert(.init(name: "node1", address: IPv4Address(10, 77, 0, 11), imageHash: "b", partitioned: true))
        #expect(state.hosts.map(\.name) == ["node1", "node2"])
        #expect(state.host("node1")?.imageHash == "b")
        #expect(state.host("node1")?.partitioned == true)
    }
}

@Suite struct RecipeHashTests {
    @Test func sha256KnownVectors() {
        #expect(Digest.sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Digest.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            Digest.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hashChangesWithRecipeOrPackagesAndOnlyThen() {
        let recipe = Data("debootstrap ...\n".utf8)
        let packages = Data("postgresql-15\npatroni\n".utf8)
        let base = ImageBuilder.recipeHash(recipe: recipe, packages: packages)
        #expect(base.count == 16)
        #expect(base.allSatisfy { $0.isHexDigit })
        #expect(ImageBuilder.recipeHash(recipe: recipe, packages: packages) == base)
        #expect(ImageBuilder.recipeHash(recipe: Data("debootstrap ... \n".utf8), packages: packages) != base)
        #expect(ImageBuilder.recipeHash(recipe: recipe, packages: Data("postgresql-15\n".utf8)) != base)
        // The boundary between the two files is part of the hash.
        #expect(
            ImageBuilder.recipeHash(recipe: Data("ab".utf8), packages: Data("c".utf8))
                != ImageBuilder.recipeHash(recipe: Data("a".utf8), packages: Data("bc".utf8)))
    }

    @Test func currentHashReadsTheRecipeFilesAndImagesNeedTheirMarker() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = LabPaths(stateDir: dir + "/state", cacheDir: dir + "/cache", recipeDir: dir + "/recipe")
        let builder = ImageBuilder(paths: paths, runner: ProcessRunner(), log: { _ in })
        #expect(throws: PGHAError.self) { try builder.currentHash() }
        try FileManager.default.createDirectory(atPath: paths.recipeDir, withIntermediateDirectories: true)
        try Data("echo one\n".utf8).write(to: URL(fileURLWithPath: paths.recipeScript))
        try Data("jq\n".utf8).write(to: URL(fileURLWithPath: paths.packageList))
        let first = try builder.currentHash()
        #expect(first == ImageBuilder.recipeHash(recipe: Data("echo one\n".utf8), packages: Data("jq\n".utf8)))
        try Data("jq\ncurl\n".utf8).write(to: URL(fileURLWithPath: paths.packageList))
        let second = try builder.currentHash()
        #expect(second != first)

        #expect(!builder.isBuilt(second))
        try FileManager.default.createDirectory(atPath: paths.image(second) + "/etc", withIntermediateDirectories: true)
        #expect(!builder.isBuilt(second))
        try Data().write(to: URL(fileURLWithPath: paths.image(second) + "/" + ImageBuilder.marker))
        #expect(builder.isBuilt(second))

        try FileManager.default.createDirectory(atPath: paths.image(first), withIntermediateDirectories: true)
        try builder.prune(keeping: [second])
        #expect(!FileManager.default.fileExists(atPath: paths.image(first)))
        #expect(builder.isBuilt(second))
    }

    @Test func theCommittedRecipeIsFoundAndHashes() throws {
        let paths = LabPaths.standard(environment: [:])
        #expect(FileManager.default.fileExists(atPath: paths.recipeScript))
        let packages = try String(contentsOfFile: paths.packageList, encoding: .utf8)
        for name in ["postgresql-15", "patroni", "etcd-server", "haproxy", "pgbackrest", "python3-psycopg2"] {
            #expect(packages.split(separator: "\n").contains(Substring(name)))
        }
        let hash = try ImageBuilder(paths: paths, runner: ProcessRunner(), log: { _ in }).currentHash()
        #expect(hash.count == 16)
    }
}

@Suite struct LabFirewallTests {
    @Test func eachLabOwnsOneTableNamedAfterIt() {
        let runner = ProcessRunner()
        #expect(LabFirewall(plan: .standard, runner: runner).table == "pgha_lab")
        #expect(LabFirewall(plan: .test, runner: runner).table == "pgha_lab_pgha_test0")
    }

    @Test func rulesetReplacesOnlyItsOwnTableAndDropsTrafficLeavingTheBridge() {
        let ruleset = LabFirewall(plan: .standard, runner: ProcessRunner()).ruleset
        let lines = ruleset.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        // Declare-then-delete makes the transaction succeed whether or not the table exists.
        #expect(Array(lines.prefix(3)) == ["table inet pgha_lab {}", "delete table inet pgha_lab", "table inet pgha_lab {"])
        #expect(lines.contains("type filter hook forward priority filter; policy accept;"))
        #expect(lines.contains("iifname \"pgha-br0\" oifname != \"pgha-br0\" drop"))
        #expect(lines.contains("oifname \"pgha-br0\" iifname != \"pgha-br0\" drop"))
        #expect(!ruleset.contains("flush ruleset"))
        let tables = lines.filter { $0.contains("table ") }
        #expect(tables.allSatisfy { $0.contains("table inet pgha_lab ") || $0.hasSuffix("table inet pgha_lab") })
    }

    @Test func preflightRequiresNft() {
        do {
            try LabController.preflight(isRoot: true, which: { $0 == "nft" ? nil : "/usr/bin/" + $0 })
            Issue.record("preflight passed without nft")
        } catch let error as PGHAError {
            #expect(error.message.contains("nft"))
            #expect(error.hint?.contains("nftables") == true)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct HostFilesTests {
    @Test func networkUnitIsStaticWithTheBridgeAsGateway() {
        let unit = HostFiles.networkUnit(for: IPv4Address(10, 77, 0, 12), prefixLength: 16, gateway: IPv4Address(10, 77, 0, 1))
        #expect(unit.contains("Name=host0"))
        #expect(unit.contains("Address=10.77.0.12/16\n"))
        #expect(unit.contains("Gateway=10.77.0.1\n"))
        #expect(!unit.contains("DNS"))
        #expect(!unit.contains("DHCP=yes"))
    }

    @Test func hostsFileNamesEveryHost() {
        let hosts = [
            LabState.Host(name: "node1", address: IPv4Address(10, 77, 0, 11), imageHash: "x"),
            LabState.Host(name: "witness", address: IPv4Address(10, 77, 0, 13), imageHash: "x"),
        ]
        let text = HostFiles.hostsFile(for: "node1", allHosts: hosts)
        #expect(text.contains("10.77.0.11\tnode1\n"))
        #expect(text.contains("10.77.0.13\twitness\n"))
        #expect(text.hasPrefix("127.0.0.1\tlocalhost\n"))
    }

    @Test func prepareGivesEachHostItsOwnStableIdentity() throws {
        guard ProcessRunner.which("ssh-keygen") != nil else {
            if LabTestEnvironment.isCI { Issue.record("ssh-keygen missing (apt-get install openssh-client)") }
            return
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = LabPaths(stateDir: dir, cacheDir: dir + "/cache", recipeDir: dir)
        let files = HostFiles(paths: paths, runner: ProcessRunner())
        try files.ensureLabKey()
        let labKey = try String(contentsOfFile: paths.publicKey, encoding: .utf8)
        try files.ensureLabKey()
        #expect(try String(contentsOfFile: paths.publicKey, encoding: .utf8) == labKey)

        let hosts = [
            LabState.Host(name: "node1", address: IPv4Address(10, 77, 0, 11), imageHash: "x"),
            LabState.Host(name: "node2", address: IPv4Address(10, 77, 0, 12), imageHash: "x"),
        ]
        for host in hosts { try files.prepare(host, allHosts: hosts) }
        let key1 = try files.hostPublicKey("node1")
        let key2 = try files.hostPublicKey("node2")
        #expect(key1.hasPrefix("ssh-ed25519 "))
        #expect(key1 != key2)
        let machineID = try String(contentsOfFile: paths.upperDir("node1") + "/etc/machine-id", encoding: .utf8)
        #expect(machineID.count == 33)

        try files.prepare(hosts[0], allHosts: hosts)
        #expect(try files.hostPublicKey("node1") == key1)
        #expect(try String(contentsOfFile: paths.upperDir("node1") + "/etc/machine-id", encoding: .utf8) == machineID)

        let upper = paths.upperDir("node1")
        #expect(try String(contentsOfFile: upper + "/etc/ssh/pgha-lab/authorized_keys.deploy", encoding: .utf8) == labKey)
        #expect(try String(contentsOfFile: upper + "/etc/ssh/pgha-lab/authorized_keys.root", encoding: .utf8) == labKey)
        #expect(try String(contentsOfFile: upper + "/etc/hostname", encoding: .utf8) == "node1\n")
        let etcMode = try FileManager.default.attributesOfItem(atPath: upper + "/etc")[.posixPermissions] as? Int
        #expect(etcMode == 0o755)

        try files.writeKnownHosts(hosts)
        let known = try String(contentsOfFile: paths.knownHosts, encoding: .utf8)
        #expect(known == "node1,10.77.0.11 \(key1)\nnode2,10.77.0.12 \(key2)\n")
    }
}

@Suite struct PreflightTests {
    @Test func refusesWhenNotRoot() {
        do {
            try LabController.preflight(isRoot: false, which: { "/usr/bin/" + $0 })
            Issue.record("preflight passed without root")
        } catch let error as PGHAError {
            #expect(error.kind == .environment)
            #expect(error.message.contains("root"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func namesTheAptPackagesWhenToolsAreMissing() {
        do {
            try LabController.preflight(isRoot: true, which: { $0 == "systemd-nspawn" || $0 == "debootstrap" ? nil : "/x/" + $0 })
            Issue.record("preflight passed without tools")
        } catch let error as PGHAError {
            #expect(error.message.contains("systemd-nspawn"))
            #expect(error.message.contains("debootstrap"))
            #expect(error.hint == "apt-get install systemd-container debootstrap")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func passesWithRootAndTools() throws {
        try LabController.preflight(isRoot: true, which: { "/usr/bin/" + $0 })
    }
}

@Suite struct ProbeAndHelperTests {
    @Test func probeSeesAnSSHBannerAndNothingElse() throws {
        let ssh = try OneShotServer(reply: "SSH-2.0-OpenSSH_9.2p1 test\r\n")
        #expect(SSHProbe.answers(IPv4Address(127, 0, 0, 1), port: ssh.port, timeout: 2))
        let http = try OneShotServer(reply: "HTTP/1.1 400 Bad Request\r\n")
        #expect(!SSHProbe.answers(IPv4Address(127, 0, 0, 1), port: http.port, timeout: 2))
        let closedPort = ssh.port
        ssh.close()
        #expect(!SSHProbe.answers(IPv4Address(127, 0, 0, 1), port: closedPort, timeout: 1))
    }

    @Test func eachHostGetsItsOwnCgroupInEveryHierarchyAndLeavesNoneBehind() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cgroups = Cgroups(bridge: "pgha-test0", roots: [dir + "/systemd", dir + "/unified"])
        let made = cgroups.create(for: "tnode1")
        #expect(made == [dir + "/systemd/pgha-lab-pgha-test0/tnode1", dir + "/unified/pgha-lab-pgha-test0/tnode1"])
        #expect(cgroups.create(for: "tnode2") != made)
        // nspawn adds these below the cgroup it starts in.
        try FileManager.default.createDirectory(atPath: made[0] + "/payload/system.slice", withIntermediateDirectories: true)
        cgroups.remove(for: "tnode1")
        #expect(!FileManager.default.fileExists(atPath: made[0]))
        #expect(!FileManager.default.fileExists(atPath: made[1]))
        #expect(FileManager.default.fileExists(atPath: dir + "/unified/pgha-lab-pgha-test0/tnode2"))
        cgroups.removeAll()
        #expect(!FileManager.default.fileExists(atPath: dir + "/systemd/pgha-lab-pgha-test0"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/unified/pgha-lab-pgha-test0"))
    }

    @Test func mountinfoEscapesAreDecoded() {
        #expect(Filesystem.unescape("/var/lib/a\\040b") == "/var/lib/a b")
        #expect(Filesystem.unescape("/plain") == "/plain")
    }

    @Test func runnerCapturesOutputAndStatus() throws {
        let result = try ProcessRunner().run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(throws: PGHAError.self) { try ProcessRunner().check(["/bin/sh", "-c", "exit 1"]) }
    }
}

/// Accepts one TCP connection on 127.0.0.1 and sends `reply`.
final class OneShotServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init(reply: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        sin.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw PGHAError(.io, "cannot listen on 127.0.0.1") }
        port = UInt16(bigEndian: sin.sin_port)
        let listener = fd
        Thread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            _ = reply.withCString { write(client, $0, strlen($0)) }
            usleep(200_000)
            Glibc.close(client)
        }.start()
    }

    private let closed = LockedBox(false)

    func close() {
        let already = closed.withLock { value -> Bool in
            defer { value = true }
            return value
        }
        if already { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    deinit { close() }
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-lab-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

enum LabTestEnvironment {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    /// Real lab tests run when asked for (PGHA_LAB_TESTS=1) and always in CI.
    static var realTestsEnabled: Bool { ProcessInfo.processInfo.environment["PGHA_LAB_TESTS"] == "1" || isCI }
}
