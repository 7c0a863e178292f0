import Foundation
import OrderedCollections
import PGHACore
import Testing
import Vault
@testable import Inventory

private let clusterINI = """
    # PostgreSQL cluster
    [primary]
    pg1 ansible_host=10.77.0.11 pg_role=primary

    [replicas]
    pg[2:3] pg_role=replica
    pg4:2222 ansible_host=10.77.0.14

    [postgres:children]
    primary
    replicas

    [postgres:vars]
    pg_version=16
    pg_port=5432

    [all:vars]
    ansible_user=root
    """

private let clusterYAML = """
    all:
      vars:
        ansible_user: root
      children:
        postgres:
          children:
            primary:
              hosts:
                pg1:
                  ansible_host: 10.77.0.11
                  pg_role: primary
            replicas:
              hosts:
                pg[2:3]:
                  pg_role: replica
                pg4:2222:
                  ansible_host: 10.77.0.14
          vars:
            pg_version: 16
            pg_port: 5432
    """

@Suite("inventory sources")
struct SourceTests {
    @Test("INI and YAML forms of the same inventory give the same hosts, groups and variables")
    func iniAndYAMLAgree() throws {
        let tree = try TempTree(["a/hosts.ini": clusterINI, "b/hosts.yml": clusterYAML])
        let ini = try Inventory.load(sources: [tree.path("a/hosts.ini")])
        let yaml = try Inventory.load(sources: [tree.path("b/hosts.yml")])
        #expect(Array(ini.hosts.keys) == ["pg1", "pg2", "pg3", "pg4"])
        #expect(Array(yaml.hosts.keys) == Array(ini.hosts.keys))
        for host in ini.hosts.keys {
            #expect(try ini.hostVars(for: host) == yaml.hostVars(for: host), "vars of \(host)")
            #expect(ini.groupNames(of: host) == yaml.groupNames(of: host))
        }
        for group in ["all", "ungrouped", "primary", "replicas", "postgres"] {
            #expect(ini.hosts(inGroup: group) == yaml.hosts(inGroup: group), "members of \(group)")
            #expect(Set(ini.groups[group]!.children) == Set(yaml.groups[group]!.children))
        }
        #expect(try ini.hostVars(for: "pg4") == [
            "ansible_user": "root", "pg_version": 16, "pg_port": 5432, "ansible_port": 2222, "ansible_host": "10.77.0.14",
        ])
        #expect(ini.groupNames(of: "pg2") == ["postgres", "replicas"])
    }

    @Test("host ranges: numeric, zero-padded, stepped, letters, several in one name")
    func ranges() throws {
        #expect(try HostAddress.expandRange("node[1:3]") == ["node1", "node2", "node3"])
        #expect(try HostAddress.expandRange("node[01:10:4]") == ["node01", "node05", "node09"])
        #expect(try HostAddress.expandRange("n[a:c]x") == ["nax", "nbx", "ncx"])
        #expect(try HostAddress.expandRange("db[1:2]-[a:b]") == ["db1-a", "db1-b", "db2-a", "db2-b"])
        #expect(try HostAddress.expandRange("h[:2]") == ["h0", "h1", "h2"])
        #expect(throws: HostAddress.Failure.self) { try HostAddress.expandRange("h[01:100]") }
        #expect(throws: HostAddress.Failure.self) { try HostAddress.expandRange("h[c:a]") }
        #expect(throws: HostAddress.Failure.self) { try HostAddress.expandRange("h[1:]") }
        let tree = try TempTree(["hosts": "[web]\nweb[01:03].example.com:8022 tier=front\n"])
        let inventory = try Inventory.load(sources: [tree.path("hosts")])
        #expect(try inventory.hosts(matching: "web") == ["web01.example.com", "web02.example.com", "web03.example.com"])
        #expect(try inventory.hostVars(for: "web02.example.com") == ["ansible_port": 8022, "tier": "front"])
        #expect(inventory.magicVariables(for: "web02.example.com")["inventory_hostname_short"] == "web02")
    }

    @Test("INI values: host lines and :vars go through literal_eval, the rest stays text")
    func iniValues() throws {
        let tree = try TempTree([
            "hosts": """
            h1 port=22 name="two words" flag=True quoted="'22'" octal=0755 list="[1, 'x']" empty= cut=abc#comment
            [all:vars]
            count=3
            text=hello world
            yes_is_text=yes
            with_comment=5 # five
            """,
        ])
        let vars = try Inventory.load(sources: [tree.path("hosts")]).hostVars(for: "h1")
        #expect(vars["port"] == 22)
        #expect(vars["name"] == "two words")
        #expect(vars["flag"] == true)
        #expect(vars["quoted"] == "22")
        #expect(vars["octal"] == "0755")
        #expect(vars["list"] == [1, "x"])
        #expect(vars["empty"] == "")
        #expect(vars["cut"] == "abc")
        #expect(vars["count"] == 3)
        #expect(vars["text"] == "hello world")
        #expect(vars["yes_is_text"] == "yes")
        #expect(vars["with_comment"] == 5)
    }

    @Test("a directory source reads every inventory file in order and skips backups, retries and dot files")
    func directorySource() throws {
        let tree = try TempTree([
            "inv/10-web.ini": "[web]\nw1\n[web:vars]\norder=first\n",
            "inv/20-web.yml": "web:\n  hosts:\n    w2:\n  vars:\n    order: second\n",
            "inv/old.retry": "this is not inventory [\n",
            "inv/hosts.orig": "[nope\n",
            "inv/hosts~": "[nope\n",
            "inv/.git-keep": "[nope\n",
            "inv/group_vars/web.yml": "from_group_vars: 1\n",
            "inv/host_vars/w2": "hv: 2\n",
        ])
        let inventory = try Inventory.load(sources: [tree.path("inv")])
        #expect(Array(inventory.hosts.keys) == ["w1", "w2"])
        #expect(try inventory.hostVars(for: "w2") == ["order": "second", "from_group_vars": 1, "hv": 2])
        #expect(inventory.magicVariables(for: "w1")["inventory_file"] == .string(tree.path("inv/10-web.ini")))
        #expect(inventory.magicVariables(for: "w2")["inventory_dir"] == .string(tree.path("inv")))
    }

    @Test("comma lists, and several -i sources merging in order")
    func hostListsAndMerging() throws {
        let tree = try TempTree(["one.ini": "[g]\nh1 v=1\n[g:vars]\ngv=one\n", "two.yml": "g:\n  hosts:\n    h1: {v: 2}\n  vars:\n    gv: two\n"])
        let list = try Inventory.load(sources: ["a,b:2200,"])
        #expect(try list.hosts(matching: "all") == ["a", "b"])
        #expect(try list.hostVars(for: "b") == ["ansible_port": 2200])
        #expect(try Inventory.load(sources: ["single,"]).hosts(matching: "all") == ["single"])
        let merged = try Inventory.load(sources: [tree.path("one.ini"), tree.path("two.yml")])
        #expect(try merged.hostVars(for: "h1") == ["gv": "two", "v": 2])
        #expect(merged.magicVariables(for: "h1")["inventory_file"] == .string(tree.path("one.ini")))
    }

    @Test("groups: all, ungrouped, children, group_names and the groups magic variable")
    func groupsAndMagic() throws {
        let tree = try TempTree(["hosts": "loose\n[a]\nx\n[b:children]\na\n[c]\n"])
        let inventory = try Inventory.load(sources: [tree.path("hosts")])
        let magic = inventory.magicVariables(for: "x")
        #expect(magic["group_names"] == ["a", "b"])
        #expect(magic["groups"] == ["all": ["loose", "x"], "ungrouped": ["loose"], "a": ["x"], "b": ["x"], "c": []])
        #expect(inventory.magicVariables(for: "loose")["group_names"] == ["ungrouped"])
        #expect(inventory.groups["all"]!.children == ["ungrouped", "b", "c"])
        #expect(inventory.depth(of: "a") == 2)
    }
}

