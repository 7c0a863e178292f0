import Foundation
import PGHACore
import Testing

/// A vaulted password hashed with `password_hash` (the user module's input): the hash reaches its
/// destination intact, while neither the password nor its hash shows in any output.
@Suite("Vaulted values through password_hash")
struct VaultPasswordHashTests {
    static let secret = "Hash-Input-Secret-2468"
    static let salt = "fixedsalt4pgha"

    @Test(arguments: [["--output", "json"], []])
    func neitherTheSecretNorItsHashLeaves(_ format: [String]) throws {
        guard let python = TestSupport.oraclePython else {
            Issue.record("the oracle virtualenv (scripts/oracle-venv.sh) is needed for glibc's crypt(3)")
            return
        }
        // The hash glibc computes for the same password and salt, with Ansible's default rounds.
        let crypt = try TestSupport.run(
            python, ["-W", "ignore", "-c", "import crypt, sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))", Self.secret,
                     "$6$rounds=656000$\(Self.salt)"], in: NSTemporaryDirectory(), environment: [:])
        let expectedHash = crypt.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(crypt.status == 0 && expectedHash.hasPrefix("$6$rounds=656000$\(Self.salt)$"), "\(crypt.stderr)")

        let scratch = try VaultScratch()
        try scratch.write(".vault-pass", "hash-run-pw\n")
        try scratch.write("inventory.ini", "[local]\nlocalhost ansible_connection=local\n")
        try scratch.write("group_vars/all/vault.yml", "vault_admin_password: \(Self.secret)\n")
        try scratch.vaultEncrypt("group_vars/all/vault.yml")
        try FileManager.default.createDirectory(atPath: scratch.path + "/out", withIntermediateDirectories: true)
        try scratch.write(
            "playbook.yml",
            """
            - hosts: local
              gather_facts: false
              tasks:
                - set_fact:
                    admin_hash: "{{ vault_admin_password | password_hash('sha512', '\(Self.salt)') }}"
                - debug: var=admin_hash
                - debug: msg="user admin with {{ admin_hash }} ({{ admin_hash | length }} chars)"
                - copy: content="admin:{{ admin_hash }}:19000::::::\\n" dest={{ playbook_dir }}/out/shadow
                - command: echo {{ admin_hash }}
                  register: echoed
                - debug: var=echoed
                - fail: msg="the hash {{ admin_hash }} of {{ vault_admin_password }} is wrong"

            """)
        let run = try scratch.pgha(
            ["-i", "inventory.ini", "playbook.yml", "--vault-password-file", ".vault-pass", "-vvvv", "--diff"] + format)
        // The run reached the failing task (exit 2) having used the hash everywhere.
        #expect(run.status == 2, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        #expect(try scratch.read("out/shadow") == "admin:\(expectedHash):19000::::::\n")
        #expect(run.stdout.contains("(118 chars)"), "\(run.stdout.suffix(2000))")
        #expect(run.stdout.contains(Redactor.mask))
        let digest = String(expectedHash.split(separator: "$").last ?? "")
        for forbidden in [Self.secret, expectedHash, digest] {
            #expect(!run.stdout.contains(forbidden), "'\(forbidden)' leaked to stdout")
            #expect(!run.stderr.contains(forbidden), "'\(forbidden)' leaked to stderr")
        }
    }
}
