import Foundation
import OrderedCollections
import PGHACore
import Playbook
import Template

/// Turns `loop:` and the `with_*` lookups into the list of items a task runs for.
enum LoopExpander {
    static func items(for loop: Loop, variables: VariableStack, templating: Templating, task: Task) throws -> [Value] {
        if loop.kind == .lookup, loop.lookupName?.hasSuffix("first_found") == true {
            return try lookup(
                loop.lookupName ?? "first_found",
                try renderDroppingUndefined(loop.items, variables: variables, templating: templating, at: loop.location) ?? .list([]),
                variables: variables, templating: templating, task: task, at: loop.location)
        }
        let rendered = try templating.render(loop.items, variables, at: loop.location)
        switch loop.kind {
        case .loop:
            guard case .list(let items) = rendered else {
                throw PGHAError(
                    .semantic,
                    "Invalid data passed to 'loop', it requires a list, got this instead: \(Templating.display(rendered)). Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.",
                    at: loop.location)
            }
            return items
        case .items:
            let items = rendered.listValue ?? [rendered]
            return items.flatMap { item -> [Value] in
                if case .list(let inner) = item { return inner }
                return [item]
            }
        case .list:
            return rendered.listValue ?? [rendered]
        case .dict:
            guard case .dict(let dict) = rendered else {
                throw PGHAError(.semantic, "with_dict expects a dict", at: loop.location)
            }
            return dict.map { ["key": .string($0.key), "value": $0.value] }
        case .indexedItems:
            let items = rendered.listValue ?? [rendered]
            return items.enumerated().map { .list([.int($0.offset), $0.element]) }
        case .together:
            let lists = (rendered.listValue ?? []).map { $0.listValue ?? [$0] }
            let count = lists.map(\.count).max() ?? 0
            return (0..<count).map { index in .list(lists.map { index < $0.count ? $0[index] : .null }) }
        case .nested:
            let lists = (rendered.listValue ?? []).map { $0.listValue ?? [$0] }
            var product: [[Value]] = [[]]
            for list in lists {
                product = product.flatMap { prefix in list.map { prefix + [$0] } }
            }
            return lists.isEmpty ? [] : product.map(Value.list)
        case .sequence:
            return try sequence(Templating.display(rendered), location: loop.location)
        case .subelements:
            guard case .list(let parts) = rendered, parts.count >= 2, case .list(let elements) = parts[0] else {
                throw PGHAError(.semantic, "with_subelements expects [list, 'key']", at: loop.location)
            }
            let key = Templating.display(parts[1])
            var result: [Value] = []
            for element in elements {
                guard let sub = element[key]?.listValue else {
                    throw PGHAError(.semantic, "with_subelements: '\(key)' is not a list in an element", at: loop.location)
                }
                // Ansible hands out the element without the list being iterated.
                var parent = element
                if case .dict(var dict) = element {
                    dict.removeValue(forKey: key)
                    parent = .dict(dict)
                }
                result += sub.map { .list([parent, $0]) }
            }
            return result
        case .fileglob:
            return try lookup("fileglob", rendered, variables: variables, templating: templating, task: task, at: loop.location)
        case .lookup:
            return try lookup(loop.lookupName ?? "", rendered, variables: variables, templating: templating, task: task, at: loop.location)
        case .lines:
            throw PGHAError(.semantic, "with_lines is not supported; use a command task and stdout_lines", at: loop.location)
        }
    }

    /// `with_sequence: start=1 end=5 stride=1 format=node%02d` or `count=3`.
    static func sequence(_ spec: String, location: SourceLocation) throws -> [Value] {
        var start = 1
        var end: Int?
        var stride = 1
        var format = "%d"
        for part in spec.split(separator: " ") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 {
                switch pair[0] {
                case "start": start = Int(pair[1]) ?? start
                case "end": end = Int(pair[1])
                case "count": end = start + (Int(pair[1]) ?? 0) - 1
                case "stride": stride = Int(pair[1]) ?? 1
                case "format": format = pair[1]
                default: throw PGHAError(.semantic, "with_sequence: unknown option '\(pair[0])'", at: location)
                }
            } else if let range = parseShortForm(String(part)) {
                (start, end, format) = (range.0, range.1, range.2 ?? format)
            }
        }
        guard let end, stride != 0 else { throw PGHAError(.semantic, "with_sequence needs end or count", at: location) }
        var values: [Value] = []
        var current = start
        while stride > 0 ? current <= end : current >= end {
            values.append(.string(String(format: format, current)))
            current += stride
        }
        return values
    }

    private static func parseShortForm(_ text: String) -> (Int, Int, String?)? {
        let parts = text.split(separator: "/", maxSplits: 1)
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]) else { return nil }
        return (a, b, parts.count > 1 ? String(parts[1]) : nil)
    }

    /// `with_<plugin>: terms`: the plugin run on the terms (a text is one term), as Ansible's task
    /// executor runs it, with the subdirectory `first_found` searches chosen by the task's action.
    static func lookup(
        _ plugin: String, _ terms: Value, variables: VariableStack, templating: Templating, task: Task,
        at location: SourceLocation
    ) throws -> [Value] {
        var options: OrderedDictionary<String, Value> = [:]
        if plugin.hasSuffix("first_found") {
            let action = task.action
            options["_subdir"] = .string(action.contains("template") ? "templates" : action.contains("var") ? "vars" : "files")
        }
        let context = LookupContext(engine: templating.engine, variables: variables, location: location)
        let list: [Value]
        switch terms {
        case .list(let items): list = items
        case .string(let text): list = [.string(text.trimmingCharacters(in: .whitespacesAndNewlines))]
        default: list = [terms]
        }
        do {
            return try templating.engine.lookups.run(plugin, terms: list, options: options, context: context)
        } catch let error as PGHAError where error.location == nil {
            throw PGHAError(error.kind, error.message, at: location, hint: error.hint)
        }
    }

    /// The loop's terms rendered, leaving out list items and dict values that are undefined
    /// (nil when the whole value is).
    static func renderDroppingUndefined(
        _ value: Value, variables: VariableStack, templating: Templating, at location: SourceLocation
    ) throws -> Value? {
        switch value {
        case .list(let items):
            return .list(try items.compactMap { try renderDroppingUndefined($0, variables: variables, templating: templating, at: location) })
        case .dict(let dict):
            var out = OrderedDictionary<String, Value>()
            for (key, item) in dict {
                if let rendered = try renderDroppingUndefined(item, variables: variables, templating: templating, at: location) {
                    out[key] = rendered
                }
            }
            return .dict(out)
        default:
            do {
                return try templating.render(value, variables, at: location)
            } catch let error as PGHAError where error.kind == .undefinedVariable {
                return nil
            }
        }
    }

    /// `ansible_loop` with `loop_control: extended: true`.
    static func loopInfo(index: Int, items: [Value]) -> Value {
        let count = items.count
        var info: OrderedDictionary<String, Value> = [
            "allitems": .list(items), "index": .int(index + 1), "index0": .int(index),
            "revindex": .int(count - index), "revindex0": .int(count - index - 1),
            "first": .bool(index == 0), "last": .bool(index == count - 1), "length": .int(count),
        ]
        if index > 0 { info["previtem"] = items[index - 1] }
        if index < count - 1 { info["nextitem"] = items[index + 1] }
        return .dict(info)
    }
}