@Suite("inventory errors")
struct ErrorTests {
    private func loadError(_ text: String, name: String = "hosts") throws -> PGHAError {
        let tree = try TempTree([name: text])
        do {
            _ = try Inventory.load(sources: [tree.path(name)])
        } catch let error as PGHAError {
            return error
        }
        Issue.record("expected \(name) to fail to load")
        return PGHAError(.inventory, "no error")
    }

    @Test("INI errors point at file and line, and show the line")
    func iniErrors() throws {
        var error = try loadError("[web]\nw1\n[web:weird]\n")
        #expect(error.location?.line == 3)
        #expect(error.message.contains("has unknown type: weird"))
        #expect(error.sourceLine == "[web:weird]")
        #expect(error.description.contains("hosts:3"))

        error = try loadError("[web]\nw1 novalue\n")
        #expect(error.location?.line == 2)
        #expect(error.message == "Expected key=value host variable assignment, got: novalue")

        error = try loadError("[web:vars]\njustaword\n[web]\n")
        #expect(error.location?.line == 2)
        #expect(error.message == "Expected key=value, got: justaword")

        error = try loadError("[db:vars]\nx=1\n")
        #expect(error.location?.line == 1)
        #expect(error.message == "Section [db:vars] not valid for undefined group 'db'.")

        error = try loadError("[all:children]\nghost\n")
        #expect(error.location?.line == 2)
        #expect(error.message == "Section [all:children] includes undefined group 'ghost'.")

        error = try loadError("[web]\nh1 msg=\"unterminated\n")
        #expect(error.location?.line == 2)
        #expect(error.message.contains("No closing quotation"))

        error = try loadError("[bad group]\n")
        #expect(error.location?.line == 1)
        #expect(error.message.hasPrefix("Invalid section entry"))

        error = try loadError("[web]\nhost:\n")
        #expect(error.message.contains("ending in ':' is not allowed"))
    }

