import Foundation
import OrderedCollections
import PGHACore
import Testing
@testable import Inventory

/// Differential tests: the same inventories and patterns through ansible-core 2.19 and through us.
struct OracleFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var files: [String: String]
    /// Relative to the fixture root (or host lists, kept as they are when they contain a comma).
    var sources: [String]
    var playbookDir: String? = nil
    var patterns: [(pattern: String, limit: String?)] = []
    var extraHosts: [String] = []
    var testDescription: String { name }
}

private let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The oracle's python, created by scripts/oracle-venv.sh; nil (outside CI) when it cannot be had.
private let oraclePython: String? = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [packageRoot + "/scripts/oracle-venv.sh"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

private func run(_ executable: String, _ arguments: [String], stdin: String, cwd: String) throws -> (String, String, Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: cwd)
    var env = ProcessInfo.processInfo.environment
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
    env["ANSIBLE_LOCAL_TEMP"] = NSTemporaryDirectory() + "ansible-oracle-tmp"
    process.environment = env
    let input = Pipe(), output = Pipe()
    // stderr goes to a file so a chatty child cannot fill a pipe we are not reading yet.
    let errorPath = NSTemporaryDirectory() + "oracle-stderr-" + UUID().uuidString
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errorPath) }
    let errorHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errorHandle
    try process.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try errorHandle.close()
    let errData = FileManager.default.contents(atPath: errorPath) ?? Data()
    return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self), process.terminationStatus)
}

