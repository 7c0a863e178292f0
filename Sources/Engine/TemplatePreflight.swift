import Foundation
import Inventory
import OrderedCollections
import PGHACore
import Playbook
import Template
import Vault

extension TemplateSyntax {
    /// The Template target's parser with a fresh engine.
    public static var standard: TemplateSyntax { jinja(TemplateEngine()) }

    /// The Template target's parser, for the loader's `TemplateSyntaxCheck`.
    public static func jinja(_ engine: TemplateEngine) -> TemplateSyntax {
        TemplateSyntax { text, form, location in
            switch form {
            case .template: try engine.checkSyntax(template: text, at: location)
            case .expression: try engine.checkSyntax(expression: text, at: location)
            }
        }
    }
}

/// Parses, before any host is touched, the templates a run reads outside the playbook files
/// (which the loader checks as they load): the inventory's variables, extra vars, literal
/// `vars_files` and `include_vars` files, and the files a literal `template: src=` renders. A
/// syntax error stops the run naming the file, line and column and the offending text; so do a
/// template file that is too large, binary or not UTF-8. Templates whose path is computed are
/// checked when the task loads them.
enum TemplatePreflight {
    static func check(
        _ playbooks: [Playbook], inventory: Inventory, extraVars: OrderedDictionary<String, Value>,
        vault: VaultContext, engine: TemplateEngine = TemplateEngine()
    ) throws {
        let syntax = TemplateSyntax.jinja(engine)
        let check = TemplateSyntaxCheck(syntax)
        try checkInventory(inventory, playbookDirectories: playbooks.map(\.directory), engine: engine)
        for (name, value) in extraVars {
            try checkValue(value, at: SourceLocation(file: "<extra vars: \(name)>"), secret: false, engine: engine)
        }
        var checkedFiles: Set<String> = []
        for playbook in playbooks {
            for play in playbook.plays {
                for entry in play.varsFiles {
                    guard let path = VaultPreflight.varsFilePath(entry, directory: playbook.directory),
                        checkedFiles.insert(path).inserted
                    else { continue }
                    if let root = try vault.loadYAML(contentsOf: path) { try check.checkValues(root) }
                }
                let tasks = Session.flatten(play.preTasks + play.roles + play.tasks + play.postTasks) + play.handlers
                for task in tasks where task.action == "template" || task.action == "include_vars" {
                    guard let source = VaultPreflight.sourceFile(of: task, playbookDirectory: playbook.directory),
                        checkedFiles.insert(source.path).inserted
                    else { continue }
                    do {
                        if source.kind == "vars" {
                            if let root = try vault.loadYAML(contentsOf: source.path) { try check.checkValues(root) }
                        } else {
                            try checkTemplateFile(source.path, engine: engine)
                        }
                    } catch var error as PGHAError {
                        error.hint = [error.hint, "needed by \(source.neededAt)"].compactMap { $0 }.joined(separator: "; ")
                        throw error
                    }
                }
            }
        }
    }

    /// A template file as the template module reads it: size, text, then syntax.
    static func checkTemplateFile(_ path: String, engine: TemplateEngine) throws {
        let text = try InputFile.readText(path, limit: InputLimits.maxTemplateBytes, what: "template")
        try engine.checkSyntax(template: text, at: SourceLocation(file: path, line: 1), isFile: true)
    }

    /// Every inventory variable of every host, each definition once.
    private static func checkInventory(_ inventory: Inventory, playbookDirectories: [String], engine: TemplateEngine) throws {
        var seen: Set<String> = []
        for directory in Set(playbookDirectories) {
            for host in inventory.hosts(inGroup: "all") {
                for layer in try inventory.variables(for: host, playbookDirectory: directory) {
                    for (name, value) in layer.values {
                        let origin = layer.origin(of: name)
                        let location = origin.location ?? layer.origin.location ?? SourceLocation(file: layer.source)
                        guard seen.insert("\(location)\u{0}\(layer.source)\u{0}\(name)").inserted else { continue }
                        try checkValue(value, at: location, secret: origin.isSecret, engine: engine)
                    }
                }
            }
        }
    }

    /// Every string in `value`; a secret's error names the place, never the text.
    private static func checkValue(_ value: Value, at location: SourceLocation, secret: Bool, engine: TemplateEngine) throws {
        switch value {
        case .string(let text):
            do {
                try engine.checkSyntax(template: text, at: location)
            } catch let error as PGHAError where secret {
                throw PGHAError(
                    error.kind, "template syntax error in a secret value", at: error.location,
                    hint: "the value is a secret and is not shown")
            }
        case .list(let items):
            for item in items { try checkValue(item, at: location, secret: secret, engine: engine) }
        case .dict(let entries):
            for (key, item) in entries {
                try checkValue(.string(key), at: location, secret: secret, engine: engine)
                try checkValue(item, at: location, secret: secret, engine: engine)
            }
        default:
            return
        }
    }
}
