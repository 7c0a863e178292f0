import Foundation
// A module author writes one file that imports Modules; the declaration types come with it.
@_exported import Declarations
import OrderedCollections
import PGHACore
import Transport

/// Everything a module may use while it runs on one host. Modules touch the host only through
/// `connection`; the engine supplies the rest.
public struct ModuleContext: Sendable {
    public var connection: any Connection
    /// Inventory name of the host.
    public var host: String
    public var checkMode: Bool
    public var diffMode: Bool
    public var become: Become?
    public var environment: [(String, String)]
    /// Where the task was written (for errors).
    public var taskLocation: SourceLocation
    /// The host's gathered facts (`ansible_facts`), `.null` when not gathered.
    public var facts: Value
    /// The playbook's directory: relative controller paths a module writes (fetch's `dest`) are
    /// relative to it, as Ansible's loader makes them.
    public var playbookDirectory: String
    /// Finds a local file named by `src:`: role `files/` or `templates/` first, then the playbook's
    /// directory, as Ansible searches. `kind` is "files" or "templates". Nil when not found.
    public var resolveLocalPath: @Sendable (_ path: String, _ kind: String) -> String?
    /// Renders a Jinja2 template file with the task's variables (the `template` module).
    public var renderTemplate: @Sendable (_ localPath: String) async throws -> String
    /// Reads a controller file named by `src:`; with `decrypt`, a vault-encrypted file arrives as
    /// its plaintext (Ansible's `decrypt: true`), which the engine then treats as a secret.
    public var readLocalFile: @Sendable (_ localPath: String, _ decrypt: Bool) throws -> [UInt8]

    public init(
        connection: any Connection, host: String, checkMode: Bool = false, diffMode: Bool = false,
        become: Become? = nil, environment: [(String, String)] = [], taskLocation: SourceLocation,
        facts: Value = .null, playbookDirectory: String = FileManager.default.currentDirectoryPath,
        resolveLocalPath: @escaping @Sendable (String, String) -> String? = { path, _ in path },
        renderTemplate: @escaping @Sendable (String) async throws -> String = { path in
            throw PGHAError(.semantic, "templates are not available here", at: SourceLocation(file: path))
        },
        readLocalFile: @escaping @Sendable (String, Bool) throws -> [UInt8] = { path, _ in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PGHAError(.io, "could not read the file on the controller", at: SourceLocation(file: path))
            }
            return [UInt8](data)
        }
    ) {
        self.connection = connection
        self.host = host
        self.checkMode = checkMode
        self.diffMode = diffMode
        self.become = become
        self.environment = environment
        self.taskLocation = taskLocation
        self.facts = facts
        self.playbookDirectory = playbookDirectory
        self.resolveLocalPath = resolveLocalPath
        self.renderTemplate = renderTemplate
        self.readLocalFile = readLocalFile
    }
}

/// One before/after pair for `--diff`: file content (shown as a unified diff) or a state summary.
///
/// Headers follow Ansible's: an empty header means none was given, and the output shows the plain
/// "before"/"after" label (new files, the file module's state diffs); otherwise "before: <header>".
/// State summaries (file module) are already rendered as Ansible's callback does: sorted JSON with
/// 4-space indent and a trailing newline.
public struct FileDiff: Sendable, Equatable {
    public var before: String
    public var after: String
    public var beforeHeader: String
    public var afterHeader: String

    public init(before: String, after: String, beforeHeader: String, afterHeader: String) {
        self.before = before
        self.after = after
        self.beforeHeader = beforeHeader
        self.afterHeader = afterHeader
    }
}

/// What a module reports, with Ansible's result keys.
public struct ModuleResult: Sendable {
    public var changed: Bool
    public var failed: Bool
    public var skipped: Bool
    public var msg: String?
    /// Extra result keys: rc, stdout, stderr, stdout_lines, dest, checksum, state, ...
    public var values: OrderedDictionary<String, Value>
    public var diffs: [FileDiff]

    public init(
        changed: Bool = false, failed: Bool = false, skipped: Bool = false, msg: String? = nil,
        values: OrderedDictionary<String, Value> = [:], diffs: [FileDiff] = []
    ) {
        self.changed = changed
        self.failed = failed
        self.skipped = skipped
        self.msg = msg
        self.values = values
        self.diffs = diffs
    }

    public static func failure(_ message: String, values: OrderedDictionary<String, Value> = [:]) -> ModuleResult {
        ModuleResult(failed: true, msg: message, values: values)
    }

    /// The registered variable: `changed`, `failed`, `msg` and the module's own keys.
    public var asValue: Value {
        var dict = values
        dict["changed"] = .bool(changed)
        if failed { dict["failed"] = .bool(true) } else { dict["failed"] = .bool(false) }
        if skipped { dict["skipped"] = .bool(true) }
        if let msg { dict["msg"] = .string(msg) }
        return .dict(dict)
    }
}

/// A module: validates its arguments, reads the host's state, decides, changes it (or predicts the
/// change in check mode) and reports the result with a diff.
///
/// Adding a module: one file in `Sources/Modules/Library/` named after it, holding its declaration
/// and `run`, and one line in `ModuleRegistry.all`.
public protocol Module: Sendable {
    /// Names, check-mode and diff support, arguments and documentation: what the loader, the engine,
    /// `pgha-play doc` and the tests read.
    static var declaration: ActionDeclaration { get }

    /// Runs with arguments already validated against `declaration.arguments`.
    static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult
}

extension Module {
    /// Short name, e.g. "copy".
    public static var name: String { declaration.name }
    public static var arguments: ArgumentSpec { declaration.arguments }
    public static var supportsCheckMode: Bool { declaration.supportsCheckMode }
}