private let fixtures: [OracleFixture] = [
    OracleFixture(
        name: "ini-basics",
        files: [
            "hosts.ini": """
            # comment
            ; another comment
            lonely ansible_host=10.0.0.1
            [web]
            web[1:3] http_port=8080 quoted="5" sq="'5'" list="[1, 'a']" flag=True nothing=None
            db1:2222
            [web:vars]
            a=1
            b=hello # trailing
            c=True
            d='quoted' # x
            e=yes
            f=1.5
            g={"x": 1}
            [db]
            db1
            db2 ansible_host=1.2.3.4
            [prod:children]
            web
            db
            [prod:vars]
            ansible_group_priority=5
            """,
        ],
        sources: ["hosts.ini"],
        patterns: [("all", nil), ("web:&prod", nil), ("nomatch", nil), ("web[0]", nil), ("localhost", nil),
                   ("prod:!db", nil), ("~web[12]", nil), ("*", nil), ("ungrouped", nil)],
        extraHosts: ["localhost"]),
    OracleFixture(
        name: "ini-literals-and-shlex",
        files: [
            "inv": """
            h1 msg="hello world" path='/a b' esc=a\\ b v="{'k': [1,2]}" neg=-5 hex=0x1F oct=0o17 f=1e3 t=(1,2) zero=0777 s=set() e= u=u'x' b=b'y' cx=1j tup=1,2 tr="'a' 'b'" dq="\\"q\\"" nl='a\\nb' fl=.5 ex=2. un=1_000 el=... neg2=-(1) fs="f'x'" hash=x#y ignored=1
            h2 json='{"a": [true, null]}' py="{'a': (True, None)}" nested="[[1, 2], {'x': 'y'}]" word=hello emptyq="''"
            [g:vars]
            ival=42
            sval = spaced value
            quoted = "double"
            lst = [1, 2, 3]
            bad = {unclosed
            comment_only = 7 ; not a python comment
            [g]
            h1
            """,
        ],
        sources: ["inv"]),
    OracleFixture(
        name: "yaml-structure",
        files: [
            "inv.yml": """
            all:
              vars:
                everywhere: 1
                ansible_user: deploy
              hosts:
                direct1:
                direct2:
                  dv: 2
              children:
                web:
                  hosts:
                    w[01:03].example.com:
                      role: web
                    w9.example.com:2200:
                  vars:
                    tier: front
                db:
                  hosts: single
                  children:
                    replicas:
                      hosts:
                        r1: {lag: 0}
                        w01.example.com: {extra: yes}
                      vars:
                        ansible_group_priority: 3
                empty:
            other:
              hosts:
                direct1:
                  late: true
            """,
        ],
        sources: ["inv.yml"],
        patterns: [("all", nil), ("db", nil), ("w0*", nil), ("~w0[12]", nil), ("all:!web", nil), ("web[-1]", nil),
                   ("web[1:]", nil), ("web[0:0]", nil), ("db,web", nil), ("replicas:&web", nil), ("empty", nil)]),
    OracleFixture(
        name: "directory-source",
        files: [
            "inv/01-hosts.ini": "[web]\nw1\nw2\n[web:vars]\nsrc=ini\n",
            "inv/02-more.yml": "all:\n  children:\n    web:\n      hosts:\n        w3:\n      vars:\n        src: yaml\n",
            "inv/hosts.retry": "[broken\n",
            "inv/x.orig": "[broken\n",
            "inv/backup~": "[broken\n",
            "inv/.hidden": "[broken\n",
            "inv/README.md": "[broken\n",
            "inv/group_vars/web.yml": "from_dir_group_vars: yes\nsrc: group_vars\n",
            "inv/host_vars/w1/a.yml": "hv: a\nshared: a\n",
            "inv/host_vars/w1/b.yaml": "shared: b\n",
            "inv/host_vars/w1/.skip.yml": "shared: hidden\n",
        ],
        sources: ["inv"],
        patterns: [("all", nil), ("web[1]", nil)]),
    OracleFixture(
        name: "host-list",
        files: [:],
        sources: ["alpha,beta:2222,10.1.1.1:22,[fe80::1]:2200,gamma.example.com,"],
        patterns: [("all", nil), ("beta", nil), ("g*", nil), ("~^[ab]", nil)]),
    OracleFixture(
        name: "multiple-sources",
        files: [
            "a/hosts": "[web]\nw1 who=a\n[web:vars]\nlayer=a\nonly_a=1\n",
            "a/group_vars/web.yml": "gv: a\n",
            "b/hosts.yml": "web:\n  hosts:\n    w1:\n      who: b\n    w2:\n  vars:\n    layer: b\n",
            "b/group_vars/web.yml": "gv: b\n",
        ],
        sources: ["a/hosts", "b/hosts.yml"],
        patterns: [("web", nil)]),
    OracleFixture(
        // A file named for its environment: no plugin claims '.prod', so the INI plugin reads it,
        // also inside a directory beside a YAML inventory (issue 16).
        name: "unknown-extension",
        files: [
            "hosts.prod": "[web]\nw1 ansible_host=10.0.0.5\n[db]\nd1\n[prod:children]\nweb\ndb\n[prod:vars]\nenv=prod\n",
            "group_vars/prod.yml": "from_group_vars: true\n",
            "dir/hosts.staging": "[web]\nw2 env=staging\n",
            "dir/extra.yml": "all:\n  hosts:\n    y1:\n",
        ],
        sources: ["hosts.prod", "dir"],
        patterns: [("prod", nil), ("web", nil), ("all", nil)]),
    OracleFixture(
        name: "ini-forward-declarations",
        files: [
            "hosts.ini": """
            [cluster:children]
            primary
            standby

            [standby:vars]
            role=standby

            [cluster:vars]
            pg_version=16

            [primary]
            pg1

            [standby]
            pg2
            pg3 role=special

            [all:vars]
            ansible_user=postgres
            """,
        ],
        sources: ["hosts.ini"],
        patterns: [("cluster", nil), ("standby[0]", nil), ("cluster:!primary", nil), ("pg*:&standby", nil)]),
    OracleFixture(
        name: "ranges",
        files: [
            "hosts.ini": """
            [letters]
            node[a:c]
            [padded]
            n[01:10:3]
            [multi]
            db-[1:2]-[a:b].example.com
            [steps]
            s[0:20:5]
            [mixed]
            x[8:11] ansible_port=22
            [ips]
            10.0.0.[1:3]
            """,
        ],
        sources: ["hosts.ini"],
        patterns: [("letters", nil), ("padded", nil), ("multi", nil), ("steps", nil), ("mixed", nil), ("ips", nil),
                   ("*.example.com", nil), ("~n0", nil)]),
    OracleFixture(
        name: "precedence",
        files: [
            "inv/hosts.ini": """
            [child]
            h1 upto_09=host-line upto_10=host-line upto_11=host-line

            [parent:children]
            child

            [all:vars]
            upto_01=ini-all
            upto_02=ini-all
            upto_03=ini-all
            upto_04=ini-all
            upto_05=ini-all
            upto_06=ini-all
            upto_07=ini-all
            upto_08=ini-all
            upto_09=ini-all
            upto_10=ini-all
            upto_11=ini-all

            [parent:vars]
            upto_02=ini-parent
            upto_03=ini-parent
            upto_04=ini-parent
            upto_05=ini-parent
            upto_06=ini-parent
            upto_07=ini-parent
            upto_08=ini-parent
            upto_09=ini-parent
            upto_10=ini-parent
            upto_11=ini-parent

            [child:vars]
            upto_03=ini-child
            upto_04=ini-child
            upto_05=ini-child
            upto_06=ini-child
            upto_07=ini-child
            upto_08=ini-child
            upto_09=ini-child
            upto_10=ini-child
            upto_11=ini-child
            """,
            "inv/group_vars/all.yml": (4...11).map { String(format: "upto_%02d: inv-gv-all", $0) }.joined(separator: "\n"),
            "play/group_vars/all.yml": (5...11).map { String(format: "upto_%02d: play-gv-all", $0) }.joined(separator: "\n"),
            "inv/group_vars/parent.yml": (6...11).map { String(format: "upto_%02d: inv-gv-parent", $0) }.joined(separator: "\n"),
            "inv/group_vars/child": (7...11).map { String(format: "upto_%02d: inv-gv-child", $0) }.joined(separator: "\n"),
            "play/group_vars/child/main.yml": (8...11).map { String(format: "upto_%02d: play-gv-child", $0) }.joined(separator: "\n"),
            "inv/host_vars/h1.yml": "upto_10: inv-hv\nupto_11: inv-hv\n",
            "play/host_vars/h1.json": "{\"upto_11\": \"play-hv\"}",
        ],
        sources: ["inv/hosts.ini"],
        playbookDir: "play"),
    OracleFixture(
        name: "priority-and-depth",
        files: [
            "hosts.yml": """
            all:
              children:
                a_low:
                  vars: {x: a_low, ansible_group_priority: 10}
                  hosts: {h1: , h2: }
                z_high:
                  vars: {x: z_high}
                  hosts: {h1: }
                deep:
                  children:
                    deeper:
                      vars: {y: deeper}
                      hosts: {h2: }
                  vars: {y: deep, x: deep}
                  hosts: {h2: }
            """,
        ],
        sources: ["hosts.yml"],
        patterns: [("all", nil), ("deep", nil), ("a_*:z_*", nil), ("all", "h1"), ("all", "deep:!deeper"), ("*", "a_low[1]")]),
    OracleFixture(
        name: "patterns-localhost",
        files: [
            "hosts.ini": """
            127.0.0.1 ansible_connection=local
            [app]
            app1
            app2
            app3
            [app:vars]
            port=80
            [all:vars]
            everyone=yes
            """,
        ],
        sources: ["hosts.ini"],
        patterns: [("localhost", nil), ("127.0.0.1", nil), ("app[-2]", nil), ("app[1:2]", nil), ("app:!app2", nil),
                   ("!app1", nil), ("&app", nil), ("app,missing", nil), ("app1,app1,app2", nil), ("app:&app[0]", nil),
                   ("a?p2", nil), ("app[!1]*", nil), ("ungrouped", nil), ("all", "app[1:]:localhost")],
        extraHosts: ["localhost"]),
    OracleFixture(
        name: "group-vars-variants",
        files: [
            "hosts.yml": "all:\n  children:\n    web:\n      hosts:\n        w1:\n        w2:\n    db:\n      hosts:\n        d1:\n",
            "group_vars/all.json": "{\"from_json\": 1, \"shared\": \"all\"}",
            "group_vars/web/10-a.yml": "shared: web-a\nlist: [1, 2]\n",
            "group_vars/web/20-b.yml": "---\nshared: web-b\nnested:\n  k: v\n",
            "group_vars/web/sub/30-c.yml": "deep_file: yes\n",
            "group_vars/web/ignored.txt": "shared: nope\n",
            "group_vars/db": "shared: db-noext\nport: 5432\n",
            "group_vars/db.yml": "shared: db-yml-loses\n",
            "host_vars/d1.yaml": "# only a comment\n",
            "host_vars/w2.yml": "shared: w2\nansible_host: 10.9.9.9\n",
        ],
        sources: ["hosts.yml"],
        patterns: [("web:db", nil)]),
    OracleFixture(
        name: "pattern-zoo",
        files: [
            "hosts": """
            solo
            [web]
            web1
            web2
            web3
            [db]
            db1
            db2
            web3 late=1
            [prod:children]
            web
            db
            [staging]
            stage-a
            stage-b
            [web-old]
            web1
            """,
        ],
        sources: ["hosts"],
        patterns: [("all", nil), ("*", nil), ("db:web", nil), ("web:&db", nil), ("prod:!db", nil), ("!db", nil),
                   ("web?", nil), ("stage-?", nil), ("~(web|db)1", nil), ("web[1:]", nil), ("web[7]", nil), ("prod", "db"),
                   ("all", "web[0]:stage-b"), ("web-*", nil), ("*-*", nil), ("pro*", nil), ("&web:!web2", nil),
                   ("web[0:1]:db[-1]", nil), ("all:&nothing", nil), ("WEB", nil), ("web1:web1", nil), ("~^w", nil),
                   ("[sw]*", nil), ("all[2:4]", nil), ("web-old:db", nil)]),
    OracleFixture(
        name: "ini-host-redefinitions",
        files: [
            "hosts": """
            [a]
            h1 v=a only_a=1
            h1:2200 v=a2
            [b]
            h1 v=b
            h2:2201
            [b:vars]
            ansible_group_priority="7"
            shared=b
            [a:vars]
            shared=a
            [h2]
            h3
            [c:children]
            b
            [c]
            h4
            [c:vars]
            shared=c
            """,
        ],
        sources: ["hosts"],
        patterns: [("c", nil), ("h2", nil), ("h*", nil)]),
    OracleFixture(
        name: "yaml-cluster",
        files: [
            "inv.yaml": """
            all:
              vars:
                ansible_user: root
                ansible_ssh_common_args: '-o StrictHostKeyChecking=no'
              children:
                postgres:
                  children:
                    primary:
                      hosts:
                        pg1: {ansible_host: 10.77.0.11, pg_role: primary, tags: [a, b], conf: {max_connections: 100}}
                    replicas:
                      hosts:
                        pg[2:3]: {pg_role: replica}
                        pg4:2222: {ansible_host: 10.77.0.14}
                  vars:
                    pg_version: 16
                    octal: 0644
                    yes_bool: yes
                    float: 1.5
                    date: 2024-01-01
                    nothing: ~
                    quoted: "16"
                etcd:
                  hosts:
                    pg1:
                    pg2:
            """,
        ],
        sources: ["inv.yaml"],
        patterns: [("postgres:&etcd", nil), ("replicas[0]", nil), ("all:!primary", nil)]),
    OracleFixture(
        name: "implicit-localhost-and-all-vars",
        files: ["hosts.ini": "[web]\nw1\n[all:vars]\nglobal=1\nansible_connection=ssh\n", "host_vars/localhost.yml": "lh: yes\n"],
        sources: ["hosts.ini"],
        patterns: [("localhost", nil), ("all:localhost", nil), ("web:localhost", nil), ("web:!localhost", nil), ("::1", nil)],
        extraHosts: ["localhost"]),
]

