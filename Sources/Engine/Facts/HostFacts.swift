import Foundation
import OrderedCollections
import PGHACore

/// The facts beside the basic ones that roles read: `fips`, `apparmor`, `cmdline` and
/// `proc_cmdline`, `python` and `python_version`, the DMI facts (`system_vendor`, `product_name`,
/// ...), `devices` and `device_links`, and `local` (the files under /etc/ansible/facts.d), each
/// shaped as ansible-core's collectors shape them.
extension FactParser {
    static func addHostFacts(
        _ scalars: [String: String], _ sections: [String: [String]], into facts: inout OrderedDictionary<String, Value>
    ) {
        facts["fips"] = .bool(scalars["fips"] == "1")
        facts["apparmor"] = ["status": .string(scalars["apparmor"] ?? "disabled")]
        let cmdline = (sections["cmdline"] ?? []).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !cmdline.isEmpty {
            facts["cmdline"] = commandLine(cmdline, collectRepeats: false)
            facts["proc_cmdline"] = commandLine(cmdline, collectRepeats: true)
        }
        addPython(scalars["python"], into: &facts)
        addDMI(sections["dmi"] ?? [], into: &facts)
        let links = deviceLinks(sections["devlinks"] ?? [])
        facts["devices"] = devices(sections["devices"] ?? [], links: links, lspci: sections["lspci"] ?? [])
        facts["device_links"] = .dict(links.mapValues { .dict($0.mapValues { .list($0.map(Value.string)) }) })
        facts["local"] = scalars["local_dir"] == "1" ? localFacts(sections) : .dict([:])
    }