    @Test("a cycle among children is an error at the line that closes it")
    func cycles() throws {
        let error = try loadError("[a:children]\nb\n[b:children]\na\n")
        #expect(error.message == "Adding group 'a' as child to 'b' creates a recursive dependency loop.")
        #expect(error.location?.line == 4)
        let yaml = try loadError("all:\n  children:\n    a:\n      children:\n        a:\n", name: "inv.yml")
        #expect(yaml.message.contains("itself"))
        #expect(yaml.location?.line == 5)
    }

    @Test("YAML structure errors carry the node's position")
    func yamlErrors() throws {
        var error = try loadError("- just\n- a list\n", name: "inv.yml")
        #expect(error.message.contains("should be a dictionary"))
        #expect(error.location?.line == 1)
        error = try loadError("all:\n  hosts:\n    - h1\n", name: "inv.yml")
        #expect(error.message == "Invalid \"hosts\" entry for \"all\" group, requires a dictionary, found \"list\" instead.")
        #expect(error.location?.line == 3)
        error = try loadError("all:\n  hosts:\n    h1: [1]\n", name: "inv.yml")
        #expect(error.location?.line == 3)
        error = try loadError("all:\n  hosts:\n    42:\n", name: "inv.yml")
        #expect(error.message.contains("must be a string"))
        error = try loadError("all:\n  hosts: [\n", name: "inv.yml")
        #expect(error.kind == .syntax)
        #expect(error.location?.file.hasSuffix("inv.yml") == true)
        error = try loadError("plugin: aws_ec2\n", name: "inv.yml")
        #expect(error.message.contains("not supported"))
    }