private func ourAnswer(_ fixture: OracleFixture, tree: TempTree, python: String) throws -> Value {
    var inventory = try Inventory.load(sources: fixture.sources.map { $0.contains(",") ? $0 : tree.path($0) })
    inventory.implicitLocalhostInterpreter = python
    var groups = OrderedDictionary<String, Value>()
    for (name, group) in inventory.groups {
        groups[name] = [
            "hosts": strings(group.hosts), "children": strings(group.children), "vars": .dict(group.vars),
            "priority": .int(group.priority),
        ]
    }
    let playbookDir = fixture.playbookDir.map { tree.path($0) }
    var hostvars = OrderedDictionary<String, Value>()
    var magic = OrderedDictionary<String, Value>()
    for name in Array(inventory.hosts.keys) + fixture.extraHosts {
        hostvars[name] = .dict(try inventory.hostVars(for: name, playbookDirectory: playbookDir))
        magic[name] = .dict(inventory.magicVariables(for: name))
    }
    var patterns: [Value] = []
    for p in fixture.patterns {
        do {
            let selection = try inventory.select(p.pattern, limit: p.limit)
            patterns.append(["hosts": strings(selection.hosts), "warnings": strings(selection.warnings)])
        } catch {
            patterns.append(["error": .string("\(error)")])
        }
    }
    return ["groups": .dict(groups), "hostvars": .dict(hostvars), "magic": .dict(magic), "patterns": .list(patterns)]
}

