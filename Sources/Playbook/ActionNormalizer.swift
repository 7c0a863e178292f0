import Declarations
import Foundation
import OrderedCollections
import PGHACore

/// A task's action and arguments, however written (`copy: src=a`, a mapping, `action:`,
/// `local_action:`, `args:`), in one form, read against the action's declaration.
struct ActionNormalizer {
    let session: LoadSession

    /// The short name of the action a task writes as `action` (short or fully qualified); nil when
    /// no action has that name.
    func canonical(_ action: String) -> String? {
        session.catalog.declaration(named: action)?.name
    }

    /// The names an action accepts as arguments, free-form text included (for the loader's own
    /// checks of include and import options).
    func argumentNames(of action: String) -> Set<String> {
        guard let spec = session.catalog.declaration(named: action)?.arguments else { return [] }
        var names = Set(spec.arguments.map(\.name))
        if spec.freeForm != .none { names.insert("_raw_params") }
        return names
    }

    /// Actions that take free-form text at all (in `_raw_params`), for the error that lists them.
    var freeFormActions: [String] {
        session.catalog.declarations.filter { $0.freeForm != .none }.map(\.name).sorted()
    }

    /// The action and arguments of a task. With `acceptUnknown`, an action no declaration names is
    /// not an error yet: its arguments are read as written and the error is in `unresolved`.
    func normalizeAction(_ entry: MappingEntry, argsNode: YAMLNode?, acceptUnknown: Bool = false) throws -> NormalizedAction {
        var written = entry.key
        var valueNode: YAMLNode? = entry.value
        var inlineText: (String, SourceLocation)? = nil
        var dictArgs: [MappingEntry] = []

        if entry.key == "action" || entry.key == "local_action" {
            let value = entry.value
            switch value.content {
            case .scalar:
                guard case .string(let text) = value.scalarValue, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw Diagnostics.error("'\(entry.key)' needs a module name", at: value.location)
                }
                let tokens: [String]
                do { tokens = try KeyValueArgs.split(text) } catch {
                    throw Diagnostics.error(
                        "failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(text)",
                        at: value.location)
                }
                written = (tokens.first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                let rest = tokens.dropFirst().joined(separator: " ")
                let restOffset = text.range(of: written).map { text.distance(from: text.startIndex, to: $0.upperBound) + 1 } ?? 0
                inlineText = rest.isEmpty ? nil : (rest, value.location.offset(lines: 0, column: value.location.column + restOffset))
                valueNode = nil
            case .mapping:
                let parts = session.entries(of: value)
                guard let module = parts.first(where: { $0.key == "module" }) else {
                    throw Diagnostics.error("'\(entry.key)' mapping needs a 'module' key", at: value.location)
                }
                guard case .string(let text) = module.value.scalarValue else {
                    throw Diagnostics.error("'module' must be a module name", at: module.value.location)
                }
                let tokens = (try? KeyValueArgs.split(text)) ?? [text]
                written = (tokens.first ?? text).trimmingCharacters(in: .whitespacesAndNewlines)
                let rest = tokens.dropFirst().joined(separator: " ")
                if !rest.isEmpty { inlineText = (rest, module.value.location) }
                dictArgs = parts.filter { $0.key != "module" }
                valueNode = nil
            case .sequence:
                throw Diagnostics.error("'\(entry.key)' must be a string or a mapping, got a list", at: value.location)
            }
        }

        var unresolved: PGHAError? = nil
        let action: String
        if let known = canonical(written) {
            action = known
        } else {
            let error = Diagnostics.error(
                "unknown module '\(written)'" + Diagnostics.suggestion(for: written, in: session.catalog.shortNames),
                at: entry.value.location)
            guard acceptUnknown else { throw error }
            unresolved = error
            action = written
        }
        if action == "import_playbook" {
            throw Diagnostics.error(
                "import_playbook is only valid at the top level of a playbook, not as a task",
                at: entry.keyNode.location, hint: "write it as an entry of the playbook, beside the plays")
        }

        var args = OrderedDictionary<String, Value>()
        var locations: [String: SourceLocation] = [:]
        if let argsNode {
            switch argsNode.content {
            case .mapping:
                for arg in session.entries(of: argsNode) {
                    args[arg.key] = arg.value.value
                    locations[arg.key] = arg.keyNode.location
                }
            case .scalar where argsNode.scalarValue.isNull: break
            case .scalar where argsNode.scalarValue.stringValue.map(Diagnostics.isTemplated) ?? false:
                args["_variable_params"] = argsNode.value
                locations["_variable_params"] = argsNode.location
            default:
                throw Diagnostics.error(
                    "'args' must be a mapping, got \(Diagnostics.describe(argsNode))", at: argsNode.location)
            }
        }

        // An unknown module's arguments are kept as written, free-form text included.
        let freeForm = session.catalog.declaration(named: action)?.freeForm ?? (unresolved == nil ? .none : .text)
        func addKeyValue(_ text: String, at location: SourceLocation, plain: Bool) throws {
            let options: [KeyValueArgs.Option]
            do { options = try KeyValueArgs.parse(text, checkRaw: freeForm == .commandLine) } catch {
                throw Diagnostics.error(
                    "failed at splitting arguments, either an unbalanced jinja2 block or quotes: \(text)", at: location)
            }
            let singleLine = plain && !text.contains("\n")
            for option in options {
                args[option.key] = .string(option.value)
                if singleLine, let offset = option.offset {
                    locations[option.key] = location.offset(lines: 0, column: location.column + offset)
                } else {
                    locations[option.key] = location
                }
            }
        }

        if let valueNode {
            switch valueNode.content {
            case .scalar:
                switch valueNode.scalarValue {
                case .null: break
                case .string(let text):
                    let plain: Bool
                    if case .scalar(_, let isPlain) = valueNode.content { plain = isPlain } else { plain = false }
                    try addKeyValue(text, at: valueNode.location, plain: plain)
                case let other where unresolved != nil:
                    args["_raw_params"] = other
                default:
                    throw Diagnostics.error(
                        "unexpected parameter type for '\(written)': \(Diagnostics.describe(valueNode)); arguments must be a mapping or 'key=value' text",
                        at: valueNode.location, hint: "quote the value to pass it as text")
                }
            case .mapping:
                for arg in session.entries(of: valueNode) {
                    args[arg.key] = arg.value.value
                    locations[arg.key] = arg.keyNode.location
                }
            case .sequence:
                throw Diagnostics.error(
                    "unexpected parameter type for '\(written)': a list; arguments must be a mapping or 'key=value' text",
                    at: valueNode.location)
            }
        }
        for arg in dictArgs {
            args[arg.key] = arg.value.value
            locations[arg.key] = arg.keyNode.location
        }
        if let (text, location) = inlineText { try addKeyValue(text, at: location, plain: true) }
        if freeForm != .commandLine, let reserved = args.keys.first(where: { $0.hasPrefix("_ansible_") }) {
            throw Diagnostics.error(
                "invalid parameter '\(reserved)' for '\(written)': the prefix '_ansible_' is reserved for internal use",
                at: locations[reserved] ?? entry.value.location)
        }

        if let raw = args["_raw_params"], raw != .string(""), freeForm == .none {
            let text = raw.stringValue ?? ""
            if Diagnostics.isTemplated(text) {
                args.removeValue(forKey: "_raw_params")
                args["_variable_params"] = raw
                locations["_variable_params"] = locations["_raw_params"]
            } else {
                throw Diagnostics.error(
                    "'\(written)' does not support free-form text ('\(text)'): give key=value arguments or a mapping",
                    at: locations["_raw_params"] ?? entry.value.location,
                    hint: "only these actions take free-form text: " + freeFormActions.joined(separator: ", "))
            }
        }
        return NormalizedAction(written: written, action: action, args: args, locations: locations, unresolved: unresolved)
    }
}

/// An action as the loader sees it once normalized: the name as written and its short name, the
/// arguments, and where each was written.
struct NormalizedAction {
    var written: String
    var action: String
    var args: OrderedDictionary<String, Value>
    var locations: [String: SourceLocation]
    /// Set when no action has this name (only with `acceptUnknown`).
    var unresolved: PGHAError? = nil
}