    /// `shlex.split(data, posix=False)`: whitespace-separated words, quotes kept as written.
    /// Nil for an unbalanced quote (Ansible then reports no options at all).
    static func nonPosixWords(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                current.append(character)
                quote = character
            } else if character.isWhitespace {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if quote != nil { return nil }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// CmdLineFactCollector: `key=value` pieces (the first `=` splits), bare words true; with
    /// `collectRepeats`, a key given twice keeps every value in a list.
    static func commandLine(_ text: String, collectRepeats: Bool) -> Value {
        var options = OrderedDictionary<String, Value>()
        for piece in nonPosixWords(text) ?? [] {
            guard let eq = piece.firstIndex(of: "=") else {
                options[piece] = true
                continue
            }
            let key = String(piece[..<eq])
            let value = Value.string(String(piece[piece.index(after: eq)...]))
            if collectRepeats, let existing = options[key] {
                if case .list(let items) = existing { options[key] = .list(items + [value]) } else { options[key] = .list([existing, value]) }
            } else {
                options[key] = value
            }
        }
        return .dict(options)
    }

    /// PythonFactCollector and platform.python_version(), read from the interpreter's `-V`.
    static func addPython(_ line: String?, into facts: inout OrderedDictionary<String, Value>) {
        guard let line else { return }
        let words = line.split(separator: " ")
        guard words.count >= 3, words[1] == "Python" else { return }
        let executable = String(words[0])
        let version = String(words[2])
        // 3.11.2, 3.13.0rc1, 3.12.0b4: the release level and serial follow the last number.
        let numeric = version.prefix { $0.isNumber || $0 == "." }
        let parts = numeric.split(separator: ".").map { Int($0) ?? 0 }
        let suffix = version.dropFirst(numeric.count)
        var level = "final"
        var serial = 0
        for (tag, name) in [("rc", "candidate"), ("a", "alpha"), ("b", "beta")] where suffix.hasPrefix(tag) {
            level = name
            serial = Int(suffix.dropFirst(tag.count)) ?? 0
        }
        let major = parts.count > 0 ? parts[0] : 0
        let minor = parts.count > 1 ? parts[1] : 0
        let micro = parts.count > 2 ? parts[2] : 0
        facts["python"] = [
            "version": ["major": .int(major), "minor": .int(minor), "micro": .int(micro), "releaselevel": .string(level),
                        "serial": .int(serial)],
            "version_info": [.int(major), .int(minor), .int(micro), .string(level), .int(serial)],
            "executable": .string(executable), "has_sslcontext": true, "type": "cpython",
        ]
        facts["python_version"] = .string("\(major).\(minor).\(micro)")
    }

    static let dmiKeys: [(fact: String, sysfs: String, dmidecode: String)] = [
        ("bios_date", "bios_date", "bios-release-date"), ("bios_vendor", "bios_vendor", "bios-vendor"),
        ("bios_version", "bios_version", "bios-version"), ("board_asset_tag", "board_asset_tag", "baseboard-asset-tag"),
        ("board_name", "board_name", "baseboard-product-name"), ("board_serial", "board_serial", "baseboard-serial-number"),
        ("board_vendor", "board_vendor", "baseboard-manufacturer"), ("board_version", "board_version", "baseboard-version"),
        ("chassis_asset_tag", "chassis_asset_tag", "chassis-asset-tag"), ("chassis_serial", "chassis_serial", "chassis-serial-number"),
        ("chassis_vendor", "chassis_vendor", "chassis-manufacturer"), ("chassis_version", "chassis_version", "chassis-version"),
        ("form_factor", "chassis_type", "chassis-type"), ("product_name", "product_name", "system-product-name"),
        ("product_serial", "product_serial", "system-serial-number"), ("product_uuid", "product_uuid", "system-uuid"),
        ("product_version", "product_version", "system-version"), ("system_vendor", "sys_vendor", "system-manufacturer"),
    ]

    static let formFactors = [
        "Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower", "Portable",
        "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One", "Sub Notebook", "Space-saving", "Lunch Box",
        "Main Server Chassis", "Expansion Chassis", "Sub Chassis", "Bus Expansion Chassis", "Peripheral Chassis",
        "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system", "CompactPCI", "AdvancedTCA", "Blade",
        "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC",
    ]

    /// get_dmi_facts: /sys/devices/virtual/dmi/id when there is one, else dmidecode, else NA.
    static func addDMI(_ lines: [String], into facts: inout OrderedDictionary<String, Value>) {
        var read: [String: String] = [:]
        for line in lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            read[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        let fromDmidecode = read["dmidecode"] == "1"
        for key in dmiKeys {
            let raw = read[fromDmidecode ? key.dmidecode : key.sysfs]?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let raw, !(raw.isEmpty && !fromDmidecode) else {
                facts[key.fact] = "NA"
                continue
            }
            if key.fact == "form_factor" && !fromDmidecode {
                facts[key.fact] = .string(Int(raw).flatMap { $0 >= 0 && $0 < formFactors.count ? formFactors[$0] : nil } ?? "unknown (\(raw))")
            } else {
                facts[key.fact] = .string(raw)
            }
        }
    }

    /// get_all_device_links: /dev/disk/by-{id,uuid,label} by target device, and the masters of slaves.
    static func deviceLinks(_ lines: [String]) -> OrderedDictionary<String, OrderedDictionary<String, [String]>> {
        var links: OrderedDictionary<String, OrderedDictionary<String, [String]>> = [
            "ids": [:], "uuids": [:], "labels": [:], "masters": [:],
        ]
        let kinds = ["by-id": "ids", "by-uuid": "uuids", "by-label": "labels", "masters": "masters"]
        for line in lines {
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 3, let kind = kinds[words[0]] else { continue }
            let (entry, target) = kind == "masters" ? (words[1], words[2]) : (words[1], words[2])
            links[kind]?[target, default: []].append(entry)
        }
        for kind in links.keys {
            links[kind] = links[kind]?.mapValues { Array(Set($0)).sorted() }
        }
        return links
    }

    /// Python's bytes_to_human: two decimals in the largest unit that fits.
    static func humanSize(_ size: Double) -> String {
        let units: [(String, Double)] = [
            ("YB", 1208925819614629174706176), ("ZB", 1180591620717411303424), ("EB", 1152921504606846976),
            ("PB", 1125899906842624), ("TB", 1099511627776), ("GB", 1073741824), ("MB", 1048576), ("KB", 1024),
        ]
        for (suffix, limit) in units where size >= limit { return String(format: "%.2f %@", size / limit, suffix) }
        return String(format: "%.2f Bytes", size)
    }

    /// get_device_facts: each block device of /sys/block with its partitions, as ansible-core
    /// reads them (values are the files' text; `virtual` is 1 for the sysfs links /sys/block holds).
    static func devices(
        _ lines: [String], links: OrderedDictionary<String, OrderedDictionary<String, [String]>>, lspci: [String]
    ) -> Value {
        var devices = OrderedDictionary<String, Value>()
        var name = ""
        var sysdir = ""
        var values: [String: String] = [:]
        var holders: [String] = []
        var partitions: [(String, [String: String], [String])] = []
        let wwn = Dictionary(
            (links["ids"] ?? [:]).flatMap { target, entries in entries.filter { $0.hasPrefix("wwn-") }.map { (target, String($0.dropFirst(4))) } },
            uniquingKeysWith: { $1 })
        func linkValues(_ device: String) -> Value {
            .dict(OrderedDictionary(uniqueKeysWithValues: links.map { ($0.key, Value.list(($0.value[device] ?? []).map(Value.string))) }))
        }
        func sectors(_ values: [String: String], prefix: String) -> (Int, Int) {
            let size = Int(values[prefix + "queue/logical_block_size"] ?? "") ?? Int(values[prefix + "queue/hw_sector_size"] ?? "") ?? 512
            return ((Int(values[prefix + "size"] ?? "") ?? 0) * 512 / max(size, 1), size)
        }
        func content(_ key: String) -> Value {
            guard let text = values[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return .null }
            return .string(text)
        }
        func close() {
            guard !name.isEmpty else { return }
            var d = OrderedDictionary<String, Value>()
            d["virtual"] = 1
            d["links"] = linkValues(name)
            for key in ["vendor", "model", "sas_address", "sas_device_handle"] { d[key] = content("device/" + key) }
            if case .string(let serial) = content("device/serial") { d["serial"] = .string(serial) }
            d["removable"] = content("removable")
            d["support_discard"] = values["queue/discard_max_hw_bytes"]?.trimmingCharacters(in: .whitespaces) == "0"
                ? "0" : content("queue/discard_granularity")
            if let id = wwn[name] { d["wwn"] = .string(id) }
            var parts = OrderedDictionary<String, Value>()
            let pattern = try? NSRegularExpression(pattern: "(" + NSRegularExpression.escapedPattern(for: name) + "[p]?\\d+)")
            for (folder, partValues, partHolders) in partitions {
                guard let match = pattern?.firstMatch(in: folder, range: NSRange(folder.startIndex..., in: folder)),
                    let range = Range(match.range(at: 1), in: folder)
                else { continue }
                let partName = String(folder[range])
                let (count, size) = sectors(partValues, prefix: "part/")
                let start = partValues["part/start"]?.trimmingCharacters(in: .whitespacesAndNewlines)
                parts[partName] = [
                    "links": linkValues(partName), "start": start.flatMap { $0.isEmpty ? nil : Value.string($0) } ?? 0,
                    "sectorsize": partValues["part/queue/logical_block_size"].map { .string($0) } ?? .int(size),
                    "sectors": .int(count), "size": .string(humanSize(Double(count) * Double(size))),
                    "uuid": (links["uuids"] ?? [:]).first { $0.key == partName }.map { .string($0.value.first ?? "") } ?? .null,
                    "holders": .list(partHolders.map(Value.string)),
                ]
            }
            d["partitions"] = .dict(parts)
            d["rotational"] = content("queue/rotational")
            var scheduler = ""
            if let text = values["queue/scheduler"], let open = text.firstIndex(of: "["), let shut = text[open...].firstIndex(of: "]") {
                scheduler = String(text[text.index(after: open)..<shut])
            }
            d["scheduler_mode"] = .string(scheduler)
            let (count, size) = sectors(values, prefix: "")
            d["sectorsize"] = values["queue/logical_block_size"].map { .string($0) } ?? .int(size)
            d["sectors"] = .int(count)
            d["size"] = .string(humanSize(Double(count) * Double(size)))
            var host = ""
            if let regex = try? NSRegularExpression(pattern: #".+/([a-f0-9]{4}:[a-f0-9]{2}:[0|1][a-f0-9]\.[0-7])/"#),
                let match = regex.firstMatch(in: sysdir, range: NSRange(sysdir.startIndex..., in: sysdir)),
                let range = Range(match.range(at: 1), in: sysdir)
            {
                let id = String(sysdir[range])
                if let line = lspci.first(where: { $0.hasPrefix(id + " ") }) { host = String(line.dropFirst(id.count + 1)) }
            }
            d["host"] = .string(host)
            d["holders"] = .list(holders.map(Value.string))
            devices[name] = .dict(d)
        }
        for line in lines {
            let (key, rest) = line.firstIndex(of: " ").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) } ?? (line, "")
            switch key {
            case "dev":
                close()
                let words = rest.split(separator: " ", maxSplits: 1).map(String.init)
                (name, sysdir) = (words.first ?? "", words.count > 1 ? words[1] : "")
                (values, holders, partitions) = ([:], [], [])
            case "holder", "part/holder":
                let words = rest.split(separator: " ", maxSplits: 1).map(String.init)
                guard let folder = words.first, folder.hasPrefix("dm-") else { continue }
                let shown = words.count > 1 && !words[1].isEmpty ? words[1] : folder
                if key == "holder" { holders.append(shown) } else if !partitions.isEmpty { partitions[partitions.count - 1].2.append(shown) }
            case "part": partitions.append((rest, [:], []))
            default:
                if key.hasPrefix("part/") {
                    if !partitions.isEmpty { partitions[partitions.count - 1].1[key] = rest }
                } else {
                    values[key] = rest
                }
            }
        }
        close()
        return .dict(devices)
    }

    /// LocalFactCollector: each `NAME.fact` file as JSON or, failing that, INI (sections of options,
    /// option names in lower case); an executable one's output, or its failure as text.
    static func localFacts(_ sections: [String: [String]]) -> Value {
        var local = OrderedDictionary<String, Value>()
        let entries = sections.keys.filter { $0.hasPrefix("local ") }.compactMap { tag -> (String, Bool, Int, String)? in
            let words = tag.split(separator: " ", maxSplits: 3).map(String.init)
            guard words.count == 4, let rc = Int(words[2]) else { return nil }
            return (words[3], words[1] == "exec", rc, tag)
        }.sorted { $0.0 < $1.0 }
        for (name, executable, rc, tag) in entries {
            let output = String(decoding: Base64.decode((sections[tag] ?? []).joined()) ?? [], as: UTF8.self)
            if executable && rc != 0 {
                let error = String(decoding: Base64.decode((sections["localerr " + name] ?? []).joined()) ?? [], as: UTF8.self)
                local[name] = .string("Failure executing fact script (/etc/ansible/facts.d/\(name).fact), rc: \(rc), err: \(error)")
                continue
            }
            if let json = try? JSON.decode(output) {
                local[name] = json
            } else if let ini = INIFacts.parse(output) {
                local[name] = ini
            } else {
                local[name] = .string("error loading facts as JSON or ini - please check content: /etc/ansible/facts.d/\(name).fact")
            }
        }
        return .dict(local)
    }
}

/// Python's configparser as the local fact collector uses it: `[section]` headers, `key = value`
/// or `key: value` options (names lower-cased), indented continuation lines, `#`/`;` comments,
/// DEFAULT options inherited by every section, and `%(name)s` interpolation.
enum INIFacts {
    static func parse(_ text: String) -> Value? {
        var sections: OrderedDictionary<String, OrderedDictionary<String, String>> = [:]
        var defaults = OrderedDictionary<String, String>()
        var section: String?
        var lastKey: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") {
                lastKey = nil
                continue
            }
            if raw.first?.isWhitespace == true, let key = lastKey {
                // A continuation line adds to the last option.
                if section == "DEFAULT" { defaults[key, default: ""] += "\n" + trimmed } else if let section { sections[section]?[key, default: ""] += "\n" + trimmed }
                continue
            }
            if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
                let name = String(trimmed.dropFirst().dropLast())
                if name != "DEFAULT" && sections[name] != nil { return nil }  // DuplicateSectionError
                section = name
                if name != "DEFAULT" { sections[name] = [:] }
                lastKey = nil
                continue
            }
            guard let section else { return nil }  // MissingSectionHeaderError
            guard let separator = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
            let key = trimmed[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = trimmed[trimmed.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            if section == "DEFAULT" { defaults[key] = value } else { sections[section]?[key] = value }
            lastKey = key
        }
        var out = OrderedDictionary<String, Value>()
        for (name, options) in sections {
            var merged = options
            for (key, value) in defaults where merged[key] == nil { merged[key] = value }
            var rendered = OrderedDictionary<String, Value>()
            for (key, value) in merged {
                guard let expanded = interpolate(value, merged, depth: 0) else { return nil }
                rendered[key] = .string(expanded)
            }
            out[name] = .dict(rendered)
        }
        return .dict(out)
    }

    /// BasicInterpolation: `%(name)s` from the same section, `%%` for a percent sign.
    static func interpolate(_ value: String, _ options: OrderedDictionary<String, String>, depth: Int) -> String? {
        guard depth < 10 else { return nil }
        var out = ""
        var rest = Substring(value)
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            let after = rest[rest.index(after: percent)...]
            if after.hasPrefix("%") {
                out += "%"
                rest = after.dropFirst()
            } else if after.hasPrefix("("), let close = after.range(of: ")s") {
                let name = after[after.index(after: after.startIndex)..<close.lowerBound].lowercased()
                guard let referenced = options[name], let expanded = interpolate(referenced, options, depth: depth + 1) else { return nil }
                out += expanded
                rest = after[close.upperBound...]
            } else {
                return nil
            }
        }
        return out + rest
    }
}