    @Test("broken group_vars and host_vars files are reported with their position")
    func varsFileErrors() throws {
        let tree = try TempTree([
            "hosts": "[web]\nw1\n",
            "group_vars/web.yml": "ok: 1\nbad: [unclosed\n",
            "host_vars/w1.yml": "- not\n- a mapping\n",
        ])
        let inventory = try Inventory.load(sources: [tree.path("hosts")])
        #expect {
            try inventory.variables(for: "w1", playbookDirectory: nil)
        } throws: { error in
            guard let error = error as? PGHAError else { return false }
            return error.kind == .syntax && error.location?.file == tree.path("group_vars/web.yml") && (error.location?.line ?? 0) >= 2
        }
        try tree.write("group_vars/web.yml", "ok: 1\n")
        let fresh = try Inventory.load(sources: [tree.path("hosts")])
        #expect {
            try fresh.variables(for: "w1", playbookDirectory: nil)
        } throws: { error in
            (error as? PGHAError)?.location == SourceLocation(file: tree.path("host_vars/w1.yml"), line: 1, column: 1)
        }
        #expect(throws: PGHAError.self) { try fresh.variables(for: "nobody", playbookDirectory: nil) }
    }

    @Test("scripts, unknown sources and unsupported formats fail clearly")
    func unsupportedSources() throws {
        let tree = try TempTree([
            "script.sh": "#!/bin/sh\necho '{}'\n", "inv.toml": "[all]\n", "hosts.prod": "[web]\nw1\n",
            "broken.conf": "[web:weird]\n",
        ])
        chmod(tree.path("script.sh"), 0o755)
        #expect { try Inventory.load(sources: [tree.path("script.sh")]) } throws: { ($0 as? PGHAError)?.message.contains("scripts are not supported") == true }
        #expect { try Inventory.load(sources: [tree.path("inv.toml")]) } throws: { ($0 as? PGHAError)?.message.contains("TOML") == true }
        // An extension no plugin claims is read as INI, as Ansible's INI plugin reads it.
        #expect(try Inventory.load(sources: [tree.path("hosts.prod")]).hosts(inGroup: "web") == ["w1"])
        #expect { try Inventory.load(sources: [tree.path("broken.conf")]) } throws: { ($0 as? PGHAError)?.location?.line == 1 }
        #expect { try Inventory.load(sources: [tree.path("missing")]) } throws: { ($0 as? PGHAError)?.message.contains("not found") == true }
    }
}

@Suite("variable precedence")
struct PrecedenceTests {
    /// The same variable set at every level; each `upto_N` is set by levels 1...N, so level N must win it.
    static let levels = [
        "ini-all", "ini-parent", "ini-child", "inv-gv-all", "play-gv-all", "inv-gv-parent", "inv-gv-child",
        "play-gv-child", "host-line", "inv-hv", "play-hv",
    ]

