import Foundation
import OrderedCollections
import PGHACore

/// What a lookup plugin may use: the engine (to render files), the variables and where the call is.
public struct LookupContext: Sendable {
    /// The engine running the template (for plugins that render files).
    public var engine: TemplateEngine
    /// The variables of the calling template.
    public var variables: any TemplateVariables
    /// Where the calling template is, for error messages.
    public var location: SourceLocation

    public init(engine: TemplateEngine, variables: any TemplateVariables, location: SourceLocation) {
        self.engine = engine
        self.variables = variables
        self.location = location
    }
}

/// `lookup('name', ...)`, `query('name', ...)` and `q(...)`. Return the plugin's list of results;
/// the engine turns it into `lookup`'s comma-joined/single value or `query`'s list.
public protocol TemplateLookups: Sendable {
    /// Runs `plugin` (possibly collection-qualified, e.g. `ansible.builtin.file`) on `terms` with keyword
    /// `options`; throws PGHAError for unknown plugins or failures.
    func run(_ plugin: String, terms: [Value], options: OrderedDictionary<String, Value>, context: LookupContext) throws -> [Value]
}

/// The lookup plugins that need only the controller: `env`, `file`, `template`, `items`/`list`,
/// `flattened`, `vars`, `first_found`, `varnames`, `pipe`, `password`, `fileglob`, `dict` and
/// `indexed_items`. Relative paths are found as Ansible finds them: along `ansible_search_path`
/// (the role, the task file's directory, the playbook's), each with the plugin's subdirectory.
public struct DefaultLookups: TemplateLookups {
    /// Searched in order (each also through `files/` and `templates/`) when the variables carry no
    /// `ansible_search_path` (templates rendered outside a play).
    public var searchPaths: [String]
    /// Reads a file for `file` and `template`; the engine sets it to decrypt vaulted files, as
    /// Ansible's file lookup does. Nil reads the file as it is.
    public var readFile: (@Sendable (String) throws -> String)?

    /// Lookups resolving relative paths against `searchPaths`, then the current directory.
    public init(searchPaths: [String] = []) { self.searchPaths = searchPaths }

    /// The existing file `path` names, or nil (outside a play: `searchPaths`, then the current directory).
    public func resolve(_ path: String) -> String? {
        if path.hasPrefix("/") || ContentSource.isBuiltin(path) { return ContentSource.exists(path) ? path : nil }
        for base in searchPaths {
            for candidate in [base + "/files/" + path, base + "/templates/" + path, base + "/" + path]
            where ContentSource.exists(candidate) {
                return candidate
            }
        }
        let cwd = FileManager.default.currentDirectoryPath + "/" + path
        return FileManager.default.fileExists(atPath: cwd) ? cwd : nil
    }

