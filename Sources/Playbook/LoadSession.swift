import Declarations
import Foundation
import OrderedCollections
import PGHACore
import Vault

/// The state of one load: caches, import chains for cycle detection, and what the current play
/// has gathered so far (role handlers, roles already applied, tasks to check notifications of).
final class LoadSession {
    let catalog: ActionCatalog
    let strategies: [String]
    let roleSearchPaths: [String]
    let collectionPaths: [String]
    let playbookDirectory: String
    let vault: VaultContext
    let templateSyntax: TemplateSyntax?
    var warnings: [PGHAError] = []
    private var yamlCache: [String: YAMLNode?] = [:]

    /// Files being imported, outermost first, with the line that imported each.
    var importChain: [(path: String, location: SourceLocation?)] = []
    var roleChain: [(name: String, path: String)] = []

    // Per play.
    var appliedRoles: Set<RoleKey> = []
    var roleHandlers: [Task] = []

    /// Handler names brought by roles that are only included at run time (literal `include_role`).
    var dynamicHandlerNames: Set<String> = []

    var validatedIncludes: Set<String> = []

    /// Set when a play includes a role whose name is templated: its handlers are unknowable.
    var handlersUnknowable = false

    /// Above zero while loading a dynamic include only to check it.
    var validationDepth = 0
    static let maxNesting = 64

    /// When set, errors inside a play, task or role entry are recorded and loading goes on with
    /// the next one, so one run reports every problem.
    var collectErrors = false

    /// Run-time loads cannot tell whether the include is a handler, so `listen` is accepted.
    var listenAnywhere = false
    private(set) var errors: [PGHAError] = []

    /// Runs `body`; in collecting mode a `PGHAError` is recorded and `fallback` returned instead.
    func attempt<T>(_ fallback: T, _ body: () throws -> T) throws -> T {
        guard collectErrors else { return try body() }
        do {
            return try body()
        } catch let error as PGHAError {
            record(error)
            return fallback
        }
    }

    func record(_ error: PGHAError) {
        // A role or file used by several plays would report the same problem again.
        if !errors.contains(where: { $0.location == error.location && $0.message == error.message }) {
            errors.append(error)
        }
    }

    init(loader: PlaybookLoader, playbookDirectory: String) {
        self.catalog = loader.catalog
        self.strategies = loader.strategies
        self.roleSearchPaths = loader.roleSearchPaths
        self.collectionPaths = loader.collectionPaths
        self.playbookDirectory = playbookDirectory
        self.vault = loader.vault
        self.templateSyntax = loader.templateSyntax
    }

    func yaml(_ path: String) throws -> YAMLNode? {
        if let cached = yamlCache[path] { return cached }
        let text = try InputFile.readText(path, limit: InputLimits.maxYAMLBytes, what: "YAML file")
        let node: YAMLNode?
        do {
            node = try vault.loadYAML(text, file: path)
        } catch var error as PGHAError where error.location?.line == 0 {
            // Some parser errors (duplicate keys) carry their position only in the message text.
            if let range = error.message.range(of: #"in line (\d+), column (\d+)"#, options: .regularExpression) {
                let numbers = error.message[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                if numbers.count == 2 {
                    error.location = SourceLocation(file: path, line: numbers[0], column: numbers[1])
                    if let context = error.message.range(of: "\nContext:") {
                        error.message = String(error.message[..<context.lowerBound])
                    }
                    error = error.withSourceLine()
                }
            }
            throw error
        }
        if let templateSyntax, let node { try TemplateSyntaxCheck(templateSyntax).checkDocument(node) }
        yamlCache[path] = .some(node)
        return node
    }

    func warn(_ message: String, at location: SourceLocation) {
        warnings.append(PGHAError(.semantic, message, at: location).withSourceLine())
    }

    /// Mapping entries (merge keys expanded). Duplicate keys never get here: the YAML parser
    /// rejects them, with their line.
    func entries(of node: YAMLNode) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)] {
        node.mappingEntries ?? []
    }

    func chainDescription(_ paths: [String], closingWith last: String) -> String {
        (paths + [last]).map { (($0 as NSString).lastPathComponent) }.joined(separator: " -> ")
    }

    func enterImport(_ path: String, at location: SourceLocation?, what: String) throws {
        if let index = importChain.firstIndex(where: { $0.path == path }) {
            let chain = importChain[index...].map(\.path)
            throw Diagnostics.error(
                "\(what) cycle: \(chainDescription(Array(chain), closingWith: path))",
                at: location ?? SourceLocation(file: path),
                hint: "full chain: " + (chain + [path]).joined(separator: " -> "))
        }
        importChain.append((path, location))
    }

    func leaveImport() { importChain.removeLast() }

    func resetPlayState() {
        appliedRoles = []
        roleHandlers = []
        dynamicHandlerNames = []
        validatedIncludes = []
        handlersUnknowable = false
    }

    // The parsers, one per concern; each reads and records through this session.
    var keywords: KeywordParser { KeywordParser(session: self) }
    var plays: PlayParser { PlayParser(session: self) }
    var handlerCheck: HandlerCheck { HandlerCheck(session: self) }
    var tasks: TaskParser { TaskParser(session: self) }
    var actions: ActionNormalizer { ActionNormalizer(session: self) }
    var includes: IncludeLoader { IncludeLoader(session: self) }
    var roles: RoleLoader { RoleLoader(session: self) }
}

/// One `key: value` of a mapping, with the key's node for error locations.
typealias MappingEntry = (key: String, keyNode: YAMLNode, value: YAMLNode)
