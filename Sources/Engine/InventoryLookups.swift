import Inventory
import OrderedCollections
import PGHACore
import Template

/// Lookups that need the inventory (`inventory_hostnames`); every other plugin goes to `base`.
struct InventoryLookups: TemplateLookups {
    let inventory: Inventory
    let base: any TemplateLookups

    func run(
        _ plugin: String, terms: [Value], options: OrderedDictionary<String, Value>, context: LookupContext
    ) throws -> [Value] {
        guard TemplateEngine.shortName(plugin) == "inventory_hostnames" else {
            return try base.run(plugin, terms: terms, options: options, context: context)
        }
        // As Ansible: each term is a host pattern; the hosts in inventory order, each once.
        var hosts: [String] = []
        for term in terms {
            let pattern = term.stringValue ?? JSON.encode(term)
            for host in try inventory.hosts(matching: pattern) where !hosts.contains(host) { hosts.append(host) }
        }
        return hosts.map(Value.string)
    }
}
