import Foundation

/// Where the lab keeps its state, its cached images and its recipe.
public struct LabPaths: Sendable {
    /// Per-lab state: key pair, known_hosts, state.json, each host's upper dir, pid and console log.
    public var stateDir: String
    /// Cached base images, one directory per recipe hash; survives `lab down`.
    public var cacheDir: String
    /// The directory holding image-recipe.sh and packages.txt.
    public var recipeDir: String

    public init(stateDir: String, cacheDir: String, recipeDir: String) {
        self.stateDir = stateDir
        self.cacheDir = cacheDir
        self.recipeDir = recipeDir
    }

    /// The standard locations, overridable with PGHA_LAB_STATE_DIR, PGHA_LAB_CACHE_DIR and
    /// PGHA_LAB_RECIPE_DIR. The recipe is looked up in ./lab, then next to this source tree, so both
    /// `swift run` from a checkout and the test runner find it.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> LabPaths {
        let state = environment["PGHA_LAB_STATE_DIR"] ?? "/var/lib/pgha-play/lab"
        let cache = environment["PGHA_LAB_CACHE_DIR"] ?? "/var/cache/pgha-play/lab"
        var recipe = environment["PGHA_LAB_RECIPE_DIR"]
        if recipe == nil {
            let cwdRecipe = FileManager.default.currentDirectoryPath + "/lab"
            let sourceRecipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lab").path
            recipe = [cwdRecipe, sourceRecipe].first {
                FileManager.default.fileExists(atPath: $0 + "/image-recipe.sh")
            } ?? sourceRecipe
        }
        return LabPaths(stateDir: state, cacheDir: cache, recipeDir: recipe!)
    }

    public var privateKey: String { stateDir + "/id_ed25519" }
    public var publicKey: String { stateDir + "/id_ed25519.pub" }
    public var knownHosts: String { stateDir + "/known_hosts" }
    /// The lab-only cluster CA (certificate and key) that the lab inventory's TLS settings read.
    public var caCertificate: String { stateDir + "/ca.crt" }
    public var caPrivateKey: String { stateDir + "/ca.key" }
    public var stateFile: String { stateDir + "/state.json" }
    public var lockFile: String { stateDir + "/lock" }
    public var recipeScript: String { recipeDir + "/image-recipe.sh" }
    public var packageList: String { recipeDir + "/packages.txt" }

    public func hostDir(_ name: String) -> String { stateDir + "/hosts/" + name }
    public func upperDir(_ name: String) -> String { hostDir(name) + "/upper" }
    public func pidFile(_ name: String) -> String { hostDir(name) + "/pid" }
    public func consoleLog(_ name: String) -> String { hostDir(name) + "/console.log" }
    public func image(_ hash: String) -> String { cacheDir + "/image-" + hash }
}
