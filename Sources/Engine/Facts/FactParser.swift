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
                let tag = String(line.dropFirst(2))
                // `@@end` closes a block: key=value lines may follow it.
                current = tag == "end" ? nil : tag
                if tag != "end" { sections[tag, default: []] = [] }
                continue
            }
            if let current {
                sections[current, default: []].append(line)
            } else if let eq = line.firstIndex(of: "=") {
                scalars[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
        }
        let interfaceOrder = regroup(&scalars, &sections)
        var facts = OrderedDictionary<String, Value>()
        // platform.node(), split like Ansible's hostname fact; fqdn as socket.getfqdn() picks it:
        // the first of the reverse lookup's names that contains a dot, else its canonical name.
        let node = scalars["nodename"] ?? ""
        facts["hostname"] = .string(String(node.split(separator: ".", omittingEmptySubsequences: false).first ?? ""))
        facts["nodename"] = .string(node)
        let names = (scalars["fqdn_names"] ?? "").split(separator: " ").map(String.init)
        let fqdn = names.first(where: { $0.contains(".") }) ?? names.first ?? node
        facts["fqdn"] = .string(fqdn)
        facts["domain"] = .string(fqdn.contains(".") ? String(fqdn[fqdn.index(after: fqdn.firstIndex(of: ".")!)...]) : "")
        facts["system"] = .string(scalars["system"] ?? "Linux")
        facts["kernel"] = .string(scalars["kernel"] ?? "")
        facts["kernel_version"] = .string(scalars["kernel_version"] ?? "")
        facts["architecture"] = .string(scalars["machine"] ?? "")
        facts["machine"] = .string(scalars["machine"] ?? "")
        facts["machine_id"] = .string(scalars["machine_id"] ?? "")
        addUser(scalars, into: &facts)
        addDistribution(sections["os-release"] ?? [], debianVersion: scalars["debian_version"] ?? "", into: &facts)
        facts["service_mgr"] = .string(serviceManager(pid1: scalars["pid1"], systemdBooted: scalars["systemd_booted"] == "1"))
        facts["pkg_mgr"] = .string(packageManager(scalars["pkg_tool"]))
        addVirtualization(scalars, proc1: sections["proc1"] ?? [], into: &facts)
        addMemory(sections["meminfo"] ?? [], into: &facts)
        addProcessors(
            sections["cpuinfo"] ?? [], architecture: scalars["machine"] ?? "", nproc: Int(scalars["nproc"] ?? ""),
            into: &facts)
        addNetwork(
            interfaces: interfaceOrder.map { ($0, sections["if " + $0] ?? []) }, route4: sections["route4"] ?? [],
            route6: sections["route6"] ?? [], into: &facts)
        addMounts(sections["mounts"] ?? [], bind: Set(sections["bind"] ?? []), lsblk: sections["lsblk"] ?? [], into: &facts)
        addDateTime(scalars, into: &facts)
        if let uptime = Int(scalars["uptime"] ?? "") { facts["uptime_seconds"] = .int(uptime) }
        var env = OrderedDictionary<String, Value>()
        for line in sections["env"] ?? [] {
            if let eq = line.firstIndex(of: "=") { env[String(line[..<eq])] = .string(String(line[line.index(after: eq)...])) }
        }
        facts["env"] = .dict(env)
        facts["selinux"] = ["status": "disabled"]
        addHostFacts(scalars, sections, into: &facts)
        facts["gather_subset"] = ["all"]
        facts["module_setup"] = true
        return facts
    }

    /// The script reads files, addresses and mount sizes in one program each; this files their
    /// lines where each collector looks for them: scalars, one section per file kind, one per
    /// interface (sysfs values and its primary `P` and secondary `S` address lines), and mount
    /// lines with their statvfs numbers. Returns the interfaces in sysfs order.
    static func regroup(_ scalars: inout [String: String], _ sections: inout [String: [String]]) -> [String] {
        var files: [String: [String]] = [:]
        for line in sections["files"] ?? [] {
            // grep -H: "path:line"; no path read here contains a colon.
            guard let colon = line.firstIndex(of: ":") else { continue }
            files[String(line[..<colon]), default: []].append(String(line[line.index(after: colon)...]))
        }
        func first(_ path: String) -> String? { files[path]?.first }
        if let value = first("/proc/sys/kernel/osrelease") { scalars["kernel"] = value }
        if let value = first("/proc/sys/kernel/version") { scalars["kernel_version"] = value }
        scalars["system"] = first("/proc/sys/kernel/ostype") ?? "Linux"
        if let value = first("/proc/1/comm") { scalars["pid1"] = value }
        scalars["machine_id"] = first("/etc/machine-id") ?? ""
        scalars["debian_version"] = first("/etc/debian_version") ?? ""
        scalars["systemd_container"] = first("/run/systemd/container") ?? scalars["systemd_container"] ?? ""
        if let uptime = first("/proc/uptime") {
            scalars["uptime"] = String(uptime.prefix { $0 != "." && $0 != " " })
        }
        // os.sched_getaffinity, as Ansible counts processor_nproc.
        if let allowed = files["/proc/self/status"]?.first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            let list = allowed.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
            var count = 0
            for range in list.split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 2 { count += bounds[1] - bounds[0] + 1 } else if bounds.count == 1 { count += 1 }
            }
            if count > 0 { scalars["nproc"] = String(count) }
        }
        // systemd-detect-virt names a container before a VM; it runs only without /run/systemd/container.
        let containers: Set<String> = [
            "openvz", "lxc", "lxc-libvirt", "systemd-nspawn", "docker", "podman", "rkt", "wsl", "proot", "pouch",
        ]
        let virt = scalars["virt"] ?? "none"
        scalars["virt_container"] = containers.contains(virt) ? virt : "none"
        sections["os-release"] = files["/etc/os-release"] ?? []
        sections["meminfo"] = files["/proc/meminfo"] ?? []
        sections["cpuinfo"] = files["/proc/cpuinfo"] ?? []

        let dates = (sections["date"] ?? []).map { $0.split(separator: " ").map(String.init) }
        if let now = dates.first, now.count >= 13, let epoch = Int(now[11]) {
            scalars["date_local"] = now.joined(separator: " ")
            var seconds = time_t(epoch)
            var utc = tm()
            gmtime_r(&seconds, &utc)
            scalars["date_utc"] = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(utc.tm_year) + 1900, Int(utc.tm_mon) + 1,
                Int(utc.tm_mday), Int(utc.tm_hour), Int(utc.tm_min), Int(utc.tm_sec))
        }
        for (key, index) in [("tz_jan", 1), ("tz_jul", 2)] where dates.count > index && dates[index].count >= 11 {
            scalars[key] = "\(dates[index][10]) \(dates[index][9])"
        }

        let interfaces = (sections["ifaces"] ?? []).filter { !$0.isEmpty }
        for name in interfaces {
            var lines: [String] = []
            let base = "/sys/class/net/\(name)/"
            for key in ["address", "mtu", "operstate", "type", "flags", "speed"] {
                if let value = first(base + key) { lines.append("\(key)=\(value)") }
            }
            for key in ["bridge_id", "stp_state"] {
                if let value = first(base + "bridge/" + key) { lines.append("\(key)=\(value)") }
            }
            for line in sections["ifextra"] ?? [] where line.hasPrefix(name + " ") {
                lines.append(String(line.dropFirst(name.count + 1)))
            }
            sections["if " + name] = lines
        }
        // `ip -o addr show`: "N: name    family address ... label\    lifetimes". A secondary IPv4
        // address says "secondary", a temporary IPv6 one "temporary" (the same kernel flag, which
        // `ip addr show secondary` selects); primary lines go first, as two calls would list them.
        var primary: [String: [String]] = [:]
        var secondary: [String: [String]] = [:]
        for line in sections["ipaddr"] ?? [] {
            let address = line.split(separator: "\\", maxSplits: 1).first.map(String.init) ?? line
            let words = address.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count > 2 else { continue }
            let device = words[1]
            let rest = words.dropFirst(2).joined(separator: " ")
            if words.contains("secondary") || words.contains("temporary") {
                secondary[device, default: []].append("S " + rest)
            } else {
                primary[device, default: []].append("P " + rest)
            }
        }
        for name in interfaces {
            sections["if " + name, default: []] += (primary[name] ?? []) + (secondary[name] ?? [])
        }
        sections["bind"] = (sections["bind"] ?? []).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count > 1 && fields[1].contains("]") ? String(fields[0]) : nil
        }
        var sizes: [String: String] = [:]
        for line in sections["statfs"] ?? [] {
            guard let bar = line.firstIndex(of: "|") else { continue }
            sizes[String(line[line.index(after: bar)...])] = String(line[..<bar])
        }
        sections["mounts"] = (sections["mounts"] ?? []).map { line in
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { return line }
            return line + "|" + (sizes[unescapeOctal(String(fields[1]))] ?? "")
        }
        return interfaces
    }

    /// getpass.getuser() plus the passwd entry, as Ansible's user collector reads them.
    private static func addUser(_ scalars: [String: String], into facts: inout OrderedDictionary<String, Value>) {
        facts["user_id"] = .string(scalars["user_id"] ?? "")
        let pw = (scalars["user_pw"] ?? "").split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard pw.count >= 7 else { return }
        facts["user_uid"] = .int(Int(pw[2]) ?? -1)
        facts["user_gid"] = .int(Int(pw[3]) ?? -1)
        facts["user_gecos"] = .string(pw[4])
        facts["user_dir"] = .string(pw[5])
        facts["user_shell"] = .string(pw[6])
    }

    private static func serviceManager(pid1: String?, systemdBooted: Bool) -> String {
        if systemdBooted { return "systemd" }
        switch pid1 {
        case "systemd": return "systemd"
        case "init", nil, "": return "sysvinit"
        case "openrc-init", "openrc": return "openrc"
        case let other?: return other
        }
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

    /// In Ansible's order: PID 1's cgroups (docker, lxc, containerd), then its environment (readable
    /// by root only: `container=` makes it lxc, podman, or plain `container`, as under nspawn), then
    /// /run/systemd/container, then what systemd-detect-virt says.
    private static func addVirtualization(
        _ scalars: [String: String], proc1: [String], into facts: inout OrderedDictionary<String, Value>
    ) {
        let names = ["systemd-nspawn": "systemd-nspawn", "lxc": "lxc", "docker": "docker", "podman": "podman",
            "kvm": "kvm", "qemu": "kvm", "vmware": "VMware", "oracle": "virtualbox", "xen": "xen", "microsoft": "VirtualPC"]
        let container = scalars["virt_container"] ?? "none"
        let virt = scalars["virt"] ?? "none"
        let cgroups = proc1.filter { $0.hasPrefix("cgroup ") }.map { String($0.dropFirst(7)) }
        let environment = proc1.filter { $0.hasPrefix("environ ") }.map { String($0.dropFirst(8)) }
        var fromPID1: String?
        for line in cgroups where fromPID1 == nil {
            if line.range(of: #"/docker(/|-[0-9a-f]+\.scope)"#, options: .regularExpression) != nil { fromPID1 = "docker" }
            else if line.contains("/lxc/") || line.contains("/machine.slice/machine-lxc") { fromPID1 = "lxc" }
            else if line.contains("/system.slice/containerd.service") { fromPID1 = "containerd" }
        }
        for line in environment where fromPID1 == nil {
            if line.contains("container=lxc") { fromPID1 = "lxc" }
            else if line.contains("container=podman") { fromPID1 = "podman" }
            else if line.count > "container=".count { fromPID1 = "container" }
        }
        if let fromPID1 {
            facts["virtualization_type"] = .string(fromPID1)
            facts["virtualization_role"] = "guest"
        } else if let systemd = scalars["systemd_container"], !systemd.isEmpty {
            // Ansible trusts /run/systemd/container (written by nspawn and podman) verbatim.
            facts["virtualization_type"] = .string(systemd)
            facts["virtualization_role"] = "guest"
        } else if container != "none" {
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
        // Each value is floored to MB before any arithmetic, as Ansible does.
        var mb: [String: Int] = [:]
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2,
                let value = Int(parts[1].trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
            else { continue }
            mb[String(parts[0])] = value / 1024
        }
        let total = mb["MemTotal"] ?? 0
        let free = mb["MemFree"] ?? 0
        let swapTotal = mb["SwapTotal"] ?? 0
        let swapFree = mb["SwapFree"] ?? 0
        facts["memtotal_mb"] = .int(total)
        facts["memfree_mb"] = .int(free)
        facts["swaptotal_mb"] = .int(swapTotal)
        facts["swapfree_mb"] = .int(swapFree)
        let nocacheFree = (mb["Cached"] ?? 0) + free + (mb["Buffers"] ?? 0)
        facts["memory_mb"] = [
            "real": ["total": .int(total), "used": .int(total - free), "free": .int(free)],
            "nocache": ["free": .int(nocacheFree), "used": .int(total - nocacheFree)],
            "swap": ["total": .int(swapTotal), "free": .int(swapFree), "used": .int(swapTotal - swapFree),
                "cached": .int(mb["SwapCached"] ?? 0)],
        ]
    }

    /// A port of ansible-core's LinuxHardware.get_cpu_facts for the non-Xen, non-s390x case.
    private static func addProcessors(
        _ lines: [String], architecture: String, nproc: Int?, into facts: inout OrderedDictionary<String, Value>
    ) {
        var processor: [Value] = []
        var count = 0
        var vendorIDs = 0
        var modelNames = 0
        var processorLines = 0
        var physicalID = "0"
        var coreID = "0"
        // Python dicts keep insertion order and Ansible reads their first values.
        var sockets: OrderedDictionary<String, Int> = [:]
        var cores: OrderedDictionary<String, Int> = [:]
        var flags: [Value]?
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            switch key {
            case "flags":
                flags = value.split(separator: " ").map { .string(String($0)) }
            case "model name", "Processor", "vendor_id", "cpu", "Vendor", "processor":
                processor.append(.string(value))
                if key == "vendor_id" { vendorIDs += 1 }
                if key == "model name" { modelNames += 1 }
                if key == "processor" { processorLines += 1 }
                count += 1
            case "physical id":
                physicalID = value
                if sockets[value] == nil { sockets[value] = 1 }
            case "core id":
                coreID = value
                // Ansible tests the core id against `sockets` here, not `cores`; kept for parity.
                if sockets[value] == nil { cores[value] = 1 }
            case "cpu cores":
                sockets[physicalID] = Int(value) ?? 0
            case "siblings":
                cores[coreID] = Int(value) ?? 0
            default: break
            }
        }
        if vendorIDs > 0, vendorIDs == modelNames { count = vendorIDs }
        if ["armv", "aarch", "ppc"].contains(where: architecture.hasPrefix) { count = processorLines }
        let processorCount = sockets.isEmpty ? count : sockets.count
        let coresPerSocket = (sockets.values.first ?? 0) != 0 ? sockets.values.first! : 1
        let threads: Int
        if let first = cores.values.first {
            threads = Int((Double(first) / Double(coresPerSocket)).rounded(.toNearestOrEven))
        } else {
            threads = Int((1.0 / Double(coresPerSocket)).rounded(.toNearestOrEven))
        }
        facts["processor"] = .list(processor)
        if let flags { facts["flags"] = .list(flags) }
        facts["processor_count"] = .int(processorCount)
        facts["processor_cores"] = .int(coresPerSocket)
        facts["processor_threads_per_core"] = .int(threads)
        facts["processor_vcpus"] = .int(threads * processorCount * coresPerSocket)
        facts["processor_nproc"] = .int(nproc ?? processorLines)
    }

    /// sysfs type numbers Ansible names.
    private static let interfaceTypes = ["1": "ether", "32": "infiniband", "512": "ppp", "772": "loopback", "65534": "tunnel"]

    /// A port of ansible-core's LinuxNetwork: interfaces from sysfs, addresses from
    /// `ip addr show primary|secondary dev X`, the default route from `ip route get`.
    private static func addNetwork(
        interfaces: [(name: String, lines: [String])], route4: [String], route6: [String],
        into facts: inout OrderedDictionary<String, Value>
    ) {
        var default4 = routeGet(route4, destination: "8.8.8.8")
        var default6 = routeGet(route6, destination: "2404:6800:400a:800::1012")
        var perInterface: OrderedDictionary<String, OrderedDictionary<String, Value>> = [:]
        var all4: [Value] = []
        var all6: [Value] = []
        // Ansible's loop leaves `macaddress` from the last interface that had one.
        var macaddress: Value = .null
        for (device, lines) in interfaces {
            var info: OrderedDictionary<String, Value> = ["device": .string(device)]
            var files: [String: String] = [:]
            for line in lines where !line.hasPrefix("P ") && !line.hasPrefix("S ") {
                if let eq = line.firstIndex(of: "=") { files[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
            }
            if let mac = files["address"], !mac.isEmpty, mac != "00:00:00:00:00:00" {
                info["macaddress"] = .string(mac)
                macaddress = .string(mac)
            }
            if let mtu = files["mtu"].flatMap({ Int($0) }) { info["mtu"] = .int(mtu) }
            if let state = files["operstate"] { info["active"] = .bool(state != "down") }
            if let module = files["module"] { info["module"] = .string(module) }
            if let type = files["type"] { info["type"] = .string(interfaceTypes[type] ?? "unknown") }
            if files["bridge_id"] != nil || files["stp_state"] != nil || files["brif"] != nil {
                info["type"] = "bridge"
                info["interfaces"] = .list((files["brif"] ?? "").split(separator: " ").map { .string(String($0)) })
                if let id = files["bridge_id"] { info["id"] = .string(id) }
                if let stp = files["stp_state"] { info["stp"] = .bool(stp == "1") }
            }
            if let pciid = files["pciid"] { info["pciid"] = .string(pciid) }
            if let speed = files["speed"].flatMap({ Int($0) }) { info["speed"] = .int(speed) }
            if let flags = files["flags"], let bits = Int(flags.dropFirst(flags.hasPrefix("0x") ? 2 : 0), radix: 16) {
                info["promisc"] = .bool(bits & 0x0100 != 0)
            }
            perInterface[device] = info
            for secondary in [false, true] {
                for line in lines where line.hasPrefix(secondary ? "S " : "P ") {
                    let words = line.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                    guard let first = words.first else { continue }
                    if first == "inet", words.count > 1 {
                        let address: String
                        let prefix: String
                        var broadcast = ""
                        if words[1].contains("/") {
                            let split = words[1].split(separator: "/", maxSplits: 1).map(String.init)
                            address = split[0]
                            prefix = split.count > 1 ? split[1] : "32"
                            if words.count > 3, words[2] == "brd" { broadcast = words[3] }
                        } else {
                            address = words[1]
                            prefix = "32"
                        }
                        let length = Int(prefix) ?? 32
                        let entry: OrderedDictionary<String, Value> = [
                            "address": .string(address), "broadcast": .string(broadcast),
                            "netmask": .string(netmask(length)), "network": .string(network(address, length)),
                            "prefix": .string(prefix),
                        ]
                        let label = words.last!
                        if label != device { perInterface[label] = [:] }
                        if !secondary && perInterface[label]?["ipv4"] == nil {
                            perInterface[label]?["ipv4"] = .dict(entry)
                        } else {
                            var list = perInterface[label]?["ipv4_secondaries"]?.listValue ?? []
                            list.append(.dict(entry))
                            perInterface[label]?["ipv4_secondaries"] = .list(list)
                        }
                        if secondary {
                            var list = perInterface[device]?["ipv4_secondaries"]?.listValue ?? []
                            if device != label { list.append(.dict(entry)) }
                            perInterface[device]?["ipv4_secondaries"] = .list(list)
                        }
                        if default4["address"] == .string(address) {
                            default4["broadcast"] = .string(broadcast)
                            default4["netmask"] = entry["netmask"]
                            default4["network"] = entry["network"]
                            default4["prefix"] = .string(prefix)
                            default4["macaddress"] = macaddress
                            default4["mtu"] = perInterface[device]?["mtu"] ?? .null
                            default4["type"] = perInterface[device]?["type"] ?? "unknown"
                            default4["alias"] = .string(label)
                        }
                        if !address.hasPrefix("127.") { all4.append(.string(address)) }
                    } else if first == "inet6", words.count > 3 {
                        let address: String
                        let prefix: String
                        let scope: String
                        if words[2] == "peer", words.count > 5 {
                            address = words[1]
                            prefix = String(words[3].split(separator: "/").last ?? "")
                            scope = words[5]
                        } else {
                            let split = words[1].split(separator: "/", maxSplits: 1).map(String.init)
                            address = split[0]
                            prefix = split.count > 1 ? split[1] : ""
                            scope = words[3]
                        }
                        var list = perInterface[device]?["ipv6"]?.listValue ?? []
                        list.append(["address": .string(address), "prefix": .string(prefix), "scope": .string(scope)])
                        perInterface[device]?["ipv6"] = .list(list)
                        if default6["address"] == .string(address) {
                            default6["prefix"] = .string(prefix)
                            default6["scope"] = .string(scope)
                            default6["macaddress"] = macaddress
                            default6["mtu"] = perInterface[device]?["mtu"] ?? .null
                            default6["type"] = perInterface[device]?["type"] ?? "unknown"
                        }
                        if address != "::1" { all6.append(.string(address)) }
                    }
                }
            }
        }
        var names: [Value] = []
        for (name, info) in perInterface {
            let key = name.replacingOccurrences(of: ":", with: "_")
            names.append(.string(key))
            // Ansible's fact namespace turns dashes into underscores in fact names.
            facts[key.replacingOccurrences(of: "-", with: "_")] = .dict(info)
        }
        facts["interfaces"] = .list(names)
        facts["default_ipv4"] = .dict(default4)
        facts["default_ipv6"] = .dict(default6)
        facts["all_ipv4_addresses"] = .list(all4)
        facts["all_ipv6_addresses"] = .list(all6)
    }

    /// interface, address and gateway from the first line of `ip route get DEST`, when it
    /// starts with DEST (an unreachable destination prints nothing on stdout).
    private static func routeGet(_ lines: [String], destination: String) -> OrderedDictionary<String, Value> {
        var route: OrderedDictionary<String, Value> = [:]
        guard let line = lines.first else { return route }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.first == destination else { return route }
        for i in 0..<(words.count - 1) {
            switch words[i] {
            case "dev": route["interface"] = .string(words[i + 1])
            case "src": route["address"] = .string(words[i + 1])
            case "via" where words[i + 1] != destination: route["gateway"] = .string(words[i + 1])
            default: break
            }
        }
        return route
    }

    private static func netmask(_ prefix: Int) -> String {
        let mask: UInt32 = prefix <= 0 ? 0 : prefix >= 32 ? ~0 : ~UInt32(0) << UInt32(32 - prefix)
        return [24, 16, 8, 0].map { String((mask >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    private static func network(_ address: String, _ prefix: Int) -> String {
        let octets = address.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4 else { return address }
        let value = octets.reduce(0) { ($0 << 8) | $1 }
        let mask: UInt32 = prefix <= 0 ? 0 : prefix >= 32 ? ~0 : ~UInt32(0) << UInt32(32 - prefix)
        let net = value & mask
        return [24, 16, 8, 0].map { String((net >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    /// Ansible's `\NNN` octal unescaping of mtab fields.
    private static func unescapeOctal(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var result = ""
        var chars = Array(field)[...]
        while let c = chars.first {
            if c == "\\", chars.count >= 4, chars.dropFirst().prefix(3).allSatisfy({ $0.isASCII && $0.isNumber }),
                let code = Int(String(chars.dropFirst().prefix(3)), radix: 8), let scalar = Unicode.Scalar(code)
            {
                result.append(Character(scalar))
                chars = chars.dropFirst(4)
            } else {
                result.append(c)
                chars = chars.dropFirst()
            }
        }
        return result
    }

    /// A port of ansible-core's get_mount_facts: mtab entries whose device is a path (or a
    /// network `host:/path`), one per mount point (the last entry wins), `,bind` added for
    /// findmnt's bind mounts, sizes from statvfs.
    private static func addMounts(
        _ lines: [String], bind: Set<String>, lsblk: [String], into facts: inout OrderedDictionary<String, Value>
    ) {
        var uuids: [String: String] = [:]
        for line in lsblk {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if f.count == 2 { uuids[f[0]] = f[1] }
        }
        var mounts: OrderedDictionary<String, Value> = [:]
        for line in lines {
            let halves = line.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let f = halves[0].split(separator: " ").map { unescapeOctal(String($0)) }
            guard f.count >= 6 else { continue }
            var options = f[3]
            if bind.contains(f[1]) && !(options.contains("bind") && options.contains("\"")) { options += ",bind" }
            var info: OrderedDictionary<String, Value> = [
                "mount": .string(f[1]), "device": .string(f[0]), "fstype": .string(f[2]), "options": .string(options),
                "dump": .int(Int(f[4]) ?? 0), "passno": .int(Int(f[5]) ?? 0),
            ]
            let stat = halves.count > 1 ? halves[1].split(separator: " ").compactMap { Int($0) } : []
            if stat.count == 6 {
                let (fragment, blockSize, blocks, available, files, free) = (stat[0], stat[1], stat[2], stat[3], stat[4], stat[5])
                info["size_total"] = .int(fragment * blocks)
                info["size_available"] = .int(fragment * available)
                info["block_size"] = .int(blockSize)
                info["block_total"] = .int(blocks)
                info["block_available"] = .int(available)
                info["block_used"] = .int(blocks - available)
                info["inode_total"] = .int(files)
                info["inode_available"] = .int(free)
                info["inode_used"] = .int(files - free)
            }
            info["uuid"] = .string(uuids[f[0]] ?? "N/A")
            mounts[f[1]] = .dict(info)
        }
        facts["mounts"] = .list(Array(mounts.values))
    }

    /// The date_time keys of Ansible's collector, from one `date` reading.
    private static func addDateTime(_ scalars: [String: String], into facts: inout OrderedDictionary<String, Value>) {
        // Y m A w W d H M S Z z epoch nanoseconds
        let f = (scalars["date_local"] ?? "").split(separator: " ").map(String.init)
        guard f.count >= 13, let utc = scalars["date_utc"] else { return }
        let micro = String(f[12].prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)
        // Python's time.tzname[1]: July's zone name unless January has the larger UTC offset
        // (a southern-hemisphere summer).
        let jan = (scalars["tz_jan"] ?? "").split(separator: " ").map(String.init)
        let jul = (scalars["tz_jul"] ?? "").split(separator: " ").map(String.init)
        var dst = f[9]
        if jan.count == 2, jul.count == 2 {
            dst = (Int(jan[0]) ?? 0) > (Int(jul[0]) ?? 0) ? jan[1] : jul[1]
        }
        facts["date_time"] = [
            "year": .string(f[0]), "month": .string(f[1]), "weekday": .string(f[2]), "weekday_number": .string(f[3]),
            "weeknumber": .string(f[4]), "day": .string(f[5]), "hour": .string(f[6]), "minute": .string(f[7]),
            "second": .string(f[8]), "epoch": .string(f[11]), "epoch_int": .string(f[11]),
            "date": .string("\(f[0])-\(f[1])-\(f[5])"), "time": .string("\(f[6]):\(f[7]):\(f[8])"),
            "iso8601_micro": .string("\(utc).\(micro)Z"), "iso8601": .string("\(utc)Z"),
            "iso8601_basic": .string("\(f[0])\(f[1])\(f[5])T\(f[6])\(f[7])\(f[8])\(micro)"),
            "iso8601_basic_short": .string("\(f[0])\(f[1])\(f[5])T\(f[6])\(f[7])\(f[8])"),
            "tz": .string(f[9]), "tz_dst": .string(dst), "tz_offset": .string(f[10]),
        ]
    }
}
