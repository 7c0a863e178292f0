import Foundation
import OrderedCollections
import PGHACore

extension Filters {
    /// JSON and YAML in and out: `to_json`, `to_nice_json`, `from_json`, `to_yaml`, `to_nice_yaml`, `from_yaml`, `from_yaml_all`.
    static func registerSerialisationFilters(_ t: inout [String: FilterFunction]) {
        t["to_json"] = { c, input in
            let v = try c.input(input)
            let indent = try c.int(-1, "indent")
            let sortKeys = try c.bool(-1, "sort_keys") ?? false
            let ascii = try c.bool(-1, "ensure_ascii") ?? true
            return .v(.string(JSON.encode(v, style: JSON.Style(indent: indent, sortKeys: sortKeys, asciiOnly: ascii))))
        }
        t["to_nice_json"] = { c, input in
            let v = try c.input(input)
            let indent = try c.int(0, "indent") ?? 4
            let sortKeys = try c.bool(-1, "sort_keys") ?? true
            let ascii = try c.bool(-1, "ensure_ascii") ?? true
            return .v(.string(JSON.encode(v, style: JSON.Style(indent: indent, sortKeys: sortKeys, asciiOnly: ascii))))
        }
        t["from_json"] = { c, input in
            let s = Py.str(try c.input(input))
            do { return .v(try JSON.decode(s)) } catch { throw c.error("from_json: \(error)") }
        }
        t["to_yaml"] = { c, input in
            let v = try c.input(input)
            let indent = try c.int(-1, "indent") ?? 2
            let flow: Bool? = try c.value(-1, "default_flow_style").flatMap { $0.isNull ? nil : $0.isTruthy }
            return .v(.string(YAMLDump.dump(v, indent: indent, defaultFlowStyle: flow, sortKeys: try c.bool(-1, "sort_keys") ?? true)))
        }
        t["to_nice_yaml"] = { c, input in
            let v = try c.input(input)
            let indent = try c.int(0, "indent") ?? 4
            return .v(.string(YAMLDump.dump(v, indent: indent, defaultFlowStyle: false, sortKeys: try c.bool(-1, "sort_keys") ?? true)))
        }
        t["from_yaml"] = { c, input in
            let v = try c.input(input)
            guard case .string(let s) = v else { return .v(v) }
            do { return .v(try YAMLLoader.load(s, file: "<from_yaml>")?.value ?? .null) } catch { throw c.error("from_yaml: \(error)") }
        }
        t["from_yaml_all"] = { c, input in
            let s = Py.str(try c.input(input))
            do { return .v(.list(try YAMLLoader.loadAll(s, file: "<from_yaml_all>").map(\.value))) } catch {
                throw c.error("from_yaml_all: \(error)")
            }
        }
    }
}
