// swift-tools-version:6.1
import PackageDescription

// Dependencies flow one way, top to bottom:
//   PGHACore (values, source locations, errors, YAML with marks)
//   Template (Jinja2)            Inventory            Transport (Connection protocol, local)
//   Playbook (plays/tasks/roles model + loader)       CLibSSH2 -> SSHTransport
//   ClusterCA (the controller's CA: make a CA, sign CSRs; swift-certificates)
//   Modules (one file per module, talk to hosts only through Transport.Connection)
//   Engine (variables, strategies, handlers, tags, check mode; emits events)
//   Output (human and JSON-lines views of engine events)        Lab (systemd-nspawn hosts)
//   pgha-play (thin CLI)
let package = Package(
    name: "pgha-play",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pgha-play", targets: ["pgha-play"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.0"),
    ],
    targets: [
        .target(
            name: "PGHACore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        .target(name: "Template", dependencies: ["PGHACore"]),
        .target(name: "Inventory", dependencies: ["PGHACore"]),
        .target(name: "Playbook", dependencies: ["PGHACore"]),
        .target(name: "Transport", dependencies: ["PGHACore"]),
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .target(name: "SSHTransport", dependencies: ["PGHACore", "Transport", "CLibSSH2"]),
        .target(
            name: "ClusterCA",
            dependencies: [
                "PGHACore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(name: "Modules", dependencies: ["PGHACore", "Transport", "ClusterCA"]),
        .target(
            name: "Engine",
            dependencies: ["PGHACore", "Template", "Inventory", "Playbook", "Transport", "SSHTransport", "Modules"]
        ),
        .target(name: "Output", dependencies: ["PGHACore", "Engine"]),
        .target(name: "Lab", dependencies: ["PGHACore", "ClusterCA"]),
        .executableTarget(
            name: "pgha-play",
            dependencies: [
                "PGHACore", "Engine", "Output", "Lab", "ClusterCA",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "PGHACoreTests", dependencies: ["PGHACore"]),
        .testTarget(name: "TemplateTests", dependencies: ["Template"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory"]),
        .testTarget(name: "PlaybookTests", dependencies: ["Playbook"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport"]),
        .testTarget(name: "SSHTransportTests", dependencies: ["SSHTransport"]),
        .testTarget(name: "ClusterCATests", dependencies: ["ClusterCA"]),
        .testTarget(name: "ModulesTests", dependencies: ["Modules", "Transport", "SSHTransport", "ClusterCA"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "OutputTests", dependencies: ["Output"]),
        .testTarget(name: "LabTests", dependencies: ["Lab"]),
        .testTarget(name: "IntegrationTests", dependencies: ["PGHACore", "pgha-play"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