    @Test("every level beats the ones below it, in Ansible's documented order")
    func everyLevel() throws {
        func vars(from level: Int, as format: (String, String) -> String) -> String {
            (level...Self.levels.count).map { format(String(format: "upto_%02d", $0), Self.levels[level - 1]) }
                .joined(separator: "\n")
        }
        let yaml: (String, String) -> String = { "\($0): \($1)" }
        let ini: (String, String) -> String = { "\($0)=\($1)" }
        let tree = try TempTree([
            "inv/hosts.ini": """
            [child]
            h1 \((9...11).map { String(format: "upto_%02d=host-line", $0) }.joined(separator: " "))
            [parent:children]
            child
            [all:vars]
            \(vars(from: 1, as: ini))
            [parent:vars]
            \(vars(from: 2, as: ini))
            [child:vars]
            \(vars(from: 3, as: ini))
            """,
            "inv/group_vars/all.yml": vars(from: 4, as: yaml),
            "play/group_vars/all/main.yml": vars(from: 5, as: yaml),
            "inv/group_vars/parent.yaml": vars(from: 6, as: yaml),
            "inv/group_vars/child": vars(from: 7, as: yaml),
            "play/group_vars/child.yml": vars(from: 8, as: yaml),
            "inv/host_vars/h1.yml": vars(from: 10, as: yaml),
            "play/host_vars/h1.json": "{" + (11...11).map { "\"upto_\($0)\": \"play-hv\"" }.joined() + "}",
        ])
        let inventory = try Inventory.load(sources: [tree.path("inv/hosts.ini")])
        let flat = try inventory.hostVars(for: "h1", playbookDirectory: tree.path("play"))
        for (index, level) in Self.levels.enumerated() {
            #expect(flat[String(format: "upto_%02d", index + 1)] == .string(level), "upto_\(index + 1)")
        }
        let layers = try inventory.variables(for: "h1", playbookDirectory: tree.path("play"))
        #expect(layers.map(\.source) == [
            "inventory vars of group 'all'", "inventory vars of group 'parent'", "inventory vars of group 'child'",
            "inventory group_vars/all.yml", "playbook group_vars/all/main.yml", "inventory group_vars/parent.yaml",
            "inventory group_vars/child", "playbook group_vars/child.yml", "inventory vars of host 'h1'",
            "inventory host_vars/h1.yml", "playbook host_vars/h1.json",
        ])
        // Without the playbook directory its files drop out and the inventory's win.
        let noPlay = try inventory.hostVars(for: "h1", playbookDirectory: nil)
        #expect(noPlay["upto_11"] == "inv-hv")
        #expect(noPlay["upto_05"] == "inv-gv-all")
    }

    @Test("sibling groups: deeper wins, then higher ansible_group_priority, then name")
    func siblings() throws {
        let tree = try TempTree([
            "hosts.yml": """
            all:
              children:
                b_group: {hosts: {h: }, vars: {x: b, y: b}}
                a_group: {hosts: {h: }, vars: {x: a, y: a, ansible_group_priority: 5}}
                top:
                  children:
                    nested: {hosts: {h: }, vars: {y: nested}}
            """,
        ])
        let inventory = try Inventory.load(sources: [tree.path("hosts.yml")])
        #expect(inventory.sortedGroups(of: "h") == ["b_group", "top", "a_group", "nested"])
        let vars = try inventory.hostVars(for: "h")
        #expect(vars["x"] == "a")
        #expect(vars["y"] == "nested")
        #expect(inventory.groups["a_group"]!.vars["ansible_group_priority"] == nil)
    }

    @Test("origins point at definitions, and secrets are marked by !vault tag or by name")
    func originsAndSecrets() throws {
        let vaulted = try Vault.encrypt("wrapped-secret", password: "inventory-test")
        let tree = try TempTree([
            "hosts": "[db]\nd1 db_password=hunter2 api_key=k ssh_key_file=/k\n",
            "group_vars/db.yml": "plain: 1\n" + Vault.inlineYAML(vaulted, name: "wrapped", indent: 2) + "\ngithub_token: t\n",
        ])
        let redactor = Redactor()
        let vault = VaultContext(secrets: VaultSecrets([VaultSecret(password: "inventory-test")]), redactor: redactor)
        let inventory = try Inventory.load(sources: [tree.path("hosts")], vault: vault)
        let layers = try inventory.variables(for: "d1", playbookDirectory: nil)
        let groupFile = try #require(layers.first { $0.source == "inventory group_vars/db.yml" })
        #expect(groupFile.origin(of: "plain").location == SourceLocation(file: tree.path("group_vars/db.yml"), line: 1, column: 1))
        #expect(groupFile.origin(of: "plain").isSecret == false)
        #expect(groupFile.origin(of: "wrapped").isSecret)
        #expect(groupFile.values["wrapped"] == "wrapped-secret")
        #expect(redactor.redact("wrapped-secret") == Redactor.mask)
        // Without the password the vaulted value is an error naming its file and line.
        let error = try #require(throws: PGHAError.self) {
            try Inventory.load(sources: [tree.path("hosts")]).variables(for: "d1", playbookDirectory: nil)
        }
        #expect(error.kind == .vault && error.location?.line == 2)
        #expect(groupFile.origin(of: "github_token").isSecret)
        let hostLayer = try #require(layers.last)
        #expect(hostLayer.origin(of: "db_password").isSecret)
        #expect(hostLayer.origin(of: "api_key").isSecret)
        #expect(hostLayer.origin(of: "ssh_key_file").isSecret == false)
        #expect(hostLayer.origin(of: "db_password").location?.line == 2)
        #expect(Inventory.isSecretName("ansible_ssh_private_key_file") == false)
        #expect(Inventory.isSecretName("tls_key"))
        #expect(Inventory.isSecretName("ansible_become_pass") == false)
    }
}

