import Foundation
import PGHACore
import Playbook
import Template
import Vault

/// Opens, before any host is touched, the vaulted controller files a run reads later: literal
/// `vars_files`, `include_vars` files and `src:` of copy, template and script. A wrong password or
/// a damaged file stops the run there, naming the file and the task that needs it. The plaintext
/// stays in the run's decryption cache (memory only), so the tasks do not decrypt again.
enum VaultPreflight {
    static func check(_ playbooks: [Playbook], vault: VaultContext) throws {
        for playbook in playbooks {
            for play in playbook.plays {
                for entry in play.varsFiles {
                    try checkVarsFile(entry, directory: playbook.directory, vault: vault, at: play.location)
                }
                let tasks = Session.flatten(play.preTasks + play.roles + play.tasks + play.postTasks) + play.handlers
                for task in tasks {
                    try checkSource(of: task, playbookDirectory: playbook.directory, vault: vault)
                }
            }
        }
    }

    /// The first existing alternative of a `vars_files` entry, as the play will load it.
    private static func checkVarsFile(_ entry: Value, directory: String, vault: VaultContext, at location: SourceLocation) throws {
        guard let path = varsFilePath(entry, directory: directory), isVaulted(path) else { return }
        try open(path, asYAML: true, vault: vault, neededAt: location)
    }

    /// The file a literal `vars_files` entry loads (the first existing alternative); nil when templated.
    static func varsFilePath(_ entry: Value, directory: String) -> String? {
        let names = (entry.listValue ?? [entry]).compactMap(\.stringValue)
        guard !names.contains(where: TemplateEngine.isTemplate) else { return nil }
        let paths = names.map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 }
        return paths.first(where: { FileManager.default.fileExists(atPath: $0) })
    }

    private static func checkSource(of task: Task, playbookDirectory: String, vault: VaultContext) throws {
        guard let source = sourceFile(of: task, playbookDirectory: playbookDirectory), isVaulted(source.path) else { return }
        try open(source.path, asYAML: source.kind == "vars", vault: vault, neededAt: source.neededAt)
    }

    /// The controller file a task's literal `src:` (copy, template, script) or `include_vars` file
    /// names, found as the run finds it; nil when templated or missing.
    static func sourceFile(of task: Task, playbookDirectory: String) -> (path: String, kind: String, neededAt: SourceLocation)? {
        let name: Value?
        let kind: String
        switch task.action {
        case "copy":
            guard task.args["remote_src"].map(Templating.truthy) != true, task.args["decrypt"].map(Templating.truthy) != false
            else { return nil }
            (name, kind) = (task.args["src"], "files")
        case "template": (name, kind) = (task.args["src"], "templates")
        case "script":
            guard task.args["decrypt"].map(Templating.truthy) != false else { return nil }
            let command = task.args["_raw_params"] ?? task.args["cmd"]
            (name, kind) = (command?.stringValue?.split(separator: " ").first.map { .string(String($0)) }, "files")
        case "include_vars": (name, kind) = (task.args["file"] ?? task.args["_raw_params"], "vars")
        default: return nil
        }
        guard let relative = name?.stringValue, !relative.isEmpty, !TemplateEngine.isTemplate(relative) else { return nil }
        let taskDirectory = (task.location.file as NSString).deletingLastPathComponent
        var candidates: [String] = []
        if relative.hasPrefix("/") {
            candidates = [relative]
        } else {
            // The run's own search order (ModuleAction.localPathResolver, IncludeVarsAction).
            if let role = task.role?.path {
                candidates.append(role + "/" + kind + "/" + relative)
                if kind != "vars" { candidates.append(role + "/" + relative) }
            }
            for base in [taskDirectory, playbookDirectory] {
                candidates += [base + "/" + kind + "/" + relative, base + "/" + relative]
            }
        }
        var isDirectory: ObjCBool = false
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) }),
            !isDirectory.boolValue
        else { return nil }
        return (path, kind, task.argLocations["src"] ?? task.location)
    }

    private static func isVaulted(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return VaultEnvelope.isVaulted([UInt8]((try? handle.read(upToCount: VaultEnvelope.marker.utf8.count)) ?? Data()))
    }

    private static func open(_ path: String, asYAML: Bool, vault: VaultContext, neededAt location: SourceLocation) throws {
        do {
            if asYAML { _ = try vault.loadYAML(contentsOf: path) } else { _ = try vault.readFile(path) }
        } catch var error as PGHAError {
            error.hint = [error.hint, "needed by \(location)"].compactMap { $0 }.joined(separator: "; ")
            throw error
        }
    }
}
