import Foundation
import OrderedCollections
import PGHACore
@testable import Inventory

/// A scratch directory with files written into it; removed when the value is released.
final class TempTree: @unchecked Sendable {
    let root: String

    init(_ files: [String: String] = [:]) throws {
        root = NSTemporaryDirectory() + "inventory-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (path, text) in files { try write(path, text) }
    }

    func write(_ relative: String, _ text: String) throws {
        let path = self.path(relative)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}

/// Dicts with keys sorted, recursively, so comparisons ignore key order.
func normalized(_ value: Value) -> Value {
    switch value {
    case .dict(let d):
        var out = OrderedDictionary<String, Value>()
        for key in d.keys.sorted() { out[key] = normalized(d[key]!) }
        return .dict(out)
    case .list(let items): return .list(items.map(normalized))
    case .double(let x) where x == x.rounded() && abs(x) < 1e15: return .double(x)
    default: return value
    }
}

func strings(_ items: [String]) -> Value { .list(items.map { .string($0) }) }