@Suite("host patterns")
struct PatternTests {
    static let text = """
        solo
        [web]
        web1
        web2
        web3
        [db]
        db1
        db2
        web3
        [prod:children]
        web
        db
        [staging]
        stage-a
        stage-b
        """

    func inventory() throws -> (Inventory, TempTree) {
        let tree = try TempTree(["hosts": Self.text])
        return (try Inventory.load(sources: [tree.path("hosts")]), tree)
    }

    @Test("names, groups, globs, regexes, unions, intersections, exclusions, subscripts")
    func patterns() throws {
        let (inv, _) = try inventory()
        // `all` lists its direct children's hosts before grandchildren's: prod's groups come last.
        #expect(try inv.hosts(matching: "all") == ["solo", "stage-a", "stage-b", "web1", "web2", "web3", "db1", "db2"])
        #expect(try inv.hosts(matching: "*") == inv.hosts(matching: "all"))
        #expect(try inv.hosts(matching: "web") == ["web1", "web2", "web3"])
        #expect(try inv.hosts(matching: "db:web") == ["db1", "db2", "web3", "web1", "web2"])
        #expect(try inv.hosts(matching: "db,web") == ["db1", "db2", "web3", "web1", "web2"])
        #expect(try inv.hosts(matching: "web:&db") == ["web3"])
        #expect(try inv.hosts(matching: "prod:!db") == ["web1", "web2"])
        #expect(try inv.hosts(matching: "!db") == ["solo", "stage-a", "stage-b", "web1", "web2"])
        #expect(try inv.hosts(matching: "web?") == ["web1", "web2", "web3"])
        #expect(try inv.hosts(matching: "stage-?") == ["stage-a", "stage-b"])
        #expect(try inv.hosts(matching: "~(web|db)1") == ["web1", "db1"])
        #expect(try inv.hosts(matching: "web[0]") == ["web1"])
        #expect(try inv.hosts(matching: "web[-1]") == ["web3"])
        #expect(try inv.hosts(matching: "web[0:1]") == ["web1", "web2"])
        #expect(try inv.hosts(matching: "web[1:]") == ["web2", "web3"])
        #expect(try inv.hosts(matching: "ungrouped") == ["solo"])
        #expect(try inv.hosts(matching: ["db", "web:!web3"]) == ["db1", "db2", "web1", "web2"])
        #expect(throws: PGHAError.self) { try inv.hosts(matching: "web[7]") }
    }

    @Test("unknown patterns match nothing and warn like Ansible; localhost is implicit")
    func unknownAndLocalhost() throws {
        let (inv, _) = try inventory()
        let selection = try inv.select("web1:nosuch")
        #expect(selection.hosts == ["web1"])
        #expect(selection.warnings == ["Could not match supplied host pattern, ignoring: nosuch"])
        #expect(try inv.hosts(matching: "localhost") == ["localhost"])
        #expect(try inv.hosts(matching: "all").contains("localhost") == false)
        let local = try inv.hostVars(for: "localhost")
        #expect(local["ansible_connection"] == "local")
        #expect(local["ansible_python_interpreter"] == .string(inv.implicitLocalhostInterpreter))
        #expect(inv.magicVariables(for: "localhost")["group_names"] == [])
    }

    @Test("--limit narrows a pattern, also from an @file")
    func limits() throws {
        let (inv, tree) = try inventory()
        #expect(try inv.hosts(matching: "prod", limit: "db") == ["web3", "db1", "db2"])
        #expect(try inv.hosts(matching: "all", limit: "web[0]:stage-b") == ["stage-b", "web1"])
        try tree.write("limit.txt", "db2\nsolo\n")
        #expect(try inv.hosts(matching: "all", limit: "@" + tree.path("limit.txt")) == ["solo", "db2"])
        #expect(try inv.hosts(matching: "web", limit: "nothing-here").isEmpty)
        #expect(throws: PGHAError.self) { try inv.hosts(matching: "all", limit: "@" + tree.path("missing")) }
    }

