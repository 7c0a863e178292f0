// swift-tools-version:6.1
import PackageDescription

// Dependencies flow one way, top to bottom:
//   BuiltinContent (roles/ and playbooks/, compiled in at build time by the EmbedBuiltinContent plugin)
//   PGHACore (values, source locations, errors, YAML with marks, controller files on disk or built in)
//   Vault (ansible-vault's format and cipher; decrypting YAML as it is loaded)
//   Declarations (each action's names, arguments, documentation; the catalog the loader reads)
//   Template (Jinja2)            Inventory            Transport (Connection protocol, local)
//   Playbook (plays/tasks/roles model + loader)       CLibSSH2 -> SSHTransport
//   ClusterCA (the controller's CA: make a CA, sign CSRs; swift-certificates)
//   Modules (one file per module, talk to hosts only through Transport.Connection)
//   Engine (variables, strategies, handlers, tags, check mode; emits events)
//   Output (human and JSON-lines views of engine events)        Lab (systemd-nspawn hosts)
//   ProjectSetup (`init`'s inventory directory, the built-in roles and playbooks described and exported)
//   ClusterStatus (`pgha-play status`: the cluster read over the engine's inventory and SSH)
//   pgha-play (thin CLI; the StampBuildInfo plugin gives it the git commit for --version)
let package = Package(
    name: "pgha-play",
    // macOS 15: the engine's few shared caches use the standard library's Mutex and Atomic.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pgha-play", targets: ["pgha-play"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        // AES-CTR and PBKDF2 (_CryptoExtras) for ansible-vault's format; 3.12.3 and 4.x both have them.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.0"),
    ],
    targets: [
        // roles/ and playbooks/ stay the one source: a build-time generator turns them into a Swift
        // table in BuiltinContent (nothing generated is committed).
        .executableTarget(name: "BuiltinContentGenerator"),
        .plugin(name: "EmbedBuiltinContent", capability: .buildTool(), dependencies: ["BuiltinContentGenerator"]),
        .plugin(name: "StampBuildInfo", capability: .buildTool(), dependencies: ["BuiltinContentGenerator"]),
        .target(name: "BuiltinContent", plugins: ["EmbedBuiltinContent"]),
        .target(
            name: "PGHACore",
            dependencies: [
                "BuiltinContent",
                .product(name: "Yams", package: "Yams"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Vault",
            dependencies: [
                "PGHACore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(name: "Template", dependencies: ["PGHACore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Inventory", dependencies: ["PGHACore", "Vault"]),
        .target(
            name: "Declarations",
            dependencies: ["PGHACore", .product(name: "OrderedCollections", package: "swift-collections")]),
        .target(name: "Playbook", dependencies: ["PGHACore", "Declarations", "Vault"]),
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
        .target(name: "Modules", dependencies: ["PGHACore", "Declarations", "Transport", "ClusterCA"]),
        .target(
            name: "Engine",
            dependencies: [
                "PGHACore", "Vault", "Declarations", "Template", "Inventory", "Playbook", "Transport", "SSHTransport",
                "Modules",
            ]
        ),
        .target(name: "Output", dependencies: ["PGHACore", "Engine"]),
        .target(name: "Lab", dependencies: ["PGHACore", "ClusterCA"]),
        .target(name: "ProjectSetup", dependencies: ["PGHACore", "Vault", "ClusterCA"]),
        .target(
            name: "ClusterStatus",
            dependencies: ["PGHACore", "Engine", "Transport", .product(name: "OrderedCollections", package: "swift-collections")]
        ),
        .executableTarget(
            name: "pgha-play",
            dependencies: [
                "PGHACore", "Vault", "Declarations", "Engine", "Output", "Lab", "ProjectSetup", "ClusterStatus", "ClusterCA",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["StampBuildInfo"]
        ),

        .testTarget(name: "PGHACoreTests", dependencies: ["PGHACore"]),
        .testTarget(name: "VaultTests", dependencies: ["Vault"]),
        .testTarget(name: "TemplateTests", dependencies: ["Template"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory", "Vault"]),
        // The loader's tests read the real action catalog, as the loader does in a run.
        .testTarget(name: "PlaybookTests", dependencies: ["Playbook", "Engine"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport"]),
        .testTarget(name: "SSHTransportTests", dependencies: ["SSHTransport"]),
        .testTarget(name: "ClusterCATests", dependencies: ["ClusterCA"]),
        .testTarget(name: "ModulesTests", dependencies: ["Modules", "Transport", "SSHTransport", "ClusterCA"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "OutputTests", dependencies: ["Output"]),
        .testTarget(name: "LabTests", dependencies: ["Lab"]),
        .testTarget(name: "ProjectSetupTests", dependencies: ["ProjectSetup", "Engine", "Vault", "ClusterCA"]),
        .testTarget(name: "ClusterStatusTests", dependencies: ["ClusterStatus"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IntegrationTests", dependencies: ["PGHACore", "Vault", "pgha-play"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz builds them with PGHA_FUZZ=1 and `--sanitize=fuzzer`, which
// supplies main(); `-parse-as-library` keeps Swift from generating one). A plain `swift build` or
// `swift test` never sees them.
if Context.environment["PGHA_FUZZ"] == "1" {
    let fuzzers: [(name: String, dependencies: [Target.Dependency])] = [
        ("YAMLFuzzer", ["PGHACore"]),
        ("JinjaLexerFuzzer", ["Template"]),
        ("JinjaParserFuzzer", ["PGHACore", "Template"]),
        ("JinjaRenderFuzzer", ["PGHACore", "Template", .product(name: "OrderedCollections", package: "swift-collections")]),
        ("INIInventoryFuzzer", ["PGHACore", "Inventory"]),
        ("YAMLInventoryFuzzer", ["PGHACore", "Inventory"]),
        ("HostPatternFuzzer", ["PGHACore", "Inventory"]),
        ("VaultFuzzer", ["PGHACore", "Vault"]),
    ]
    // libFuzzer's main would clash with the generator the EmbedBuiltinContent plugin builds and
    // runs, and the fuzzers need no built-in roles: BuiltinContent is built with an empty table.
    if let builtinContent = package.targets.first(where: { $0.name == "BuiltinContent" }) {
        builtinContent.plugins = []
        builtinContent.swiftSettings = [.define("PGHA_NO_EMBEDDED_CONTENT")]
    }
    // The package is cut down to the fuzzers and the modules they use, so that one `swift build`
    // builds them all: building them one `--product` at a time recompiled the shared modules at
    // each switch (29 minutes in a CI run instead of about 10).
    let fuzzedModules: Set<String> = ["BuiltinContent", "PGHACore", "Vault", "Template", "Inventory"]
    package.targets.removeAll { !fuzzedModules.contains($0.name) }
    package.products.removeAll()
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for fuzzer in fuzzers {
        package.targets.append(
            .executableTarget(
                name: fuzzer.name, dependencies: ["FuzzSupport"] + fuzzer.dependencies, path: "Fuzz/\(fuzzer.name)",
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: fuzzer.name, targets: [fuzzer.name]))
    }
}
