import Foundation
import OrderedCollections
import PGHACore
import Testing
import Transport

@testable import Modules

/// community.crypto.openssh_keypair: the collection's argument checks and decisions, read from
/// probe output, then the module on this machine with its ssh-keygen. The same tasks against
/// ansible-playbook on lab hosts are in ModuleBreadthLabTests (Fixtures/modules-breadth/keypair.yml).
struct OpenSSHKeypairTests {
    typealias Keypair = OpenSSHKeypairModule

    static func request(_ args: OrderedDictionary<String, Value>) throws -> Keypair.Request {
        let validated = try Keypair.arguments.validate(
            args, module: Keypair.name, locations: [:], taskLocation: SourceLocation(file: "test.yml", line: 1),
            allowTemplates: false)
        return try Keypair.Request(validated)
    }

    static func failure(_ args: OrderedDictionary<String, Value>) -> String? {
        do {
            _ = try request(args)
            return nil
        } catch let failure as ModuleFailure {
            return failure.message
        } catch {
            return "\(error)"
        }
    }

    @Test func sizesDefaultAndAreLimitedPerType() throws {
        #expect(try Self.request(["path": "/k"]).size == 4096)
        #expect(try Self.request(["path": "/k"]).type == "rsa")
        #expect(try Self.request(["path": "/k", "type": "rsa", "size": 2048]).size == 2048)
        #expect(try Self.request(["path": "/k", "type": "dsa"]).size == 1024)
        #expect(try Self.request(["path": "/k", "type": "ecdsa"]).size == 256)
        #expect(try Self.request(["path": "/k", "type": "ecdsa", "size": "521"]).size == 521)
        // ed25519 ignores a size, as the collection does.
        #expect(try Self.request(["path": "/k", "type": "ed25519", "size": 4096]).size == 256)
        #expect(Self.failure(["path": "/k", "size": 512])?.hasPrefix("For RSA keys, the minimum size is 1024 bits") == true)
        #expect(Self.failure(["path": "/k", "type": "dsa", "size": 2048]) == "DSA keys must be exactly 1024 bits as specified by FIPS 186-2.")
        #expect(Self.failure(["path": "/k", "type": "ecdsa", "size": 300])?.hasPrefix("For ECDSA keys") == true)
    }

