import OrderedCollections
import PGHACore
import Template

/// The variables one task sees on one host: layers from lowest to highest precedence, looked up
/// from the top, so building a stack for a task costs a few array appends, not a merge.
///
/// Layer order is Ansible's: role defaults < inventory group vars < inventory host vars < facts <
/// play vars < vars_files < role vars < block/task vars < include_vars < set_fact/register <
/// role params < include params < extra vars, with magic variables (inventory_hostname, groups,
/// hostvars, ...) and loop variables above all.
public struct VariableStack: TemplateVariables, Sendable {
    public private(set) var layers: [OrderedDictionary<String, Value>] = []
    /// Computed on demand (hostvars is large and rarely used).
    private var lazyValues: [String: @Sendable () -> Value] = [:]

    public init() {}

    public mutating func push(_ layer: OrderedDictionary<String, Value>) {
        if !layer.isEmpty { layers.append(layer) }
    }

    public mutating func set(_ name: String, _ value: Value) {
        layers.append([name: value])
    }

    public mutating func setLazy(_ name: String, _ compute: @escaping @Sendable () -> Value) {
        lazyValues[name] = compute
    }

    public func lookup(_ name: String) -> Value? {
        for layer in layers.reversed() {
            if let value = layer[name] { return value }
        }
        if let compute = lazyValues[name] { return compute() }
        return nil
    }

    /// Every name, lowest layer first, each once.
    public func variableNames() -> [String] {
        var seen = Set<String>()
        return (layers.flatMap(\.keys) + lazyValues.keys.sorted()).filter { seen.insert($0).inserted }
    }

    /// Every variable, merged (for `vars` / `hostvars[host]` views and debugging).
    public func flattened() -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for layer in layers {
            for (key, value) in layer { result[key] = value }
        }
        return result
    }
}
