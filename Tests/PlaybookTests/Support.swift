import Engine
import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Playbook

/// A temporary directory holding a project's files, removed when the value is released.
final class Project {
    let root: String

    init(_ files: [String: String]) throws {
        root = NSTemporaryDirectory() + "pb-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (path, text) in files { try write(path, text) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    var loader: PlaybookLoader { PlaybookLoader(
            roleSearchPaths: [root + "/shared-roles"], catalog: ActionRegistry.catalog, strategies: Strategies.names) }

    func load(_ playbook: String = "site.yml") throws -> Playbook {
        try loader.load(playbookPath: path(playbook))
    }

    /// Loads and returns the error, failing the test if loading succeeded or threw something else.
    func loadError(_ playbook: String = "site.yml", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> PGHAError? {
        do {
            _ = try load(playbook)
            Issue.record("expected a load error", sourceLocation: sourceLocation)
            return nil
        } catch let error as PGHAError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// Loads a single-file playbook (with `files/a`, for tasks copying `src: a`).
func loadPlaybook(_ text: String) throws -> Playbook {
    try Project(["site.yml": text, "files/a": "a\n"]).load()
}

/// The tasks of a node list, blocks flattened in order.
func flatTasks(_ nodes: [TaskNode]) -> [Task] {
    nodes.flatMap { node -> [Task] in
        switch node {
        case .task(let task): return [task]
        case .block(let block): return flatTasks(block.block) + flatTasks(block.rescue) + flatTasks(block.always)
        }
    }
}

extension Play {
    var allTasks: [Task] { flatTasks(preTasks) + flatTasks(roles) + flatTasks(tasks) + flatTasks(postTasks) }
}
