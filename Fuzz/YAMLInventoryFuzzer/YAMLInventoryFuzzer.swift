import FuzzSupport
import PGHACore

@testable import Inventory

/// The YAML inventory parser, then what a run asks of the result.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAMLInventory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var inventory = Inventory()
    do {
        guard let root = try YAMLLoader.load(fuzzText(data, size), file: "/nonexistent/fuzz.yml") else { return 0 }
        try inventory.parseYAMLInventory(root, path: "/nonexistent/fuzz.yml")
        inventory.reconcile()
        for host in inventory.hosts(inGroup: "all") { _ = try inventory.hostVars(for: host) }
    } catch is PGHAError {} catch {
        fatalError("YAML inventory threw a non-PGHAError: \(error)")
    }
    return 0
}
