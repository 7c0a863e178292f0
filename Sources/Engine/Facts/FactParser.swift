import Foundation
import OrderedCollections
import PGHACore

/// Turns `FactScript` output into Ansible's fact names and shapes (without the `ansible_` prefix,
/// as they sit under `ansible_facts`).
enum FactParser {
    static func parse(_ output: String) -> OrderedDictionary<String, Value> {
        var scalars: [String: String] = [:]
        var sections: [String: [String]] = [:]
        var current: String?
        for rawLine in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasPrefix("@@") {
                current = String(line.dropFirst(2))
                sections[current!, default: []] = []
                continue
            }
            if let current {
                sections[current, default: []].append(line)
            } else if let eq = line.firstIndex(of: "=") {
                scalars[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
        }
        var facts = OrderedDictionary<String, Value>()
        let full = scalars["hostname_full"] ?? ""
        facts["hostname"] = .string(String(full.split(separator: ".").first ?? ""))
        facts["nodename"] = .string(full)
        let fqdn = scalars["fqdn"] ?? full
        facts["fqdn"] = .string(fqdn)
        facts["domain"] = .string(fqdn.contains(".") ? String(fqdn[fqdn.index(after: fqdn.firstIndex(of: ".")!)...]) : "")
        facts["system"] = .string(scalars["system"] ?? "Linux")
        facts["kernel"] = .string(scalars["kernel"] ?? "")
        facts["kernel_version"] = .string(scalars["kernel_version"] ?? "")
        facts["architecture"] = .string(scalars["machine"] ?? "")
        facts["machine"] = .string(scalars["machine"] ?? "")
        facts["machine_id"] = .string(scalars["machine_id"] ?? "")
        facts["user_id"] = .string(scalars["user_id"] ?? "")
        facts["user_uid"] = .int(Int(scalars["user_uid"] ?? "") ?? -1)
        facts["user_gid"] = .int(Int(scalars["user_gid"] ?? "") ?? -1)
        facts["user_dir"] = .string(scalars["user_dir"] ?? "")
        facts["user_shell"] = .string(scalars["user_shell"] ?? "")
        addDistribution(sections["os-release"] ?? [], debianVersion: scalars["debian_version"] ?? "", into: &facts)
        facts["service_mgr"] = .string(scalars["pid1"] == "systemd" ? "systemd" : (scalars["pid1"] ?? "service"))
        facts["pkg_mgr"] = .string(packageManager(scalars["pkg_tool"]))
        addVirtualization(scalars["virt"] ?? "none", container: scalars["virt_container"] ?? "none", into: &facts)
        addMemory(sections["meminfo"] ?? [], into: &facts)
        addProcessors(sections["cpuinfo"] ?? [], nproc: Int(scalars["nproc"] ?? "") ?? 1, into: &facts)
        addNetwork(
            addresses: sections["addr"] ?? [], links: sections["link"] ?? [], route4: sections["route4"] ?? [],
            route6: sections["route6"] ?? [], into: &facts)
        addMounts(sections["mounts"] ?? [], df: sections["df"] ?? [], into: &facts)
        addDateTime(scalars, into: &facts)
        if let uptime = Int(scalars["uptime"] ?? "") { facts["uptime_seconds"] = .int(uptime) }
        var env = OrderedDictionary<String, Value>()
        for line in sections["env"] ?? [] {
            if let eq = line.firstIndex(of: "=") { env[String(line[..<eq])] = .string(String(line[line.index(after: eq)...])) }
        }
        facts["env"] = .dict(env)
        facts["selinux"] = ["status": "disabled"]
        facts["gather_subset"] = ["all"]
        facts["module_setup"] = true
        return facts
    }

    private static func packageManager(_ tool: String?) -> String {
        switch tool {
        case "apt-get": return "apt"
        case "dnf": return "dnf"
        case "yum": return "yum"
        case "zypper": return "zypper"
        case "apk": return "apk"
        case "pacman": return "pacman"
        default: return "unknown"
        }
    }

    private static func addDistribution(_ lines: [String], debianVersion: String, into facts: inout OrderedDictionary<String, Value>) {
        var release: [String: String] = [:]
        for line in lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: eq)...])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            release[String(line[..<eq])] = value
        }
        let id = release["ID"] ?? "linux"
        let name = release["NAME"].map { $0.split(separator: " ").first.map(String.init) ?? $0 } ?? "Linux"
        facts["distribution"] = .string(id == "debian" ? "Debian" : id == "ubuntu" ? "Ubuntu" : name)
        var version = release["VERSION_ID"] ?? ""
        if id == "debian", !debianVersion.isEmpty, debianVersion.first?.isNumber == true { version = debianVersion }
        facts["distribution_version"] = .string(version)
        facts["distribution_major_version"] = .string(String(version.split(separator: ".").first ?? ""))
        if id == "debian" {
            let minor = version.split(separator: ".").dropFirst().first.map(String.init) ?? ""
            facts["distribution_minor_version"] = .string(minor)
        }
        facts["distribution_release"] = .string(release["VERSION_CODENAME"] ?? "")
        facts["distribution_file_variety"] = .string(id == "debian" || id == "ubuntu" ? "Debian" : name)
        let families = ["debian": "Debian", "ubuntu": "Debian", "rhel": "RedHat", "centos": "RedHat", "fedora": "RedHat",
            "rocky": "RedHat", "almalinux": "RedHat", "alpine": "Alpine", "arch": "Archlinux", "sles": "Suse", "opensuse-leap": "Suse"]
        facts["os_family"] = .string(families[id] ?? facts["distribution"]!.stringValue!)
    }

    private static func addVirtualization(_ virt: String, container: String, into facts: inout OrderedDictionary<String, Value>) {
        let names = ["systemd-nspawn": "systemd-nspawn", "lxc": "lxc", "docker": "docker", "podman": "podman",
            "kvm": "kvm", "qemu": "kvm", "vmware": "VMware", "oracle": "virtualbox", "xen": "xen", "microsoft": "VirtualPC"]
        if container != "none" {
            facts["virtualization_type"] = .string(names[container] ?? container)
            facts["virtualization_role"] = "guest"
        } else if virt != "none" {
            facts["virtualization_type"] = .string(names[virt] ?? virt)
            facts["virtualization_role"] = "guest"
        } else {
            facts["virtualization_type"] = "NA"
            facts["virtualization_role"] = "NA"
        }
    }

    private static func addMemory(_ lines: [String], into facts: inout OrderedDictionary<String, Value>) {
        var kb: [String: Int] = [:]
        for line in lines {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let value = Int(parts[1]) { kb[String(parts[0])] = value }
        }
        let total = (kb["MemTotal"] ?? 0) / 1024
        let free = (kb["MemFree"] ?? 0) / 1024
        facts["memtotal_mb"] = .int(total)
        facts["memfree_mb"] = .int(free)
        facts["swaptotal_mb"] = .int((kb["SwapTotal"] ?? 0) / 1024)
        facts["swapfree_mb"] = .int((kb["SwapFree"] ?? 0) / 1024)
        let buffers = (kb["Buffers"] ?? 0) / 1024
        let cached = (kb["Cached"] ?? 0) / 1024
        facts["memory_mb"] = [
            "real": ["total": .int(total), "free": .int(free), "used": .int(total - free)],
            "nocache": ["free": .int(free + buffers + cached), "used": .int(total - free - buffers - cached)],
            "swap": ["total": .int((kb["SwapTotal"] ?? 0) / 1024), "free": .int((kb["SwapFree"] ?? 0) / 1024),
                "used": .int(((kb["SwapTotal"] ?? 0) - (kb["SwapFree"] ?? 0)) / 1024), "cached": .int((kb["SwapCached"] ?? 0) / 1024)],
        ]
    }

    private static func addProcessors(_ lines: [String], nproc: Int, into facts: inout OrderedDictionary<String, Value>) {
        var processor: [Value] = []
        var physicalIDs = Set<String>()
        var cores = 0
        var siblings = 0
        var index = 0
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "processor": index = Int(parts[1]) ?? index
            case "model name":
                processor.append(.string(String(index)))
                processor.append(.string("GenuineIntel"))
                processor.append(.string(parts[1]))
            case "physical id": physicalIDs.insert(parts[1])
            case "cpu cores": cores = Int(parts[1]) ?? cores
            case "siblings": siblings = Int(parts[1]) ?? siblings
            default: break
            }
        }
        let sockets = max(1, physicalIDs.count)
        let coresPerSocket = max(1, cores)
        let threadsPerCore = siblings > 0 && cores > 0 ? max(1, siblings / cores) : 1
        facts["processor"] = .list(processor)
        facts["processor_count"] = .int(sockets)
        facts["processor_cores"] = .int(coresPerSocket)
        facts["processor_threads_per_core"] = .int(threadsPerCore)
        facts["processor_vcpus"] = .int(sockets * coresPerSocket * threadsPerCore)
        facts["processor_nproc"] = .int(nproc)
    }

    private static func addNetwork(
        addresses: [String], links: [String], route4: [String], route6: [String],
        into facts: inout OrderedDictionary<String, Value>
    ) {
        var interfaces: [String] = []
        var perInterface: OrderedDictionary<String, OrderedDictionary<String, Value>> = [:]
        for line in links {
            // "2: eth0@if5: <BROADCAST,...,UP,LOWER_UP> mtu 1500 ... link/ether aa:bb:.. brd ..."
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count > 2 else { continue }
            var name = fields[1].trimmingCharacters(in: CharacterSet(charactersIn: ":"))
            if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
            interfaces.append(name)
            var info: OrderedDictionary<String, Value> = ["device": .string(name)]
            info["active"] = .bool(fields[2].contains("UP") && !fields[2].contains("NO-CARRIER") || name == "lo")
            if let mtuIndex = fields.firstIndex(of: "mtu"), mtuIndex + 1 < fields.count, let mtu = Int(fields[mtuIndex + 1]) {
                info["mtu"] = .int(mtu)
            }
            if let linkIndex = fields.firstIndex(where: { $0.hasPrefix("link/") }) {
                let kind = String(fields[linkIndex].dropFirst(5))
                info["type"] = .string(kind == "loopback" ? "loopback" : kind == "ether" ? "ether" : kind)
                if kind == "ether", linkIndex + 1 < fields.count { info["macaddress"] = .string(fields[linkIndex + 1]) }
            }
            info["promisc"] = .bool(fields[2].contains("PROMISC"))
            perInterface[name] = info
        }
        var all4: [Value] = []
        var all6: [Value] = []
        for line in addresses {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count > 3 else { continue }
            let name = fields[1]
            let family = fields[2]
            let cidr = fields[3]
            let parts = cidr.split(separator: "/")
            guard parts.count == 2, let prefix = Int(parts[1]) else { continue }
            let address = String(parts[0])
            if family == "inet" {
                if name != "lo" { all4.append(.string(address)) }
                var entry: OrderedDictionary<String, Value> = [
                    "address": .string(address), "netmask": .string(netmask(prefix)),
                    "network": .string(network(address, prefix)), "prefix": .string(String(prefix)),
                ]
                if let brd = fields.firstIndex(of: "brd"), brd + 1 < fields.count { entry["broadcast"] = .string(fields[brd + 1]) }
                if perInterface[name]?["ipv4"] == nil { perInterface[name]?["ipv4"] = .dict(entry) }
            } else if family == "inet6" {
                if name != "lo" && !address.hasPrefix("fe80") { all6.append(.string(address)) }
                let scope = fields.firstIndex(of: "scope").map { fields[$0 + 1] } ?? "global"
                var list = perInterface[name]?["ipv6"]?.listValue ?? []
                list.append(["address": .string(address), "prefix": .string(String(prefix)), "scope": .string(scope == "global" ? "global" : scope)])
                perInterface[name]?["ipv6"] = .list(list)
            }
        }
        facts["interfaces"] = .list(interfaces.map(Value.string))
        for (name, info) in perInterface { facts[name.replacingOccurrences(of: "-", with: "_")] = .dict(info) }
        facts["all_ipv4_addresses"] = .list(all4)
        facts["all_ipv6_addresses"] = .list(all6)
        facts["default_ipv4"] = defaultRoute(route4, interfaces: perInterface, family: "ipv4")
        facts["default_ipv6"] = defaultRoute(route6, interfaces: perInterface, family: "ipv6")
    }

    private static func defaultRoute(
        _ lines: [String], interfaces: OrderedDictionary<String, OrderedDictionary<String, Value>>, family: String
    ) -> Value {
        guard let line = lines.first(where: { !$0.isEmpty }) else { return .emptyDict }
        let fields = line.split(separator: " ").map(String.init)
        guard let devIndex = fields.firstIndex(of: "dev"), devIndex + 1 < fields.count else { return .emptyDict }
        let device = fields[devIndex + 1]
        var route: OrderedDictionary<String, Value> = ["interface": .string(device)]
        if let via = fields.firstIndex(of: "via"), via + 1 < fields.count { route["gateway"] = .string(fields[via + 1]) }
        if let info = interfaces[device] {
            if family == "ipv4", case .dict(let ipv4) = info["ipv4"] ?? .null {
                for key in ["address", "broadcast", "netmask", "network", "prefix"] { if let v = ipv4[key] { route[key] = v } }
            } else if family == "ipv6", let first = info["ipv6"]?.listValue?.first(where: { $0["scope"] == "global" }),
                case .dict(let ipv6) = first
            {
                for (k, v) in ipv6 { route[k] = v }
            }
            for key in ["macaddress", "mtu", "type"] { if let v = info[key] { route[key] = v } }
        }
        route["alias"] = .string(device)
        return .dict(route)
    }

    private static func netmask(_ prefix: Int) -> String {
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        return [24, 16, 8, 0].map { String((mask >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    private static func network(_ address: String, _ prefix: Int) -> String {
        let octets = address.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4 else { return address }
        let value = octets.reduce(0) { ($0 << 8) | $1 }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        let net = value & mask
        return [24, 16, 8, 0].map { String((net >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    private static func addMounts(_ lines: [String], df: [String], into facts: inout OrderedDictionary<String, Value>) {
        var sizes: [String: (total: Int, available: Int)] = [:]
        for line in df.dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if f.count >= 6, let total = Int(f[1]), let available = Int(f[3]) { sizes[f[5]] = (total, available) }
        }
        let virtual: Set<String> = ["proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "pstore",
            "debugfs", "tracefs", "mqueue", "hugetlbfs", "configfs", "fusectl", "binfmt_misc", "autofs", "bpf", "rpc_pipefs", "nsfs"]
        var mounts: [Value] = []
        for line in lines {
            let f = line.split(separator: " ").map(String.init)
            guard f.count >= 4, !virtual.contains(f[2]), let size = sizes[f[1]] else { continue }
            mounts.append([
                "mount": .string(f[1]), "device": .string(f[0]), "fstype": .string(f[2]), "options": .string(f[3]),
                "size_total": .int(size.total), "size_available": .int(size.available),
            ])
        }
        facts["mounts"] = .list(mounts)
    }

    private static func addDateTime(_ scalars: [String: String], into facts: inout OrderedDictionary<String, Value>) {
        let f = (scalars["date_fields"] ?? "").split(separator: " ").map(String.init)
        let utc = (scalars["utc_fields"] ?? "").split(separator: " ").map(String.init)
        guard f.count >= 15 else { return }
        facts["date_time"] = [
            "year": .string(f[0]), "month": .string(f[1]), "day": .string(f[2]), "hour": .string(f[3]),
            "minute": .string(f[4]), "second": .string(f[5]), "tz": .string(f[6]), "tz_offset": .string(f[7]),
            "weekday": .string(f[9]), "weekday_number": .string(f[14]), "weeknumber": .string(f[13]),
            "monthname": .string(f[11]), "epoch": .string(scalars["epoch"] ?? ""),
            "date": .string("\(f[0])-\(f[1])-\(f[2])"), "time": .string("\(f[3]):\(f[4]):\(f[5])"),
            "iso8601": .string(utc.first ?? ""), "day_of_year": .string(f[12]),
        ]
    }
}