    @Test("splitting keeps addresses and ranges whole")
    func splitting() {
        #expect(Inventory.splitPattern("a:b:&c:!d") == ["a", "b", "&c", "!d"])
        #expect(Inventory.splitPattern("web[0:2]") == ["web[0:2]"])
        #expect(Inventory.splitPattern("fe80::1") == ["fe80::1"])
        #expect(Inventory.splitPattern(" a , b ,") == ["a", "b"])
    }
}

@Suite("runtime changes")
struct RuntimeTests {
    @Test("add_host puts new hosts first in all, with vars and groups; group_by builds groups")
    func addHostAndGroupBy() throws {
        let tree = try TempTree(["hosts": "[web]\nw1\n"])
        var inv = try Inventory.load(sources: [tree.path("hosts")])
        #expect(try inv.addHost("new1", groups: ["dyn"], vars: ["ansible_host": "10.77.0.9"]))
        #expect(try inv.addHost("new1", groups: ["dyn"], vars: ["ansible_host": "10.77.0.9"]) == false)
        #expect(try inv.hosts(matching: "all") == ["new1", "w1"])
        #expect(try inv.hosts(matching: "dyn") == ["new1"])
        #expect(try inv.hostVars(for: "new1") == ["ansible_host": "10.77.0.9"])
        #expect(inv.magicVariables(for: "new1")["inventory_file"] == .null)
        try inv.addHost("bare")
        #expect(try inv.hosts(matching: "ungrouped") == ["bare"])
        try inv.addHost("bare", groups: ["web"])
        #expect(try inv.hosts(matching: "ungrouped") == [])

        #expect(try inv.addGroup("os_debian", parents: ["linux"], host: "w1"))
        #expect(try inv.hosts(matching: "linux") == ["w1"])
        #expect(inv.groupNames(of: "w1") == ["linux", "os_debian", "web"])
        #expect(try inv.addGroup("os_debian", parents: ["linux"], host: "w1") == false)
        #expect(throws: PGHAError.self) { try inv.addGroup("linux", parents: ["os_debian"]) }
    }
}

@Suite("python syntax")
struct PythonSyntaxTests {
    @Test("shlex.split with comments, as Python does it")
    func shlex() throws {
        #expect(try PythonSyntax.shlexSplit(#"a b="c d" e='f g' h=i\ j k#l m"#) == ["a", "b=c d", "e=f g", "h=i j", "k"])
        #expect(try PythonSyntax.shlexSplit(#"x="a\"b\c" y='' "#) == [#"x=a"b\c"#, "y="])
        #expect(throws: (any Error).self) { try PythonSyntax.shlexSplit("a='open") }
    }

    @Test("literal_eval values, and the text itself when it is not a literal")
    func literals() {
        #expect(PythonSyntax.inventoryValue("42") == 42)
        #expect(PythonSyntax.inventoryValue("-0x10") == -16)
        #expect(PythonSyntax.inventoryValue("1_000.5") == 1000.5)
        #expect(PythonSyntax.inventoryValue("'a' \"b\"") == "ab")
        #expect(PythonSyntax.inventoryValue("{'k': (1, None), 2: [True]}") == ["k": [1, nil], "2": [true]])
        #expect(PythonSyntax.inventoryValue("r'\\d+'") == "\\d+")
        #expect(PythonSyntax.inventoryValue("'\\x41\\n'") == "A\n")
        #expect(PythonSyntax.inventoryValue("True # yes") == true)
        #expect(PythonSyntax.inventoryValue("1, 2") == [1, 2])
        for text in ["yes", "0777", "1 + 1", "abc", "{", "f'x'", "--1", "", "true", "None None"] {
            #expect(PythonSyntax.inventoryValue(text) == .string(text), "\(text)")
        }
    }
}
