import FuzzSupport
import PGHACore

@testable import Inventory

/// An inventory with groups, children, ranges and odd names, made once.
let inventory: Inventory = {
    var inventory = Inventory()
    try? inventory.parseINI(
        """
        localhost ansible_connection=local
        [web]
        web[01:12].example.com
        [db]
        db-a db-b 10.0.0.[1:3]
        [prod:children]
        web
        db
        [odd]
        ünïcode
        [2001:db8::1]:2222
        """, path: "/nonexistent/patterns.ini")
    inventory.reconcile()
    return inventory
}()

/// Host patterns (`hosts:` and `--limit`) and host range expansion: a selection or a `PGHAError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHostPattern(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let halves = text.split(separator: "\n", maxSplits: 1).map(String.init)
    do {
        try Inventory.validatePattern(text)
        _ = try inventory.select(halves.first ?? "", limit: halves.count > 1 ? halves[1] : nil)
    } catch is PGHAError {} catch {
        fatalError("host pattern threw a non-PGHAError: \(error)")
    }
    _ = Inventory.splitPattern(text)
    _ = try? HostAddress.expandHostPattern(text)
    return 0
}
