import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Playbook
import Testing

@testable import Engine

/// Ansible's variable precedence, as `VariableAssembly` builds a task's variables, and as a run
/// carries set_fact and register from task to task and play to play.
@Suite struct VariablePrecedenceTests {
    /// Every place a variable can come from, lowest precedence first.
    static let layers = [
        "play role defaults", "role defaults", "inventory group", "inventory host", "facts", "play vars",
        "vars_files", "play role vars", "role vars", "task vars", "include_vars", "set_fact", "role params",
        "include params", "extra vars",
    ]

    /// `x` as a task of a role sees it on h1 when it is set in `enabled` layers only.
    static func x(setIn enabled: Set<String>) throws -> Value? {
        func value(_ layer: String) -> OrderedDictionary<String, Value> { enabled.contains(layer) ? ["x": .string(layer)] : [:] }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-vars-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var ini = "[g]\nh1" + (enabled.contains("inventory host") ? " x='inventory host'" : "") + "\n"
        if enabled.contains("inventory group") { ini += "[g:vars]\nx='inventory group'\n" }
        try ini.write(toFile: directory + "/hosts.ini", atomically: true, encoding: .utf8)
        let location = PGHACore.SourceLocation(file: directory + "/site.yml")

        var play = Play(location: location, hosts: "all")
        play.vars = value("play vars")
        var options = RunOptions()
        options.extraVars = value("extra vars")
        var assembly = VariableAssembly(play: play, options: options, playbookDirectory: directory, templating: Templating())
        assembly.varsFiles = value("vars_files")
        assembly.addRole(
            RoleInstance(
                name: "other", path: directory, defaults: value("play role defaults"), vars: value("play role vars"),
                parameters: [:], location: location),
            keepingEarlierDefaults: false)
        var task = Task(location: location, action: "debug", actionAsWritten: "debug", args: [:], keywords: Keywords())
        task.keywords.vars = value("task vars")
        task.role = RoleInstance(
            name: "mine", path: directory, defaults: value("role defaults"), vars: value("role vars"),
            parameters: value("role params"), location: location)
        var state = RunState(inventory: try Inventory.load(sources: [directory + "/hosts.ini"]))
        state.register("h1")
        if enabled.contains("facts") {
            state.hosts["h1"]?.facts["x"] = "facts"
            state.hosts["h1"]?.unprefixedFacts.insert("x")
        }
        state.hosts["h1"]?.includedVars = value("include_vars")
        state.hosts["h1"]?.hostFacts = value("set_fact")
        let stack = assembly.variables(
            for: "h1", task: task, includeVars: value("include params"), state: state,
            playHosts: .init(all: ["h1"], activeBatch: ["h1"]))
        return stack.lookup("x")
    }

    @Test func eachLayerWinsOverEveryLayerBelowIt() throws {
        for count in 1...Self.layers.count {
            let enabled = Set(Self.layers.prefix(count))
            let top = Self.layers[count - 1]
            #expect(try Self.x(setIn: enabled) == .string(top), "with \(count) layers")
        }
        // And alone, each is seen.
        for layer in Self.layers { #expect(try Self.x(setIn: [layer]) == .string(layer)) }
        #expect(try Self.x(setIn: []) == nil)
    }

    @Test func magicVariablesSitAboveEverything() throws {
        var options = RunOptions()
        options.extraVars = ["inventory_hostname": "extra", "ansible_check_mode": true]
        let location = PGHACore.SourceLocation(file: "/site.yml")
        var assembly = VariableAssembly(
            play: Play(location: location, hosts: "all"), options: options, playbookDirectory: "/", templating: Templating())
        var state = RunState(inventory: try Inventory.load(sources: ["h1,h2,"]))
        state.register("h1")
        let task = Task(location: location, action: "debug", actionAsWritten: "debug", args: [:], keywords: Keywords())
        let stack = assembly.variables(
            for: "h1", task: task, includeVars: [:], state: state, playHosts: .init(all: ["h1", "h2"], activeBatch: ["h1"]))
        #expect(stack.lookup("inventory_hostname") == "h1")
        #expect(stack.lookup("ansible_check_mode") == false)
        #expect(stack.lookup("ansible_play_hosts_all") == ["h1", "h2"])
        #expect(stack.lookup("ansible_play_hosts") == ["h1"])
    }

    @Test func setFactAndRegisterCarryOverToLaterTasksAndPlays() async throws {
        let run = try await FakeRun.of("""
            - hosts: all
              gather_facts: false
              vars:
                where: play vars
              tasks:
                - name: set
                  set_fact:
                    where: set_fact
                - name: registered
                  command: echo {{ inventory_hostname }}
                  register: said
                - name: show
                  debug:
                    msg: "{{ where }} {{ said.stdout }}"
            - hosts: h1
              gather_facts: false
              vars:
                where: second play vars
              tasks:
                - name: later play
                  debug:
                    msg: "{{ where }} {{ said.stdout }} {{ override }}"
            """, extraVars: ["override": "extra"])
        #expect(run.messages == ["h1: set_fact echo h1", "h2: set_fact echo h2", "h1: set_fact echo h1 extra"])
    }
}

/// The engine prints values as Python's str() does, control characters escaped (one pythonRepr,
/// the template engine's; the results below are CPython's).
@Suite struct ValueDisplayTests {
    @Test func listsAndMappingsPrintAsPythonStr() {
        let list: Value = ["a\u{01}", "b\u{7F}", "c\u{85}", "d'", "e\"", "f\\g", "h\ni"]
        #expect(Templating.display(list) == #"['a\x01', 'b\x7f', 'c\x85', "d'", 'e"', 'f\\g', 'h\ni']"#)
        let mapping: Value = ["k\u{02}": 1.5, "n": .null, "t": true]
        #expect(Templating.display(mapping) == #"{'k\x02': 1.5, 'n': None, 't': True}"#)
    }
}
