import FuzzSupport
import PGHACore

@testable import Inventory

/// The INI inventory parser, then what a run asks of the result (groups, each host's variables).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzINIInventory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var inventory = Inventory()
    do {
        try inventory.parseINI(fuzzText(data, size), path: "/nonexistent/fuzz.ini")
        inventory.reconcile()
        for host in inventory.hosts(inGroup: "all") { _ = try inventory.hostVars(for: host) }
    } catch is PGHAError {} catch {
        fatalError("INI inventory threw a non-PGHAError: \(error)")
    }
    return 0
}