@Suite("ansible-core differential", .serialized)
struct OracleTests {
    @Test("same groups, host variables, magic variables and pattern results as ansible-core", arguments: fixtures)
    func matchesAnsible(_ fixture: OracleFixture) throws {
        guard let python = oraclePython else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("ansible-core oracle venv is missing and could not be created (scripts/oracle-venv.sh)")
            }
            return
        }
        let tree = try TempTree(fixture.files)
        var spec: OrderedDictionary<String, Value> = [
            "sources": strings(fixture.sources.map { $0.contains(",") ? $0 : tree.path($0) }),
            "patterns": .list(fixture.patterns.map { ["pattern": .string($0.pattern), "limit": $0.limit.map { .string($0) } ?? .null] }),
            "extra_hosts": strings(fixture.extraHosts),
        ]
        spec["playbook_dir"] = fixture.playbookDir.map { .string(tree.path($0)) } ?? .null
        let (out, err, status) = try run(
            python, [packageRoot + "/scripts/inventory-oracle.py"], stdin: JSON.encode(.dict(spec)), cwd: tree.root)
        try #require(status == 0, "oracle failed: \(err)")
        let expected = try JSON.decode(out)
        #expect(expected["error"] == nil, "ansible could not load the fixture: \(String(describing: expected["error"]))")
        let actual = try ourAnswer(fixture, tree: tree, python: python)

        for key in ["groups", "hostvars", "magic"] {
            let e = expected[key]?.dictValue ?? [:]
            let a = actual[key]?.dictValue ?? [:]
            #expect(Array(a.keys) == Array(e.keys), "\(key) names/order")
            for name in e.keys {
                #expect(normalized(a[name] ?? .null) == normalized(e[name]!), "\(key)[\(name)]")
            }
        }
        let ePatterns = expected["patterns"]?.listValue ?? []
        let aPatterns = actual["patterns"]?.listValue ?? []
        #expect(ePatterns.count == aPatterns.count)
        for (index, (e, a)) in zip(ePatterns, aPatterns).enumerated() {
            let p = fixture.patterns[index]
            if e["error"] != nil {
                #expect(a["error"] != nil, "pattern \(p.pattern) limit \(p.limit ?? "-") should fail like ansible: \(e)")
            } else {
                #expect(a["hosts"] == e["hosts"], "pattern \(p.pattern) limit \(p.limit ?? "-")")
                #expect(a["warnings"] == e["warnings"], "pattern \(p.pattern) warnings")
            }
        }
    }

    /// The command-line tools too: `ansible-inventory --list` and `ansible PATTERN --list-hosts`.
    @Test("ansible-inventory --list and ansible --list-hosts agree with us")
    func matchesAnsibleCLI() throws {
        guard let python = oraclePython else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("ansible-core oracle venv is missing and could not be created (scripts/oracle-venv.sh)")
            }
            return
        }
        let bin = (python as NSString).deletingLastPathComponent
        let fixture = fixtures.first { $0.name == "ini-forward-declarations" }!
        let tree = try TempTree(fixture.files)
        let source = tree.path("hosts.ini")
        let inventory = try Inventory.load(sources: [source])

        let (listed, err, status) = try run(bin + "/ansible-inventory", ["-i", source, "--list"], stdin: "", cwd: tree.root)
        try #require(status == 0, "ansible-inventory failed: \(err)")
        let json = try JSON.decode(listed)
        for (name, group) in inventory.groups where name != "all" {
            let entry = json[name]
            #expect((entry?["hosts"]?.listValue ?? []) == group.hosts.map { .string($0) }, "hosts of \(name)")
            #expect((entry?["children"]?.listValue ?? []) == group.children.map { .string($0) }, "children of \(name)")
        }
        for host in inventory.hosts.keys {
            let theirs = json["_meta"]?["hostvars"]?[host] ?? .dict([:])
            #expect(normalized(.dict(try inventory.hostVars(for: host))) == normalized(theirs), "hostvars of \(host)")
        }

        for pattern in ["cluster:!pg3", "standby[1]", "all", "pg[23]"] {
            let (text, _, code) = try run(bin + "/ansible", ["-i", source, pattern, "--list-hosts"], stdin: "", cwd: tree.root)
            try #require(code == 0)
            let theirs = text.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(try inventory.hosts(matching: pattern) == theirs, "ansible \(pattern) --list-hosts")
        }
    }
}
