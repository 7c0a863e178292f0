import Declarations
import Foundation
import Modules
import OrderedCollections
import PGHACore
import Playbook
import Transport
import Vault

/// Runs a module from the library on the task's host (or delegate).
enum ModuleAction {
    static func run(_ module: any Module.Type, _ context: ActionContext) async throws -> ActionResult {
        let rendered = try context.renderedArguments()
        let arguments = try module.arguments.validate(
            rendered, module: module.name, locations: context.task.argLocations,
            taskLocation: context.task.location, allowTemplates: false)
        for argument in module.arguments.arguments where argument.secret {
            if let value = arguments.values[argument.name] { context.invocation.redactor.register(value: value) }
        }
        let checkMode = try context.checkMode
        if checkMode && !module.supportsCheckMode {
            return ActionResult([
                "changed": false, "skipped": true, "msg": .string("remote module (\(module.name)) does not support check mode"),
            ])
        }
        let connection = try await context.invocation.connection()
        let roundTripsBefore = context.invocation.meter.roundTrips
        let moduleContext = ModuleContext(
            connection: connection, host: context.host, checkMode: checkMode, diffMode: try context.diffMode,
            become: try become(context),
            environment: try environment(context) + (module.declaration.keepsHostLocale ? [] : parsableLocale),
            taskLocation: context.task.location,
            facts: context.variables.lookup("ansible_facts") ?? .null,
            playbookDirectory: context.variables.lookup("playbook_dir")?.stringValue ?? FileManager.default.currentDirectoryPath,
            resolveLocalPath: localPathResolver(context),
            renderTemplate: templateRenderer(context),
            readLocalFile: localFileReader(context))
        let result = try await module.run(arguments, context: moduleContext)
        if TaskMeter.reportModules {
            TaskMeter.report(
                module: module.name, host: context.host, task: context.task.name ?? "",
                count: context.invocation.meter.roundTrips - roundTripsBefore)
        }
        var actionResult = ActionResult(result.asValue.dictValue ?? [:])
        // Fact modules (service_facts, package_facts, getent) return ansible_facts, merged as Ansible does.
        if !result.failed, let facts = result.values["ansible_facts"]?.dictValue { actionResult.moduleFacts = facts }
        actionResult.diffs = result.diffs
        let diffMode = try context.diffMode
        if !result.diffs.isEmpty && diffMode {
            actionResult.values["diff"] = .list(result.diffs.map {
                ["before": .string($0.before), "after": .string($0.after), "before_header": .string($0.beforeHeader),
                 "after_header": .string($0.afterHeader)]
            })
        }
        return actionResult
    }

    /// become as Ansible resolves it: task/block/play keyword, then -b, then inventory variables.
    static func become(_ context: ActionContext) throws -> Become? {
        let variables = context.variables
        let location = context.task.location
        let keyword = try context.templating.bool(context.task.keywords.become, variables, at: location)
        let fromVars = variables.lookup("ansible_become").map(Templating.truthy)
        guard keyword ?? fromVars ?? context.options.become else { return nil }
        var user = context.options.becomeUser ?? "root"
        if let varUser = variables.lookup("ansible_become_user") { user = Templating.display(varUser) }
        if let keywordUser = context.task.keywords.becomeUser {
            user = try context.templating.renderString(Templating.display(keywordUser), variables, at: location)
        }
        var password = context.options.becomePassword
        if let value = variables.lookup("ansible_become_password") ?? variables.lookup("ansible_become_pass") {
            password = try context.templating.renderString(Templating.display(value), variables, at: location)
        }
        if let password { context.invocation.redactor.register(password) }
        return Become(user: user, password: password)
    }

    static func environment(_ context: ActionContext) throws -> [(String, String)] {
        var merged = OrderedDictionary<String, String>()
        for value in context.task.keywords.environment {
            let rendered = try context.templating.render(value, context.variables, at: context.task.location)
            guard case .dict(let dict) = rendered else {
                throw PGHAError(.semantic, "environment must be a mapping", at: context.task.location)
            }
            for (k, v) in dict { merged[k] = Templating.display(v) }
        }
        return merged.map { ($0.key, $0.value) }
    }

    /// Modules parse the output of the tools they run, so those run in an English, UTF-8 locale
    /// whatever the host's default, as Ansible's modules do (get_best_parsable_locale picks C.utf8 on
    /// Debian, and it overrides the task's environment). Modules that run the user's own commands
    /// (`keepsHostLocale`: command, shell, script) leave the host's locale alone, as under Ansible.
    static let parsableLocale = [("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8"), ("LC_MESSAGES", "C.UTF-8")]

    /// `src:` lookup order: the role's files/ or templates/, the playbook's, then the path itself.
    /// Built-in roles and playbooks resolve inside the built-in tree (`ContentSource`).
    static func localPathResolver(_ context: ActionContext) -> @Sendable (String, String) -> String? {
        let rolePath = context.task.role?.path
        let taskDir = (context.task.location.file as NSString).deletingLastPathComponent
        let playbookDir = context.variables.lookup("playbook_dir")?.stringValue ?? "."
        return { path, kind in
            if path.hasPrefix("/") || ContentSource.isBuiltin(path) { return ContentSource.exists(path) ? path : nil }
            var candidates: [String] = []
            if let rolePath { candidates += [rolePath + "/" + kind + "/" + path, rolePath + "/" + path] }
            candidates += [
                taskDir + "/" + kind + "/" + path, taskDir + "/" + path, playbookDir + "/" + kind + "/" + path,
                playbookDir + "/" + path,
            ]
            return candidates.first(where: ContentSource.exists)
        }
    }

    /// Controller files for `src:`: a vaulted one is decrypted (unless `decrypt: false`) and its
    /// plaintext registered as a secret; it reaches the host in clear, as with Ansible.
    static func localFileReader(_ context: ActionContext) -> @Sendable (String, Bool) throws -> [UInt8] {
        let vault = context.invocation.vault
        return { path, decrypt in
            if decrypt { return try vault.readFile(path) }
            guard let bytes = ContentSource.contents(path) else {
                throw PGHAError(.io, "could not read the file on the controller", at: SourceLocation(file: path))
            }
            return bytes
        }
    }

    static func templateRenderer(_ context: ActionContext) -> @Sendable (String) async throws -> String {
        let templating = context.templating
        let variables = context.variables
        let vault = context.invocation.vault
        return { path in
            var variables = variables
            // Refused before it is read when too large; binary or non-UTF-8 text named with its position.
            try InputFile.checkSize(path, limit: InputLimits.maxTemplateBytes, what: "template")
            let text = try InputFile.text(of: vault.readFile(path), file: path, what: "template")
            variables.set("template_path", .string(path))
            variables.set("template_host", .string(ProcessInfo.processInfo.hostName))
            variables.set("ansible_managed", "Ansible managed")
            return try templating.renderTemplateFile(text, variables, at: SourceLocation(file: path, line: 1))
        }
    }
}
