import Foundation
import OrderedCollections
import PGHACore

typealias FilterFunction = (Call, RV) throws -> RV

/// Jinja2's built-in filters plus the Ansible filters playbooks commonly use.
enum Filters {
    nonisolated(unsafe) static let table: [String: FilterFunction] = {
        var t: [String: FilterFunction] = [:]

        // MARK: undefined handling
        t["default"] = { c, input in
            let fallback = c.arg(0, "default_value") ?? .v(.string(""))
            let boolean = try c.bool(1, "boolean") ?? false
            switch input {
            case .undefined: return fallback
            case .v(let v) where boolean && !v.isTruthy: return fallback
            default: return input
            }
        }
        t["d"] = t["default"]
        t["mandatory"] = { c, input in
            if case .undefined(let u) = input {
                var name = u.message
                if name.hasPrefix("'"), name.hasSuffix("' is undefined") { name = String(name.dropFirst().dropLast(14)) }
                let msg = try c.string(0, "msg")
                throw TemplateRuntimeError.template(msg ?? "Mandatory variable '\(name)' not defined.", line: c.line)
            }
            return input
        }

        // MARK: strings
        func stringFilter(_ f: @escaping (String) -> String) -> FilterFunction {
            { c, input in .v(.string(f(Py.str(try c.input(input))))) }
        }
        t["lower"] = stringFilter { $0.lowercased() }
        t["upper"] = stringFilter { $0.uppercased() }
        t["title"] = stringFilter(Methods.titleCase)
        t["capitalize"] = stringFilter(Methods.capitalize)
        t["string"] = stringFilter { $0 }
        t["trim"] = { c, input in
            let s = Py.str(try c.input(input))
            return .v(.string(Methods.pyStrip(s, chars: try c.string(0, "chars"), left: true, right: true)))
        }
        t["replace"] = { c, input in
            let s = Py.str(try c.input(input))
            let m = try Methods.stringMethod(Call(renderer: c.renderer, args: c.args, kwargs: [], line: c.line, name: "replace"), s, "replace")
            return .v(m)
        }
        t["split"] = { c, input in
            let s = Py.str(try c.input(input))
            return .v(try Methods.stringMethod(c, s, "split"))
        }
        t["center"] = { c, input in
            let s = Py.str(try c.input(input))
            let width = try c.int(0, "width") ?? 80
            return .v(try Methods.stringMethod(
                Call(renderer: c.renderer, args: [.v(.int(width))], kwargs: [], line: c.line, name: "center"), s, "center"))
        }
        t["wordcount"] = { c, input in
            let s = Py.str(try c.input(input))
            let words = s.unicodeScalars.split { !($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }
            return .v(.int(words.count))
        }
        t["indent"] = { c, input in
            let s = Py.str(try c.input(input))
            let widthValue = try c.value(0, "width") ?? .int(4)
            let indention: String
            if case .string(let w) = widthValue { indention = w } else { indention = String(repeating: " ", count: max(0, Py.asInt(widthValue) ?? 4)) }
            let first = try c.bool(1, "first") ?? false
            let blank = try c.bool(2, "blank") ?? false
            var lines = (s + "\n").components(separatedBy: "\n")
            lines.removeLast()
            var rv: String
            if blank {
                rv = lines.joined(separator: "\n" + indention)
            } else {
                rv = lines.removeFirst()
                if !lines.isEmpty {
                    rv += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
                }
            }
            if first { rv = indention + rv }
            return .v(.string(rv))
        }
        t["format"] = { c, input in
            let fmt = Py.str(try c.input(input))
            var args: [Value] = []
            for a in c.args { args.append(try c.input(a)) }
            if !c.kwargs.isEmpty {
                var d = OrderedDictionary<String, Value>()
                for (k, v) in c.kwargs { d[k] = try c.input(v) }
                return .v(.string(try PyFormat.percent(fmt, .dict(d), line: c.line)))
            }
            return .v(.string(try PyFormat.percent(fmt, args: args, line: c.line)))
        }
        t["quote"] = { c, input in .v(.string(shellQuote(Py.str(try c.input(input))))) }
        t["strftime"] = PyTime.filter
        TextFilters.register(&t)
        t["b64encode"] = { c, input in .v(.string(Base64.encode(Py.str(try c.input(input))))) }
        t["b64decode"] = { c, input in
            let s = Py.str(try c.input(input))
            guard let d = Base64.decodeString(s) else { throw c.error("b64decode: invalid base64 input") }
            return .v(.string(d))
        }
        t["hash"] = { c, input in
            let alg = try c.string(0, "hashtype") ?? "sha1"
            guard let a = Digest.Algorithm(rawValue: alg) else { throw c.error("hash: unsupported hash type '\(alg)'") }
            return .v(.string(Digest.hex(a, Py.str(try c.input(input)))))
        }
        t["checksum"] = { c, input in .v(.string(Digest.hex(.sha1, Py.str(try c.input(input))))) }
        t["sha1"] = t["checksum"]
        t["md5"] = { c, input in .v(.string(Digest.hex(.md5, Py.str(try c.input(input))))) }
        t["basename"] = stringFilter { s in
            guard let i = s.lastIndex(of: "/") else { return s }
            return String(s[s.index(after: i)...])
        }
        t["dirname"] = stringFilter(dirname)
        t["expanduser"] = stringFilter { s in
            guard s == "~" || s.hasPrefix("~/") else { return s }
            let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
            return home + s.dropFirst()
        }
        t["realpath"] = stringFilter { s in URL(fileURLWithPath: s).resolvingSymlinksInPath().standardizedFileURL.path }
        t["splitext"] = { c, input in
            let s = Py.str(try c.input(input))
            let base = s.lastIndex(of: "/").map { s.index(after: $0) } ?? s.startIndex
            var dot = s.lastIndex(of: ".")
            if let d = dot, d <= base || s[base..<d].allSatisfy({ $0 == "." }) { dot = nil }
            guard let d = dot else { return .v(.list([.string(s), ""])) }
            return .v(.list([.string(String(s[..<d])), .string(String(s[d...]))]))
        }
        t["path_join"] = { c, input in
            let v = try c.input(input)
            let parts = v.listValue?.map { Py.str($0) } ?? [Py.str(v)]
            var out = ""
            for p in parts {
                if p.hasPrefix("/") { out = p } else if out.isEmpty || out.hasSuffix("/") { out += p } else { out += "/" + p }
            }
            return .v(.string(out))
        }
        t["regex_escape"] = stringFilter { s in
            var out = ""
            for ch in s.unicodeScalars {
                if ch.properties.isAlphabetic || ("0"..."9").contains(ch) || ch == "_" || ch.value > 127 {
                    out.unicodeScalars.append(ch)
                } else {
                    out += "\\" + String(ch)
                }
            }
            return out
        }
        t["regex_replace"] = { c, input in
            let s = Py.str(try c.input(input))
            let pattern = try c.string(0, "pattern") ?? ""
            let replacement = try c.string(1, "replacement") ?? ""
            let re = try PyRegex.compile(pattern, ignoreCase: try c.bool(2, "ignorecase") ?? false,
                                         multiline: try c.bool(3, "multiline") ?? false, line: c.line)
            return .v(.string(PyRegex.sub(re, replacement, s, count: try c.int(4, "count") ?? 0)))
        }
        t["regex_search"] = { c, input in
            let s = Py.str(try c.input(input))
            let pattern = try c.string(0, "regex") ?? ""
            let re = try PyRegex.compile(pattern, ignoreCase: try c.kwBool("ignorecase"), multiline: try c.kwBool("multiline"), line: c.line)
            guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return .none }
            if c.args.count > 1 {
                var out: [Value] = []
                for a in c.args.dropFirst() {
                    let spec = Py.str(try c.input(a))
                    if spec.hasPrefix("\\g<"), spec.hasSuffix(">") {
                        let name = String(spec.dropFirst(3).dropLast())
                        if let n = Int(name) { out.append(PyRegex.group(m, n, in: s)) } else {
                            let r = m.range(withName: name)
                            out.append(r.location == NSNotFound ? .null : .string((s as NSString).substring(with: r)))
                        }
                    } else if spec.hasPrefix("\\"), let n = Int(spec.dropFirst()) {
                        out.append(PyRegex.group(m, n, in: s))
                    } else {
                        throw c.error("Unknown argument")
                    }
                }
                return .v(.list(out))
            }
            return .v(PyRegex.group(m, 0, in: s))
        }
        t["regex_findall"] = { c, input in
            let s = Py.str(try c.input(input))
            let pattern = try c.string(0, "regex") ?? ""
            let re = try PyRegex.compile(pattern, ignoreCase: try c.bool(2, "ignorecase") ?? c.kwBool("ignorecase"),
                                         multiline: try c.bool(1, "multiline") ?? c.kwBool("multiline"), line: c.line)
            let matches = re.matches(in: s, range: NSRange(s.startIndex..., in: s))
            return .v(.list(matches.map { m in
                let groups = re.numberOfCaptureGroups
                if groups == 0 { return PyRegex.group(m, 0, in: s, empty: true) }
                if groups == 1 { return PyRegex.group(m, 1, in: s, empty: true) }
                return .list((1...groups).map { PyRegex.group(m, $0, in: s, empty: true) })
            }))
        }

        // MARK: conversion
        t["int"] = { c, input in
            let v = try c.input(input)
            let fallback = try c.value(0, "default") ?? .int(0)
            let base = try c.int(1, "base") ?? 10
            switch v {
            case .int: return .v(v)
            case .bool(let b): return .v(.int(b ? 1 : 0))
            case .double(let d):
                guard d.isFinite else { return .v(fallback) }
                // Beyond 64 bits Python keeps an exact bigint; the closest we have is the truncated double.
                return .v(Py.truncate(d).map { .int($0) } ?? .double(d.rounded(.towardZero)))
            case .string(let s):
                var text = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                if base == 16, text.lowercased().hasPrefix("0x") { text = String(text.dropFirst(2)) }
                if let i = Int(text, radix: base) { return .v(.int(i)) }
                if base == 10, let d = Double(text), let i = Py.truncate(d) { return .v(.int(i)) }
                return .v(fallback)
            default: return .v(fallback)
            }
        }
        t["float"] = { c, input in
            let v = try c.input(input)
            let fallback = try c.value(0, "default") ?? .double(0)
            switch v {
            case .double: return .v(v)
            case .int(let i): return .v(.double(Double(i)))
            case .bool(let b): return .v(.double(b ? 1 : 0))
            case .string(let s):
                let text = s.trimmingCharacters(in: .whitespaces).lowercased()
                if ["inf", "+inf", "infinity"].contains(text) { return .v(.double(.infinity)) }
                if ["-inf", "-infinity"].contains(text) { return .v(.double(-.infinity)) }
                if text == "nan" { return .v(.double(.nan)) }
                if let d = Double(text.replacingOccurrences(of: "_", with: "")), !text.hasPrefix("0x") { return .v(.double(d)) }
                return .v(fallback)
            default: return .v(fallback)
            }
        }
        t["bool"] = { c, input in
            let v = try c.input(input)
            return .v(.bool(Py.ansibleBool(v)))
        }
        t["list"] = { c, input in
            let v = try c.input(input)
            guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            return .v(.list(items))
        }
        t["abs"] = { c, input in
            let v = try c.input(input)
            switch v {
            case .int(let i): return .v(i == .min ? .double(-Double(i)) : .int(abs(i)))
            case .double(let d): return .v(.double(abs(d)))
            case .bool(let b): return .v(.int(b ? 1 : 0))
            default: throw c.error("bad operand type for abs(): '\(v.typeName)'")
            }
        }
        t["round"] = { c, input in
            let v = try c.input(input)
            guard let d = Py.asDouble(v) else { throw c.error("round: expected a number, got \(v.typeName)") }
            let precision = try c.int(0, "precision") ?? 0
            let method = try c.string(1, "method") ?? "common"
            let scale = pow(10.0, Double(precision))
            switch method {
            case "ceil": return .v(.double((d * scale).rounded(.up) / scale))
            case "floor": return .v(.double((d * scale).rounded(.down) / scale))
            default:
                // Python's round(): exact binary value, ties to even; printf rounds the same way.
                if case .int = v, precision >= 0 { return .v(v) }
                if precision == 0 { return .v(.double(d.rounded(.toNearestOrEven))) }
                let text = String(format: "%.\(max(precision, 0))f", d)
                return .v(.double(Double(text) ?? d))
            }
        }
        t["type_debug"] = { c, input in
            switch input {
            case .v(let v): return .v(.string(v.typeName))
            case .undefined: return .v(.string("Undefined"))
            case .obj(let o): return .v(.string(o.typeName))
            }
        }
        t["ternary"] = { c, input in
            let v = try c.input(input)
            if case .null = v, let noneValue = c.arg(2, "none_val") { return noneValue }
            return v.isTruthy ? (c.arg(0, "true_val") ?? .none) : (c.arg(1, "false_val") ?? .none)
        }

        // MARK: serialisation
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

        // MARK: sequences
        t["length"] = { c, input in
            // Counting a lazily templated container must not render its elements.
            if case .obj(let lazy as LazyContainer) = input, let n = Py.length(lazy.raw) { return .v(.int(n)) }
            if case .obj(let partial as PartialList) = input { return .v(.int(partial.items.count)) }
            let v = try c.input(input)
            guard let n = Py.length(v) else { throw c.error("object of type '\(v.typeName)' has no len()") }
            return .v(.int(n))
        }
        t["count"] = t["length"]
        t["first"] = { c, input in
            let v = try c.input(input)
            guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            return items.first.map { .v($0) } ?? .undefined(Undefined(message: "No first item, sequence was empty."))
        }
        t["last"] = { c, input in
            let v = try c.input(input)
            guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            return items.last.map { .v($0) } ?? .undefined(Undefined(message: "No last item, sequence was empty."))
        }
        t["reverse"] = { c, input in
            let v = try c.input(input)
            if case .string(let s) = v { return .v(.string(String(s.unicodeScalars.reversed().map(Character.init)))) }
            guard let items = Py.iterate(v) else { throw c.error("argument to reverse() must be a sequence") }
            return .v(.list(items.reversed()))
        }
        t["join"] = { c, input in
            let v = try c.input(input)
            let sep = try c.string(0, "d") ?? ""
            guard var items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
            if let attr = try c.string(1, "attribute") {
                items = try items.map { try attribute($0, attr, c) }
            }
            return .v(.string(items.map { Py.str($0) }.joined(separator: sep)))
        }
        t["map"] = { c, input in
            let items = try iterable(c, input)
            if let attr = try c.string(-1, "attribute") {
                let fallback = try c.value(-1, "default")
                return .v(.list(try items.map { item in
                    if let v = lookupAttribute(item, attr) { return v }
                    if let fallback { return fallback }
                    throw TemplateRuntimeError(kind: .undefined, message: missingAttributeMessage(item, attr), line: c.line)
                }))
            }
            guard let filterName = try c.string(0) else { return .v(.list(items)) }
            let rest = Array(c.args.dropFirst())
            return .v(.list(try items.map { item in
                try c.renderer.value(try c.renderer.applyFilter(filterName, .v(item), rest, c.kwargs, line: c.line), line: c.line)
            }))
        }
        func selectFilter(attr: Bool, keep: Bool) -> FilterFunction {
            { c, input in
                let subjects: [RV]
                if case .obj(let partial as PartialList) = input { subjects = partial.items } else {
                    subjects = try iterable(c, input).map { .v($0) }
                }
                var offset = 0
                var attrName: String?
                if attr {
                    attrName = try c.string(0) ?? ""
                    offset = 1
                }
                let testName = try c.string(offset)
                let testArgs = Array(c.args.dropFirst(offset + 1))
                let kept = try subjects.filter { element in
                    var subject = element
                    if let attrName {
                        let item = try c.input(element)
                        subject = lookupAttribute(item, attrName).map { .v($0) }
                            ?? .undefined(Undefined(message: missingAttributeMessage(item, attrName)))
                    }
                    let result: Bool
                    if let testName {
                        result = try c.renderer.applyTest(testName, subject, testArgs, c.kwargs, line: c.line)
                    } else {
                        result = try c.renderer.truthy(subject, line: c.line)
                    }
                    return result == keep
                }
                return .v(.list(try kept.map { try c.input($0) }))
            }
        }
        t["select"] = selectFilter(attr: false, keep: true)
        t["reject"] = selectFilter(attr: false, keep: false)
        t["selectattr"] = selectFilter(attr: true, keep: true)
        t["rejectattr"] = selectFilter(attr: true, keep: false)
        t["unique"] = { c, input in
            let items = try iterable(c, input)
            let caseSensitive = try c.bool(0, "case_sensitive") ?? false
            let attr = try c.string(1, "attribute")
            var seen: [Value] = []
            var out: [Value] = []
            for item in items {
                var key = try attr.map { try attribute(item, $0, c) } ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                if !seen.contains(where: { Py.equals($0, key) }) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .v(.list(out))
        }
        t["union"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            return .v(.list(uniqueExact(a + b)))
        }
        t["intersect"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            return .v(.list(uniqueExact(a.filter { x in b.contains { Py.equals($0, x) } })))
        }
        t["difference"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            return .v(.list(uniqueExact(a.filter { x in !b.contains { Py.equals($0, x) } })))
        }
        t["symmetric_difference"] = { c, input in
            let a = try iterable(c, input)
            let b = try c.value(0).flatMap(Py.iterate) ?? []
            let both = a.filter { x in b.contains { Py.equals($0, x) } }
            return .v(.list(uniqueExact(a + b).filter { x in !both.contains { Py.equals($0, x) } }))
        }
        t["flatten"] = { c, input in
            let items = try iterable(c, input)
            let levels = try c.int(0, "levels")
            let skipNulls = try c.bool(1, "skip_nulls") ?? true
            func flat(_ l: [Value], _ depth: Int) -> [Value] {
                var out: [Value] = []
                for x in l {
                    if skipNulls, x.isNull || x == .string("None") { continue }
                    if case .list(let inner) = x, levels == nil || depth < levels! {
                        out += flat(inner, depth + 1)
                    } else {
                        out.append(x)
                    }
                }
                return out
            }
            return .v(.list(flat(items, 0)))
        }
        t["sort"] = { c, input in
            let items = try iterable(c, input)
            let reverse = try c.bool(0, "reverse") ?? false
            let caseSensitive = try c.bool(1, "case_sensitive") ?? false
            let attrs = try c.string(2, "attribute")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return .v(.list(try sortValues(items, reverse: reverse, caseSensitive: caseSensitive, attributes: attrs, c)))
        }
        func minmax(_ wantMax: Bool) -> FilterFunction {
            { c, input in
                let items = try iterable(c, input)
                let caseSensitive = try c.bool(0, "case_sensitive") ?? false
                let attrs = try c.string(1, "attribute").map { [$0] }
                let sorted = try sortValues(items, reverse: false, caseSensitive: caseSensitive, attributes: attrs, c)
                guard let v = wantMax ? try maxStable(items, sorted, caseSensitive, attrs, c) : sorted.first else {
                    return .undefined(Undefined(message: "No aggregated item, sequence was empty."))
                }
                return .v(v)
            }
        }
        t["min"] = minmax(false)
        t["max"] = minmax(true)
        t["sum"] = { c, input in
            var items = try iterable(c, input)
            if let attr = try c.string(0, "attribute") { items = try items.map { try attribute($0, attr, c) } }
            var total = try c.value(1, "start") ?? .int(0)
            for item in items { total = try Arithmetic.binary("+", total, item, line: c.line) }
            return .v(total)
        }
        t["batch"] = { c, input in
            let items = try iterable(c, input)
            let size = max(1, try c.int(0, "linecount") ?? 1)
            let fill = try c.value(1, "fill_with")
            var out: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(i + size, items.count)])
                if let fill, chunk.count < size { chunk += Array(repeating: fill, count: size - chunk.count) }
                out.append(.list(chunk))
                i += size
            }
            return .v(.list(out))
        }
        t["slice"] = { c, input in
            let items = try iterable(c, input)
            let slices = max(1, try c.int(0, "slices") ?? 1)
            let fill = try c.value(1, "fill_with")
            let perSlice = items.count / slices
            let withExtra = items.count % slices
            var offset = 0
            var out: [Value] = []
            for n in 0..<slices {
                let start = offset + n * perSlice
                if n < withExtra { offset += 1 }
                let end = offset + (n + 1) * perSlice
                var chunk = Array(items[min(start, items.count)..<min(end, items.count)])
                if let fill, n >= withExtra { chunk.append(fill) }
                out.append(.list(chunk))
            }
            return .v(.list(out))
        }
        t["zip"] = { c, input in
            var lists = [try iterable(c, input)]
            for a in c.args { lists.append(Py.iterate(try c.input(a)) ?? []) }
            let n = lists.map(\.count).min() ?? 0
            return .v(.list((0..<n).map { i in .list(lists.map { $0[i] }) }))
        }
        t["zip_longest"] = { c, input in
            var lists = [try iterable(c, input)]
            for a in c.args { lists.append(Py.iterate(try c.input(a)) ?? []) }
            let fill = try c.value(-1, "fillvalue") ?? .null
            let n = lists.map(\.count).max() ?? 0
            return .v(.list((0..<n).map { i in .list(lists.map { i < $0.count ? $0[i] : fill }) }))
        }
        t["items"] = { c, input in
            if case .undefined = input { return .v(.list([])) }
            let v = try c.input(input)
            guard case .dict(let d) = v else { throw c.error("Can only get item pairs from a mapping.") }
            return .v(.list(d.map { .list([.string($0.key), $0.value]) }))
        }
        t["dictsort"] = { c, input in
            let v = try c.input(input)
            guard case .dict(let d) = v else { throw c.error("You can only sort by either \"key\" or \"value\"") }
            let caseSensitive = try c.bool(0, "case_sensitive") ?? false
            let byValue = (try c.string(1, "by") ?? "key") == "value"
            let reverse = try c.bool(2, "reverse") ?? false
            let pairs: [Value] = d.map { .list([.string($0.key), $0.value]) }
            let sorted = try stableSort(pairs) { a, b in
                let x = a.listValue![byValue ? 1 : 0], y = b.listValue![byValue ? 1 : 0]
                return try compareForSort(x, y, caseSensitive: caseSensitive, c)
            }
            return .v(.list(reverse ? sorted.reversed() : sorted))
        }
        t["groupby"] = { c, input in
            let items = try iterable(c, input)
            let attr = try c.string(0, "attribute") ?? ""
            let fallback = try c.value(1, "default")
            let caseSensitive = try c.bool(2, "case_sensitive") ?? false
            let keyed: [(Value, Value)] = try items.map { item in
                if let k = lookupAttribute(item, attr) { return (k, item) }
                if let fallback { return (fallback, item) }
                throw TemplateRuntimeError(kind: .undefined, message: missingAttributeMessage(item, attr), line: c.line)
            }
            let sorted = try stableSort(keyed.map { Value.list([$0.0, $0.1]) }) { a, b in
                try compareForSort(a.listValue![0], b.listValue![0], caseSensitive: caseSensitive, c)
            }
            var groups: [(Value, [Value])] = []
            for pair in sorted {
                let k = pair.listValue![0], item = pair.listValue![1]
                let norm: (Value) -> Value = { v in
                    if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
                    return v
                }
                if let last = groups.last, Py.equals(norm(last.0), norm(k)) {
                    groups[groups.count - 1].1.append(item)
                } else {
                    groups.append((k, [item]))
                }
            }
            return .v(.list(groups.map { .list([$0.0, .list($0.1)]) }))
        }

        // MARK: dictionaries
        t["combine"] = { c, input in
            var result = try c.input(input)
            let recursive = try c.bool(-1, "recursive") ?? false
            let listMerge = try c.string(-1, "list_merge") ?? "replace"
            var terms: [Value] = []
            for a in c.args {
                let v = try c.input(a)
                if case .list(let l) = v { terms += l } else { terms.append(v) }
            }
            if case .list(let l) = result {
                guard let first = l.first else { return .v(.dict([:])) }
                terms = Array(l.dropFirst()) + terms
                result = first
            }
            for term in terms {
                guard case .dict = result, case .dict = term else {
                    throw c.error("failed to combine variables, expected dicts but got '\(result.typeName)' and '\(term.typeName)'")
                }
                result = combine(result, term, recursive: recursive, listMerge: listMerge)
            }
            return .v(result)
        }
        t["dict2items"] = { c, input in
            let v = try c.input(input)
            guard case .dict(let d) = v else { throw c.error("dict2items requires a dictionary, got \(v.typeName) instead.") }
            let k = try c.string(0, "key_name") ?? "key", vn = try c.string(1, "value_name") ?? "value"
            return .v(.list(d.map { .dict([k: .string($0.key), vn: $0.value]) }))
        }
        t["items2dict"] = { c, input in
            let v = try c.input(input)
            guard case .list(let l) = v else { throw c.error("items2dict requires a list, got \(v.typeName) instead.") }
            let k = try c.string(0, "key_name") ?? "key", vn = try c.string(1, "value_name") ?? "value"
            var d = OrderedDictionary<String, Value>()
            for item in l {
                guard case .dict(let entry) = item, let key = entry[k], let value = entry[vn] else {
                    throw c.error("items2dict requires each element to have '\(k)' and '\(vn)' keys")
                }
                d[key.stringValue ?? Py.str(key)] = value
            }
            return .v(.dict(d))
        }
        t["extract"] = { c, input in
            let key = try c.input(input)
            guard let container = try c.value(0, "container") else { throw c.error("extract needs a container") }
            var result = try c.renderer.getitem(.v(container), key, line: c.line)
            if let more = try c.value(1, "morekeys") {
                for k in more.listValue ?? [more] { result = try c.renderer.getitem(result, k, line: c.line) }
            }
            return result
        }
        t["subelements"] = { c, input in
            let v = try c.input(input)
            let elements: [Value]
            switch v {
            case .dict(let d): elements = Array(d.values)
            case .list(let l): elements = l
            default: throw c.error("obj must be a list of dicts or a nested dict")
            }
            let spec = try c.value(0, "subelements") ?? .string("")
            let path: [String] = spec.listValue?.map { Py.str($0) } ?? Py.str(spec).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let skipMissing = try c.bool(1, "skip_missing") ?? false
            var out: [Value] = []
            for element in elements {
                var values = element
                for key in path {
                    guard case .dict(let d) = values else {
                        throw c.error("the key \(key) should point to a dictionary, got '\(Py.str(values))'")
                    }
                    guard let next = d[key] else {
                        if skipMissing { values = .list([]); break }
                        throw c.error("could not find '\(key)' key in iterated item \(Py.repr(values))")
                    }
                    values = next
                }
                guard case .list(let items) = values else {
                    throw c.error("the key '\(path.joined(separator: "."))' should point to a list, got \(Py.repr(values))")
                }
                for item in items { out.append(.list([element, item])) }
            }
            return .v(.list(out))
        }
        t["product"] = { c, input in
            var lists = [try iterable(c, input)]
            for a in c.args { lists.append(Py.iterate(try c.input(a)) ?? []) }
            var out: [[Value]] = [[]]
            for list in lists { out = out.flatMap { prefix in list.map { prefix + [$0] } } }
            return .v(.list(out.map { .list($0) }))
        }
        t["to_uuid"] = { c, input in
            let namespace = try c.string(0, "namespace") ?? "361E6D51-FAEC-444A-9079-341386DA8E2E"
            let hex = namespace.replacingOccurrences(of: "-", with: "").lowercased()
            guard hex.utf8.count == 32 else { throw c.error("Invalid value '\(namespace)' for 'namespace'") }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            for _ in 0..<16 {
                let next = hex.index(index, offsetBy: 2)
                guard let b = UInt8(hex[index..<next], radix: 16) else { throw c.error("Invalid value '\(namespace)' for 'namespace'") }
                bytes.append(b)
                index = next
            }
            var digest = Array(Digest.sha1Bytes(bytes + Array(Py.str(try c.input(input)).utf8)).prefix(16))
            digest[6] = (digest[6] & 0x0F) | 0x50
            digest[8] = (digest[8] & 0x3F) | 0x80
            let h = Digest.hexString(digest)
            let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
                String(h[h.index(h.startIndex, offsetBy: r.lowerBound)..<h.index(h.startIndex, offsetBy: r.upperBound)])
            }
            return .v(.string(parts.joined(separator: "-")))
        }
        t["attr"] = { c, input in
            // Python getattr only: no fallback to dictionary keys.
            let name = try c.string(0, "name") ?? ""
            switch input {
            case .undefined: return input
            case .obj(let o): return o.attribute(name) ?? .undefined(Undefined(message: "object of type '\(o.typeName)' has no attribute '\(name)'"))
            case .v(let v):
                if Methods.has(v, name) { return .obj(BoundMethod(v, name)) }
                return .undefined(Undefined(message: "object of type '\(v.typeName)' has no attribute '\(name)'"))
            }
        }
        t["pow"] = { c, input in
            .v(.double(pow(Py.asDouble(try c.input(input)) ?? 0, Py.asDouble(try c.value(0) ?? .int(1)) ?? 1)))
        }
        t["log"] = { c, input in
            let x = Py.asDouble(try c.input(input)) ?? 0
            if let base = try c.value(0).flatMap(Py.asDouble) { return .v(.double(Foundation.log(x) / Foundation.log(base))) }
            return .v(.double(Foundation.log(x)))
        }
        t["root"] = { c, input in
            let x = Py.asDouble(try c.input(input)) ?? 0
            let base = try c.value(0).flatMap(Py.asDouble) ?? 2
            return .v(.double(base == 2 ? x.squareRoot() : pow(x, 1 / base)))
        }
        return t
    }()

    // MARK: - helpers

    static func shellQuote(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let safe = s.unicodeScalars.allSatisfy { u in
            (u.properties.isAlphabetic && u.isASCII) || ("0"..."9").contains(u) || "@%+=:,./-_".unicodeScalars.contains(u)
        }
        if safe { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
    }

    static func dirname(_ s: String) -> String {
        guard let i = s.lastIndex(of: "/") else { return "" }
        var head = String(s[...i])
        if !head.allSatisfy({ $0 == "/" }) { while head.hasSuffix("/") { head.removeLast() } }
        return head
    }

    static func iterable(_ c: Call, _ input: RV) throws -> [Value] {
        let v = try c.input(input)
        guard let items = Py.iterate(v) else { throw c.error("'\(v.typeName)' object is not iterable") }
        return items
    }

    /// Jinja's attribute getter: dotted path, integer parts index lists.
    static func lookupAttribute(_ item: Value, _ path: String) -> Value? {
        var current = item
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .dict(let d):
                guard let next = d[String(part)] else { return nil }
                current = next
            case .list(let l):
                guard let i = Int(part), i >= 0, i < l.count else { return nil }
                current = l[i]
            default:
                return nil
            }
        }
        return current
    }

    static func missingAttributeMessage(_ item: Value, _ path: String) -> String {
        var current = item
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = lookupAttribute(current, String(part)) else {
                return "object of type '\(current.typeName)' has no attribute '\(part)'"
            }
            current = next
        }
        return "object has no attribute '\(path)'"
    }

    static func attribute(_ item: Value, _ path: String, _ c: Call) throws -> Value {
        guard let v = lookupAttribute(item, path) else {
            throw TemplateRuntimeError(kind: .undefined, message: missingAttributeMessage(item, path), line: c.line)
        }
        return v
    }

    static func uniqueExact(_ items: [Value]) -> [Value] {
        var out: [Value] = []
        for x in items where !out.contains(where: { Py.equals($0, x) }) { out.append(x) }
        return out
    }

    static func compareForSort(_ a: Value, _ b: Value, caseSensitive: Bool, _ c: Call) throws -> Int {
        var x = a, y = b
        if !caseSensitive {
            if case .string(let s) = x { x = .string(s.lowercased()) }
            if case .string(let s) = y { y = .string(s.lowercased()) }
        }
        guard let r = Py.compare(x, y) else {
            throw c.error("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
        return r
    }

    static func stableSort(_ items: [Value], _ cmp: (Value, Value) throws -> Int) throws -> [Value] {
        var indexed = Array(items.enumerated())
        var failure: (any Error)?
        indexed.sort { l, r in
            if failure != nil { return false }
            do {
                let c = try cmp(l.element, r.element)
                return c != 0 ? c < 0 : l.offset < r.offset
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return indexed.map(\.element)
    }

    static func sortValues(_ items: [Value], reverse: Bool, caseSensitive: Bool, attributes: [String]?, _ c: Call) throws -> [Value] {
        let sorted = try stableSort(items) { a, b in
            if let attributes {
                for attr in attributes {
                    let r = try compareForSort(try attribute(a, attr, c), try attribute(b, attr, c), caseSensitive: caseSensitive, c)
                    if r != 0 { return r }
                }
                return 0
            }
            return try compareForSort(a, b, caseSensitive: caseSensitive, c)
        }
        if reverse {
            // Python's sort(reverse=True) keeps equal elements in original order.
            return try stableSort(items) { a, b in
                if let attributes {
                    for attr in attributes {
                        let r = try compareForSort(try attribute(b, attr, c), try attribute(a, attr, c), caseSensitive: caseSensitive, c)
                        if r != 0 { return r }
                    }
                    return 0
                }
                return try compareForSort(b, a, caseSensitive: caseSensitive, c)
            }
        }
        return sorted
    }

    /// Python's max() returns the first maximal element.
    static func maxStable(_ items: [Value], _ sorted: [Value], _ caseSensitive: Bool, _ attrs: [String]?, _ c: Call) throws -> Value? {
        guard var best = items.first else { return nil }
        for item in items.dropFirst() {
            let a = try attrs.map { try attribute(item, $0[0], c) } ?? item
            let b = try attrs.map { try attribute(best, $0[0], c) } ?? best
            if try compareForSort(a, b, caseSensitive: caseSensitive, c) > 0 { best = item }
        }
        return best
    }

    static func combine(_ a: Value, _ b: Value, recursive: Bool, listMerge: String) -> Value {
        guard case .dict(var x) = a, case .dict(let y) = b else { return b }
        for (k, v) in y {
            guard let existing = x[k] else { x[k] = v; continue }
            if recursive, case .dict = existing, case .dict = v {
                x[k] = combine(existing, v, recursive: true, listMerge: listMerge)
            } else if case .list(let l1) = existing, case .list(let l2) = v {
                switch listMerge {
                case "keep": x[k] = existing
                case "append": x[k] = .list(l1 + l2)
                case "prepend": x[k] = .list(l2 + l1)
                case "append_rp": x[k] = .list(l1.filter { e in !l2.contains { Py.equals($0, e) } } + l2)
                case "prepend_rp": x[k] = .list(l2 + l1.filter { e in !l2.contains { Py.equals($0, e) } })
                default: x[k] = v
                }
            } else {
                x[k] = v
            }
        }
        return .dict(x)
    }
}

extension Call {
    func kwBool(_ name: String) throws -> Bool {
        guard let kw = kwargs.first(where: { $0.0 == name }) else { return false }
        return try renderer.value(kw.1, line: line).isTruthy
    }
}