    @Test func argumentsAreCheckedAsTheCollectionChecksThem() throws {
        #expect(try Self.request(["path": "/k", "force": true]).regenerate == "always")
        #expect(try Self.request(["path": "/k"]).regenerate == "partial_idempotence")
        #expect(try Self.request(["path": "/k", "state": "absent"]).present == false)
        #expect(try Self.request(["path": "/k", "mode": "0600"]).mode == .absolute(0o600))
        #expect(Self.failure(["path": "/k", "type": "ed448"]) != nil)
        #expect(Self.failure(["path": "/k", "regenerate": "sometimes"]) != nil)
        #expect(Self.failure(["path": "/k", "sizes": 2048])?.contains("size") == true)
        #expect(Self.failure(["type": "rsa"]) != nil)
        #expect(
            Self.failure(["path": "/k", "private_key_format": "pkcs8"])
                == "'auto' is the only valid option for 'private_key_format' when 'backend' is not 'cryptography'")
        #expect(Self.failure(["path": "/k", "backend": "cryptography"])?.contains("not supported") == true)
        // A passphrase is refused without being repeated.
        let refused = Self.failure(["path": "/k", "passphrase": "hunter2-secret"])
        #expect(refused?.contains("passphrase is not supported") == true && refused?.contains("hunter2") == false)
        #expect(Keypair.arguments.arguments.first { $0.name == "passphrase" }?.secret == true)
        #expect(Keypair.Request(path: "/etc/ssh/id").directory == "/etc/ssh")
        #expect(Keypair.Request(path: "id").directory == ".")
        #expect(Keypair.Request(path: "/id").directory == "/")
    }

    // MARK: - Decisions from probe output

    static func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static let publicData = "AAAAC3NzaC1lZDI1NTE5AAAAIBtGq7TmgcQtJP2Vx7qPQ98woeG8NINKRv4fQYsUc/OO"

    /// Probe output for an existing ed25519 key pair whose .pub says `comment`.
    static func existing(
        listing: String = "256 SHA256:abc one (ED25519)", derivedStatus: Int = 0, derivedError: String = "",
        publicFile: String? = "ssh-ed25519 \(publicData) one\n", privateMode: String = "600", publicMode: String = "644"
    ) -> Keypair.Observed {
        var lines = ["umask=0022", "privexists=1", "privstat=\(privateMode)|0|0|root|root", "l=\(b64(listing))", "lrc=0"]
        lines += ["y=\(derivedStatus == 0 ? b64("ssh-ed25519 \(publicData) one\n") : "")", "yrc=\(derivedStatus)", "ye=\(b64(derivedError))"]
        if let publicFile {
            lines += ["pubexists=1", "pubstat=\(publicMode)|0|0|root|root", "pub=\(b64(publicFile))"]
        }
        return Keypair.Observed(probe: lines.joined(separator: "\n") + "\n")
    }

    static let ed25519 = Keypair.Request(path: "/k/id", type: "ed25519", size: 256, comment: "one")

    @Test func theProbeIsReadAsTheCollectionReadsKeys() {
        let observed = Self.existing()
        #expect(observed.privateKey == Keypair.PrivateKeyFacts(listing: "256 SHA256:abc one (ED25519)"))
        #expect(observed.privateKey?.type == "ed25519" && observed.privateKey?.size == 256)
        #expect(observed.publicKey?.comment == "one" && observed.readable)
        #expect(Keypair.PublicKey(file: "ssh-rsa AAAA")?.comment == "")
        #expect(Keypair.PublicKey(file: "garbage\n") == nil)
        #expect(Keypair.PublicKey(file: "ssh-rsa AAAA a comment with spaces\n")?.comment == "a comment with spaces")
        let protected = Self.existing(derivedStatus: 255, derivedError: "Load key \"/k/id\": incorrect passphrase supplied to decrypt private key")
        #expect(!protected.readable)
        let missing = Keypair.Observed(probe: "nodir=1\n")
        #expect(missing.directoryMissing)
    }

    @Test func aMatchingKeyIsLeftAloneAndAMissingOneIsMade() throws {
        let kept = try Keypair.decide(Self.ed25519, Self.existing(), checkMode: false)
        #expect(kept == Keypair.Plan())
        // No comment asked for: the .pub's comment does not matter.
        var anyComment = Self.ed25519
        anyComment.comment = nil
        #expect(try Keypair.decide(anyComment, Self.existing(publicFile: "ssh-ed25519 \(Self.publicData) other\n"), checkMode: false).changed == false)
        let fresh = try Keypair.decide(Self.ed25519, Keypair.Observed(probe: "umask=0022\n"), checkMode: true)
        #expect(fresh.generate && fresh.changed)
        #expect(Keypair.changeScript(Self.ed25519, fresh).contains("ssh-keygen -q -N '' -b 256 -t ed25519 -f \"$k/key\" -C one"))
    }

    @Test func aNewCommentRewritesThePublicKeyWithoutANewKey() throws {
        var renamed = Self.ed25519
        renamed.comment = "two"
        let plan = try Keypair.decide(renamed, Self.existing(), checkMode: false)
        #expect(!plan.generate && plan.restorePublicKey && plan.changed)
        let script = Keypair.changeScript(renamed, plan)
        #expect(script.contains("ssh-keygen -q -c -C two -f \"$p\""))
        #expect(!script.contains("-N ''"))
        // A missing .pub is made again from the private key.
        let noPublic = try Keypair.decide(Self.ed25519, Self.existing(publicFile: nil), checkMode: false)
        #expect(noPublic.restorePublicKey && !noPublic.generate)
    }

    @Test func regenerateDecidesWhatAMismatchDoes() throws {
        var rsa = Keypair.Request(path: "/k/id", type: "rsa", size: 2048, comment: "one")
        #expect(try Keypair.decide(rsa, Self.existing(), checkMode: false).generate)
        rsa.regenerate = "full_idempotence"
        #expect(try Keypair.decide(rsa, Self.existing(), checkMode: false).generate)
        rsa.regenerate = "never"
        #expect(try Keypair.decide(rsa, Self.existing(), checkMode: false).generate == false)
        rsa.regenerate = "fail"
        #expect(throws: ModuleFailure.self) { try Keypair.decide(rsa, Self.existing(), checkMode: false) }
        var same = Self.ed25519
        same.regenerate = "always"
        #expect(try Keypair.decide(same, Self.existing(), checkMode: false).generate)
        // An unreadable key: refused unless regeneration may replace it.
        let broken = Self.existing(derivedStatus: 255, derivedError: "Load key: incorrect passphrase supplied")
        same.regenerate = "partial_idempotence"
        #expect(throws: ModuleFailure.self) { try Keypair.decide(same, broken, checkMode: false) }
        same.regenerate = "full_idempotence"
        #expect(try Keypair.decide(same, Self.existing(listing: "not a key"), checkMode: false).generate)
    }

    @Test func attributesAndAbsenceAreDecidedForBothFiles() throws {
        var request = Self.ed25519
        request.mode = .absolute(0o600)
        let plan = try Keypair.decide(request, Self.existing(), checkMode: false)
        #expect(plan.attributesDiffer && plan.changed && plan.privateMode == 0o600 && plan.publicMode == 0o600)
        #expect(Keypair.changeScript(request, plan).contains("chmod 600 -- \"$p.pub\""))
        request.mode = .symbolic("g+r")
        let symbolic = try Keypair.decide(request, Self.existing(), checkMode: false)
        #expect(symbolic.privateMode == 0o640 && symbolic.publicMode == 0o644 && symbolic.attributesDiffer)
        request.mode = nil
        request.group = "root"
        #expect(try Keypair.decide(request, Self.existing(), checkMode: false).changed == false)
        request.present = false
        #expect(try Keypair.decide(request, Self.existing(), checkMode: false).remove)
        #expect(try Keypair.decide(request, Keypair.Observed(probe: "umask=0022\n"), checkMode: false).changed == false)
        #expect(throws: ModuleFailure.self) { try Keypair.decide(request, Keypair.Observed(probe: "isdir=1\n"), checkMode: false) }
    }

    // MARK: - On this machine

    @Test(arguments: TestTarget.all)
    func aKeyPairIsMadeKeptRenamedAndRemoved(_ target: TestTarget) async throws {
        let box = try await Sandbox(target)
        defer { Task { await box.cleanup() } }
        let key = box.path("id")
        let args: OrderedDictionary<String, Value> = ["path": .string(key), "type": "ed25519", "comment": "one"]
        let predicted = try await box.expectCheckModeChangesNothing(Keypair.self, args)
        #expect(predicted.values["fingerprint"] == "" && predicted.values["type"] == "ed25519")
        let (first, _, secondTrips) = try await box.expectIdempotent(Keypair.self, args)
        #expect(secondTrips == 1)
        #expect(first.values["comment"] == "one" && first.values["size"] == 256 && first.values["filename"] == .string(key))
        let listing = try await box.sh("ssh-keygen -l -f \(key) | cut -d' ' -f2; stat -c %a \(key) \(key).pub")
        #expect(listing == "\(first.values["fingerprint"]?.stringValue ?? "-")\n600\n644\n")
        let publicLine = try await box.sh("cut -d' ' -f1,2 \(key).pub")
        #expect(first.values["public_key"]?.stringValue.map { $0 + "\n" } == publicLine)

        // A new comment: changed, the same key.
        var renamed = args
        renamed["comment"] = "two"
        box.diffMode = true
        let second = try await box.run(Keypair.self, renamed)
        box.diffMode = false
        #expect(second.result.changed && second.result.values["comment"] == "two")
        let shown = second.result.diffs.map { "\($0.before) -> \($0.after)" }.joined()
        #expect(second.result.diffs.count == 1 && shown.contains("\"two\"") && shown.contains("\"one\""))
        #expect(second.result.values["fingerprint"] == first.values["fingerprint"])
        #expect(try await box.sh("cut -d' ' -f3 \(key).pub").hasPrefix("two"))
        // The private key never comes back, not in values nor in the diff.
        let secretLine = try await box.sh("sed -n 2p \(key)").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!secretLine.isEmpty && !"\(second.result.values)\(second.result.diffs)".contains(secretLine))

        // Another size: a new key (partial_idempotence), keeping the files' modes.
        _ = try await box.sh("chmod 644 \(key).pub")
        let rsa = try await box.run(Keypair.self, ["path": .string(key), "type": "rsa", "size": 1024, "mode": "0600"])
        #expect(rsa.result.changed && rsa.result.values["type"] == "rsa" && rsa.result.values["fingerprint"] != first.values["fingerprint"])
        #expect(try await box.sh("stat -c %a \(key) \(key).pub; cut -c1-7 \(key).pub") == "600\n600\nssh-rsa\n")

        let removed = try await box.run(Keypair.self, ["path": .string(key), "state": "absent"])
        #expect(removed.result.changed && removed.result.values["fingerprint"] == rsa.result.values["fingerprint"])
        #expect(try await box.sh("ls \(box.path(""))") == "")
        let again = try await box.run(Keypair.self, ["path": .string(key), "state": "absent"])
        #expect(!again.result.changed)
    }
}