    /// Ansible's `find_file_in_search_path` (DataLoader.path_dwim_relative_stack): `needle` in each
    /// directory of `ansible_search_path`, first under `subdir`, then the playbook's directory.
    public func find(_ needle: String, subdir: String?, variables: any TemplateVariables) -> String? {
        if ContentSource.isBuiltin(needle) {
            // `role_path ~ '/files/x'` inside a built-in role.
            let path = ContentSource.standardize(needle)
            return ContentSource.exists(path) ? path : nil
        }
        if needle.hasPrefix("/") || needle.hasPrefix("~") {
            let path = Self.normalized((needle as NSString).expandingTildeInPath)
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        guard let stack = variables.lookup("ansible_search_path")?.listValue?.compactMap(\.stringValue) else {
            return resolve(needle)
        }
        let basedir = variables.lookup("playbook_dir")?.stringValue ?? FileManager.default.currentDirectoryPath
        let inRole = variables.lookup("role_path") != nil
        var search: [String] = []
        for path in stack {
            let directory = Self.normalized(path)
            let parent = ContentSource.directory(of: directory)
            // A task file below a role's tasks/: the role's own subdirectory comes first.
            if inRole && parent.hasSuffix("/tasks") {
                if let subdir { search.append((parent as NSString).deletingLastPathComponent + "/" + subdir + "/" + needle) }
                search.append(parent + "/" + needle)
            }
            if let subdir { search.append(directory + "/" + subdir + "/" + needle) }
            search.append(directory + "/" + needle)
        }
        if let subdir { search.append(basedir + "/" + subdir + "/" + needle) }
        search.append(basedir + "/" + needle)
        return search.first { ContentSource.exists($0) }.map(Self.normalized)
    }

    /// `os.path.normpath` of an absolute path (a built-in one stays in the built-in tree).
    static func normalized(_ path: String) -> String {
        if ContentSource.isBuiltin(path) { return ContentSource.standardize(path) }
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    public func run(_ plugin: String, terms: [Value], options: OrderedDictionary<String, Value>, context: LookupContext) throws -> [Value] {
        switch TemplateEngine.shortName(plugin) {
        case "env":
            let env = ProcessInfo.processInfo.environment
            let fallback = options["default"] ?? .string("")
            return terms.map { env[Py.str($0)].map { .string($0) } ?? fallback }
        case "file", "template":
            let isTemplate = plugin.hasSuffix("template")
            var out: [Value] = []
            for term in terms {
                let name = Py.str(term)
                guard let path = find(name, subdir: isTemplate ? "templates" : "files", variables: context.variables) else {
                    throw PGHAError(
                        .template, "lookup('\(plugin)'): could not find file '\(name)'", at: context.location,
                        hint: "searched: " + Self.searchDescription(context.variables, fallback: searchPaths))
                }
                var text: String
                if let readFile {
                    text = try readFile(path)
                } else if let bytes = ContentSource.contents(path), let plain = String(validating: bytes, as: UTF8.self) {
                    text = plain
                } else {
                    throw PGHAError(.io, "lookup('\(plugin)'): cannot read '\(path)'", at: context.location)
                }
                if isTemplate {
                    text = try context.engine.renderFile(
                        text, variables: context.variables, location: SourceLocation(file: path))
                } else if options["rstrip"].map({ Py.ansibleBool($0) }) ?? true {
                    while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
                }
                out.append(.string(text))
            }
            return out
        case "items", "list":
            return terms.flatMap { $0.listValue ?? [$0] }
        case "flattened":
            return try flattened(terms, context: context)
        case "vars":
            return try terms.map { term in
                let name = Py.str(term)
                guard let raw = context.variables.lookup(name) else {
                    if let fallback = options["default"] { return fallback }
                    throw PGHAError(.undefinedVariable, "No variable found with this name: \(name)", at: context.location)
                }
                return try context.engine.renderValue(raw, variables: context.variables, location: context.location)
            }
        case "first_found":
            return try firstFound(terms, options: options, context: context)
        case "varnames":
            let names = context.variables.variableNames()
            var out: [Value] = []
            for term in terms {
                guard case .string(let pattern) = term else {
                    throw PGHAError(
                        .template, "Invalid setting identifier, \"\(Py.str(term))\" is not a string, it is a \(term.typeName)",
                        at: context.location)
                }
                let regex: NSRegularExpression
                do {
                    regex = try PyRegex.compile(pattern, ignoreCase: false, multiline: false, line: context.location.line)
                } catch {
                    throw PGHAError(.template, "Unable to use \"\(pattern)\" as a search parameter", at: context.location)
                }
                for name in names where regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil {
                    out.append(.string(name))
                }
            }
            return out
        case "pipe":
            return try terms.map { try pipe(Py.str($0), context: context) }
        case "password":
            return try terms.map { try PasswordLookup.run(Py.str($0), options: options, context: context) }
        case "fileglob":
            return fileglob(terms.map { Py.str($0) }, variables: context.variables)
        case "dict":
            var out: [Value] = []
            for term in terms {
                guard case .dict(let dict) = term else {
                    throw PGHAError(.template, "with_dict expects a dict", at: context.location)
                }
                out += dict.map { ["key": .string($0.key), "value": $0.value] }
            }
            return out
        case "indexed_items":
            let items = terms.flatMap { $0.listValue ?? [$0] }
            return items.enumerated().map { .list([.int($0.offset), $0.element]) }
        default:
            throw PGHAError(
                .template, "lookup plugin '\(plugin)' not found", at: context.location,
                hint: "supported lookups: " + Self.supported.joined(separator: ", "))
        }
    }

    /// The plugins `run` knows (besides those the engine adds, such as `inventory_hostnames`).
    public static let supported = [
        "dict", "env", "file", "fileglob", "first_found", "flattened", "indexed_items", "items", "list", "password",
        "pipe", "template", "varnames", "vars",
    ]

    static func searchDescription(_ variables: any TemplateVariables, fallback: [String]) -> String {
        let stack = variables.lookup("ansible_search_path")?.listValue?.compactMap(\.stringValue) ?? fallback
        return stack.isEmpty ? FileManager.default.currentDirectoryPath : stack.joined(separator: ", ")
    }

    /// community.general's `flattened`: lists flattened all the way down (strings stripped of
    /// surrounding whitespace), and everything from a 'None' or 'null' item on dropped.
    func flattened(_ terms: [Value], context: LookupContext) throws -> [Value] {
        var out: [Value] = []
        for var term in terms {
            // A list of one (list of one ...) item is that item.
            while case .list(let items) = term, items.count == 1 { term = items[0] }
            if term == .string("None") || term == .string("null") { break }
            switch term {
            case .list(let items): out += try flattened(items, context: context)
            case .string(let text): out.append(.string(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            default: out.append(term)
            }
        }
        return out
    }

    /// `first_found`: the first of the files (each term a name, a list of names, or a dict with
    /// `files`, `paths` and `skip`) that exists along the search path. `with_first_found` passes the
    /// subdirectory its task's action implies as the `_subdir` option.
    func firstFound(_ terms: [Value], options: OrderedDictionary<String, Value>, context: LookupContext) throws -> [Value] {
        var current = options
        func split(_ value: Value?, on separators: Set<Character>) -> [String] {
            switch value {
            case .string(let text)?: return text.split(omittingEmptySubsequences: false) { separators.contains($0) }.map(String.init)
            case .list(let items)?: return items.flatMap { split($0, on: separators) }
            case nil, .null?: return []
            case let other?: return [Py.str(other)]
            }
        }
        func candidates(_ terms: [Value]) throws -> [String] {
            var total: [String] = []
            for term in terms {
                let files: [String]
                switch term {
                case .dict(let dict):
                    // A dict's options replace the earlier ones, as set_options(direct=term) does.
                    current = OrderedDictionary(uniqueKeysWithValues: dict.map { ($0.key, $0.value) })
                    files = split(current["files"], on: [",", ";"])
                case .string(let name): files = [name]
                case .list(let items):
                    total += try candidates(items)
                    continue
                default:
                    throw PGHAError(
                        .template, "Invalid term supplied. A string, dict or list is required, not '\(term.typeName)').",
                        at: context.location)
                }
                let paths = split(current["paths"], on: [",", ":", ";"])
                if paths.isEmpty {
                    total += files
                } else {
                    for path in paths { total += files.map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 } }
                }
            }
            return total
        }
        let search = try candidates(terms.isEmpty ? (options["files"].map { [$0] } ?? []) : terms)
        let subdir = options["_subdir"]?.stringValue
        for name in search {
            if let path = find(name, subdir: subdir, variables: context.variables) { return [.string(path)] }
        }
        if current["skip"].map({ Py.ansibleBool($0) }) ?? false { return [] }
        throw PGHAError(
            .template, "No file was found when using first_found.", at: context.location,
            hint: "looked for: " + search.joined(separator: ", "))
    }

    /// `pipe`: the command's output (trailing whitespace removed), run by /bin/sh on the controller
    /// in the playbook's directory.
    func pipe(_ command: String, context: LookupContext) throws -> Value {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        if let directory = context.variables.lookup("playbook_dir")?.stringValue {
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw PGHAError(.template, "lookup_plugin.pipe(\(command)) could not start /bin/sh: \(error)", at: context.location)
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PGHAError(.template, "lookup_plugin.pipe(\(command)) returned \(process.terminationStatus)", at: context.location)
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
        return .string(text)
    }

    /// `fileglob`: for a pattern with a directory, the files matching in that directory found along
    /// the search path (under `files/`); for a bare pattern, the first directory of the search path
    /// (each tried with `files/` first) where anything matches.
    func fileglob(_ patterns: [String], variables: any TemplateVariables) -> [Value] {
        var out: [Value] = []
        for pattern in patterns {
            let name = (pattern as NSString).lastPathComponent
            var directories: [String] = []
            if name != pattern {
                if let directory = find((pattern as NSString).deletingLastPathComponent, subdir: "files", variables: variables) {
                    directories.append(directory)
                }
            } else {
                let stack = variables.lookup("ansible_search_path")?.listValue?.compactMap(\.stringValue)
                    ?? [variables.lookup("playbook_dir")?.stringValue ?? FileManager.default.currentDirectoryPath]
                for path in stack { directories += [path + "/files", path] }
            }
            for directory in directories {
                let matches = FileGlob.matches(directory + "/" + name).filter { path in
                    var isDirectory: ObjCBool = false
                    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                }
                if !matches.isEmpty {
                    out += matches.map(Value.string)
                    break
                }
            }
        }
        return out
    }
}

/// Python's `glob.glob` for a pattern whose wildcards are in its last component.
public enum FileGlob {
    /// Matches in the directory's own (readdir) order, as Python's glob returns them, and names
    /// starting with a dot only for a pattern that does.
    public static func matches(_ pattern: String) -> [String] {
        let directory = (pattern as NSString).deletingLastPathComponent
        let namePattern = (pattern as NSString).lastPathComponent
        guard let stream = opendir(directory.isEmpty ? "." : directory) else { return [] }
        defer { closedir(stream) }
        var matches: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if name.hasPrefix(".") && !namePattern.hasPrefix(".") { continue }
            if fnmatch(namePattern, name, 0) == 0 { matches.append(directory + "/" + name) }
        }
        return matches
    }
}

/// Jinja2 and Ansible global functions.
enum Globals {
    nonisolated(unsafe) static let table: [String: RV] = {
        var t: [String: RV] = [:]
        t["range"] = .obj(BuiltinFunction("range") { r, args, _, line in
            let c = Call(renderer: r, args: args, kwargs: [], line: line, name: "range")
            var start = 0, stop = 0, step = 1
            switch args.count {
            case 1: stop = try c.int(0) ?? 0
            case 2: start = try c.int(0) ?? 0; stop = try c.int(1) ?? 0
            case 3: start = try c.int(0) ?? 0; stop = try c.int(1) ?? 0; step = try c.int(2) ?? 1
            default: throw c.error("range expected 1 to 3 arguments, got \(args.count)")
            }
            guard step != 0 else { throw c.error("range() arg 3 must not be zero") }
            var out: [Value] = []
            var i = start
            while step > 0 ? i < stop : i > stop {
                out.append(.int(i))
                i += step
                if out.count > 1_000_000 { throw c.error("range too big") }
            }
            return .v(.list(out))
        })
        t["now"] = .obj(BuiltinFunction("now", DateTimeObject.now))
        t["dict"] = .obj(BuiltinFunction("dict") { r, args, kwargs, line in
            var d = OrderedDictionary<String, Value>()
            if let first = args.first {
                let v = try r.value(first, line: line)
                if case .dict(let existing) = v { d = existing }
                else if case .list(let pairs) = v {
                    for p in pairs {
                        guard case .list(let kv) = p, kv.count == 2 else {
                            throw TemplateRuntimeError.template("dictionary update sequence element has wrong length", line: line)
                        }
                        d[kv[0].stringValue ?? Py.str(kv[0])] = kv[1]
                    }
                }
            }
            for (k, v) in kwargs { d[k] = try r.value(v, line: line) }
            return .v(.dict(d))
        })
        t["namespace"] = .obj(BuiltinFunction("namespace") { r, args, kwargs, line in
            let ns = NamespaceObject()
            if let first = args.first, case .dict(let d) = try r.value(first, line: line) {
                for (k, v) in d { ns.attrs[k] = .v(v) }
            }
            for (k, v) in kwargs { ns.attrs[k] = v }
            return .obj(ns)
        })
        let lookup: (Bool) -> RV = { isQuery in
            .obj(BuiltinFunction(isQuery ? "query" : "lookup") { r, args, kwargs, line in
                guard let first = args.first else {
                    throw TemplateRuntimeError.template("lookup requires a plugin name", line: line)
                }
                let plugin = Py.str(try r.value(first, line: line))
                var terms: [Value] = []
                for a in args.dropFirst() { terms.append(try r.value(a, line: line)) }
                var options = OrderedDictionary<String, Value>()
                var wantList = isQuery
                var errors = "strict"
                for (k, v) in kwargs {
                    if k == "wantlist" { wantList = try r.value(v, line: line).isTruthy; continue }
                    if k == "errors" { errors = Py.str(try r.value(v, line: line)); continue }
                    options[k] = try r.value(v, line: line)
                }
                guard ["strict", "warn", "ignore"].contains(errors) else {
                    throw TemplateRuntimeError.template("lookup errors must be strict, warn or ignore, not '\(errors)'", line: line)
                }
                let context = LookupContext(engine: r.engine, variables: r.variables, location: r.location)
                let results: [Value]
                do {
                    results = try r.engine.lookups.run(plugin, terms: terms, options: options, context: context)
                } catch where errors != "strict" {
                    // As Ansible: a failed lookup gives None (lookup) or [] (query) instead of an error.
                    return wantList ? .v(.list([])) : .none
                }
                // As Ansible: an empty result stays an empty list, one result is that result.
                if wantList || results.isEmpty { return .v(.list(results)) }
                if results.count == 1 { return .v(results[0]) }
                if results.allSatisfy({ $0.stringValue != nil }) {
                    return .v(.string(results.map { Py.str($0) }.joined(separator: ",")))
                }
                return .v(.list(results))
            })
        }
        t["lookup"] = lookup(false)
        t["query"] = lookup(true)
        t["q"] = lookup(true)
        return t
    }()
}

/// Ansible's `password` lookup: `lookup('password', 'path/to/file length=20 chars=ascii_letters,digits')`.
///
/// The file keeps the password: a missing file (or /dev/null) gets a new random one, written with
/// mode 0600 in a directory made with 0700; an existing file's first content (before ` salt=`) is
/// the password. With `seed`, the password is the one `random.Random(seed)` picks, as Ansible's.
enum PasswordLookup {
    static let defaultCharacters = ["ascii_letters", "digits", ".,:-_"]
    /// Python's `string` module constants the `chars` option may name.
    static let characterSets: [String: String] = {
        let lower = "abcdefghijklmnopqrstuvwxyz"
        let upper = lower.uppercased()
        let digits = "0123456789"
        let punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
        return [
            "ascii_letters": lower + upper, "ascii_lowercase": lower, "ascii_uppercase": upper, "digits": digits,
            "hexdigits": digits + "abcdefABCDEF", "octdigits": "01234567", "punctuation": punctuation,
            "whitespace": " \t\n\r\u{0B}\u{0C}", "printable": digits + lower + upper + punctuation + " \t\n\r\u{0B}\u{0C}",
        ]
    }()

    static func run(_ term: String, options: OrderedDictionary<String, Value>, context: LookupContext) throws -> Value {
        var parameters = options
        var relativePath = term
        if let space = term.firstIndex(of: " ") {
            relativePath = String(term[..<space])
            for word in term[term.index(after: space)...].split(separator: " ") {
                guard let eq = word.firstIndex(of: "=") else {
                    throw PGHAError(
                        .template, "Unrecognized value after key=value parameters given to password lookup", at: context.location)
                }
                parameters[String(word[..<eq])] = .string(String(word[word.index(after: eq)...]))
            }
        }
        let unknown = parameters.keys.filter { !["length", "encrypt", "chars", "ident", "seed"].contains($0) }
        guard unknown.isEmpty else {
            throw PGHAError(
                .template, "Unrecognized parameter(s) given to password lookup: " + unknown.joined(separator: ", "),
                at: context.location)
        }
        if let encrypt = parameters["encrypt"], encrypt != .null {
            throw PGHAError(
                .template, "lookup('password'): encrypt=\(Py.str(encrypt)) is not supported by pgha-play", at: context.location,
                hint: "look the plain password up and hash it where it is used (the user module takes a crypt hash)")
        }
        let lengthValue = parameters["length"] ?? .int(20)
        guard let length = Py.asInt(lengthValue) ?? Int(Py.str(lengthValue)), length >= 0 else {
            throw PGHAError(.template, "lookup('password'): length must be an integer", at: context.location)
        }
        let characters = candidateCharacters(parameters["chars"])
        guard !characters.isEmpty else {
            throw PGHAError(.template, "lookup('password'): chars gives no characters to choose from", at: context.location)
        }
        let basedir = context.variables.lookup("playbook_dir")?.stringValue ?? FileManager.default.currentDirectoryPath
        let expanded = (relativePath as NSString).expandingTildeInPath
        let path = DefaultLookups.normalized(expanded.hasPrefix("/") ? expanded : basedir + "/" + expanded)
        if path != "/dev/null", let data = FileManager.default.contents(atPath: path) {
            var content = String(decoding: data, as: UTF8.self)
            while let last = content.unicodeScalars.last, last.properties.isWhitespace { content.unicodeScalars.removeLast() }
            // The stored form is "password[ salt=SALT[ ident=IDENT]]".
            if let salt = content.range(of: " salt=", options: .backwards) { content = String(content[..<salt.lowerBound]) }
            return .string(content)
        }
        var password = ""
        if let seed = parameters["seed"], seed != .null {
            var generator = PythonRandom(seed: seed)
            for _ in 0..<length { password.append(characters[generator.below(characters.count)]) }
        } else {
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<length { password.append(characters[Int.random(in: 0..<characters.count, using: &generator)]) }
        }
        if path != "/dev/null" {
            do {
                let directory = (path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                guard FileManager.default.createFile(
                    atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw PGHAError(.io, "could not create the file", at: SourceLocation(file: path)) }
            } catch {
                throw PGHAError(.io, "lookup('password'): cannot write '\(path)': \(error)", at: context.location)
            }
        }
        return .string(password)
    }

    /// `_gen_candidate_chars`: each spec a `string` constant's name or literal characters; quotes
    /// dropped. A text spec is split on commas, `,,` standing for a comma.
    static func candidateCharacters(_ value: Value?) -> [Character] {
        var specs: [String]
        switch value {
        case .list(let items)?: specs = items.map { Py.str($0) }
        case .string(let text)?:
            specs = (text.contains(",,") ? [","] : []) + text.replacingOccurrences(of: ",,", with: ",").split(separator: ",").map(String.init)
        default: specs = defaultCharacters
        }
        let joined = specs.map { characterSets[$0] ?? $0 }.joined()
        return Array(joined.filter { $0 != "\"" && $0 != "'" })
    }
}
