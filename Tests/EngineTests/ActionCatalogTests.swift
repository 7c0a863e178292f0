import Declarations
import Foundation
import Modules
import OrderedCollections
import PGHACore
import Testing

@testable import Engine

/// The one catalog of actions: every name is known once, documented, and runs.
@Suite struct ActionCatalogTests {
    let catalog = ActionRegistry.catalog

    @Test func everyNameSelectsExactlyOneAction() {
        #expect(catalog.conflictingNames.isEmpty, "declared twice: \(catalog.conflictingNames)")
        #expect(
            catalog.declarations.count
                == ActionRegistry.engineActions.count + ModuleRegistry.all.count + UnsupportedAction.declarations.count)
        for declaration in catalog.declarations {
            for name in declaration.allNames {
                #expect(catalog.declaration(named: name)?.name == declaration.name, "\(name)")
                #expect(ActionRegistry.runner(for: name) != nil, "\(name) has no runner")
            }
        }
        // The names that were once listed by hand in four places are all declared.
        for name in ["wait_for_connection", "ping", "raw", "include_vars", "meta", "import_playbook", "systemd_service"] {
            #expect(catalog.declaration(named: name) != nil, "\(name)")
        }
    }

    /// Each declaration's examples are tasks of that action whose arguments its spec accepts.
    @Test func everyActionIsDocumentedWithExamplesItsSpecAccepts() throws {
        for declaration in catalog.declarations {
            #expect(!declaration.documentation.summary.isEmpty, "\(declaration.name) has no summary")
            let root = try #require(try YAMLLoader.load(declaration.documentation.examples, file: "<\(declaration.name) examples>"))
            let tasks = try #require(root.value.listValue, "\(declaration.name): examples are not a list of tasks")
            var demonstrated = false
            for case .dict(let task) in tasks {
                for (key, value) in task {
                    guard let used = catalog.declaration(named: key), used.name == declaration.name else { continue }
                    demonstrated = true
                    guard case .dict(var args) = value else { continue }
                    for (k, v) in task["args"]?.dictValue ?? [:] { args[k] = v }
                    #expect(
                        throws: Never.self, "\(declaration.name)'s example does not validate",
                        performing: {
                            try declaration.arguments.validate(
                                args, module: declaration.name, locations: [:],
                                taskLocation: SourceLocation(file: "<examples>"), allowTemplates: true)
                        })
                }
            }
            #expect(demonstrated, "\(declaration.name)'s examples do not use it")
        }
    }

    @Test func docPagesShowArgumentsAttributesAndExamples() throws {
        let listing = DocumentationText.listing(catalog)
        for declaration in catalog.declarations {
            #expect(listing.contains(declaration.displayName + " "), "\(declaration.name) missing from doc -l")
        }
        let copy = DocumentationText.page(try #require(catalog.declaration(named: "ansible.builtin.copy")))
        #expect(copy.hasPrefix("> MODULE ansible.builtin.copy\n"))
        #expect(copy.contains("\n= dest\n        type: path\n"))
        #expect(copy.contains("\n- force\n        aliases: [thirsty]\n        default: true\n        type: bool\n"))
        #expect(copy.contains("check_mode: full") && copy.contains("diff_mode: full"))
        #expect(copy.contains("EXAMPLES:\n- name: Install a configuration file\n"))
        let command = DocumentationText.page(try #require(catalog.declaration(named: "command")))
        #expect(command.contains("\n- free_form\n        aliases: [cmd]\n"))
    }

    /// Every declared name, short and fully qualified, used in a task on this machine (through the
    /// local connection, in check mode, with no arguments): it runs, or it fails on its arguments;
    /// none is an unknown action.
    @Test func everyDeclaredNameRunsOrFailsOnItsArguments() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgha-walk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "localhost ansible_connection=local\n".write(toFile: directory + "/hosts.ini", atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.inventorySources = [directory + "/hosts.ini"]
        options.check = true
        var walked = 0
        for declaration in catalog.declarations {
            let spec = declaration.arguments
            let needsArguments = spec.arguments.contains(where: \.required) || !spec.requiredOneOf.isEmpty
            for name in declaration.allNames {
                walked += 1
                // import_playbook stands where plays do; every other action is a task.
                let playbook = declaration.name == "import_playbook"
                    ? "- \(name):\n" : "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: walk\n      \(name):\n"
                try playbook.write(toFile: directory + "/site.yml", atomically: true, encoding: .utf8)
                var outcome: String
                var ran = false
                do {
                    let session = try Session(playbookPaths: [directory + "/site.yml"], options: options)
                    let recorder = EventRecorder()
                    _ = try await session.run(sink: recorder)
                    let results = recorder.events.compactMap { event -> HostResult? in
                        if case .hostResult(_, let result) = event { return result }
                        return nil
                    }
                    let result = try #require(results.first, "\(name): no result")
                    ran = result.status != .failed && result.status != .unreachable
                    outcome = "\(result.status.rawValue): \(result.result["msg"]?.stringValue ?? "")"
                } catch let error as PGHAError {
                    outcome = "load error: \(error.message)"
                }
                for unknown in ["unknown module", "unknown action", "no module/action detected", "unknown meta"] {
                    #expect(!outcome.contains(unknown), "\(name): \(outcome)")
                }
                if needsArguments {
                    #expect(!ran, "\(name) ran without its required arguments: \(outcome)")
                } else if !ran {
                    // Without required arguments, a failure must still be about what was (not) given,
                    // or say that the module is not for this host and what to use instead.
                    let aboutArguments = ["argument", "required", "needs", "specify", "missing", "Failed as requested"]
                        .contains { outcome.contains($0) }
                    let unavailable = (outcome.contains("not available for Debian hosts") || outcome.contains("not supported by pgha-play"))
                        && outcome.contains("use ")
                    #expect(aboutArguments || unavailable, "\(name): \(outcome)")
                }
            }
        }
        #expect(walked > 120, "only \(walked) names walked")
    }
}
