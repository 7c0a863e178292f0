import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Modules

/// deb822_repository's file content and apt_key's key ids, without a host. Both modules run
/// against Ansible's on lab hosts in ModuleBreadthLabTests (Fixtures/modules-breadth).
@Suite struct AptSourcesModuleTests {
    let task = SourceLocation(file: "play.yml", line: 3, column: 7)

    func validate<M: Module>(_ module: M.Type, _ args: OrderedDictionary<String, Value>) throws -> ModuleArguments {
        try M.arguments.validate(args, module: M.name, locations: [:], taskLocation: task, allowTemplates: false)
    }

    func validationError<M: Module>(_ module: M.Type, _ args: OrderedDictionary<String, Value>) -> PGHAError? {
        do {
            _ = try validate(module, args)
            return nil
        } catch {
            return error as? PGHAError
        }
    }

    // Ansible 2.19's module with python3-debian 0.1.49 wrote exactly this for these arguments
    // (ansible localhost -m deb822_repository --check, its `repo` result).
    @Test func theSourcesFileIsWhatAnsibleWrites() throws {
        let args = try validate(
            Deb822RepositoryModule.self,
            [
                "name": "Example Repo_1 x", "uris": .list(["http://a/b", "http://c/"]), "suites": .list(["bookworm"]),
                "components": .list(["main", "contrib"]), "architectures": "amd64,arm64", "enabled": false, "trusted": true,
                "date_max_future": 10, "languages": .list([]), "inrelease_path": "x", "allow_downgrade_to_insecure": true,
                "by_hash": false,
            ])
        let key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n  abc  \n\n=x\n-----END PGP PUBLIC KEY BLOCK-----\n"
        let expected = """
            Allow-Downgrade-To-Insecure: yes
            Architectures: amd64 arm64
            By-Hash: no
            Components: main contrib
            Date-Max-Future: 10
            Enabled: no
            Inrelease-Path: x
            Languages:
            X-Repolib-Name: Example Repo_1 x
            Signed-By:
                -----BEGIN PGP PUBLIC KEY BLOCK-----
                .
                mDMEZ
                abc
                .
                =x
                -----END PGP PUBLIC KEY BLOCK-----
            Suites: bookworm
            Trusted: yes
            Types: deb
            URIs: http://a/b http://c/

            """
        #expect(Deb822RepositoryModule.render(args, signedBy: key) == expected)
        #expect(Deb822RepositoryModule.slug("Example Repo_1 x") == "example-repo-1-x")
        #expect(Deb822RepositoryModule.sourcesPath("example-repo-1-x") == "/etc/apt/sources.list.d/example-repo-1-x.sources")
    }

    @Test func aMinimalRepositoryHasItsNameAndDefaultType() throws {
        let args = try validate(Deb822RepositoryModule.self, ["name": "pgdg", "uris": "http://x/", "suites": "bookworm-pgdg"])
        #expect(
            Deb822RepositoryModule.render(args, signedBy: "/etc/apt/keyrings/pgdg.asc")
                == "X-Repolib-Name: pgdg\nSigned-By: /etc/apt/keyrings/pgdg.asc\nSuites: bookworm-pgdg\nTypes: deb\nURIs: http://x/\n")
    }

    @Test func namesBecomeFileNamesAsAnsibleDerivesThem() {
        #expect(Deb822RepositoryModule.slug("PostgreSQL  PGDG_repo") == "postgresql-pgdg-repo")
        #expect(Deb822RepositoryModule.slug("Docker CE (stable)!") == "docker-ce-stable")
        #expect(Deb822RepositoryModule.slug("a__b\t c") == "a-b-c")
    }

    @Test func fieldNamesAreTitleCased() {
        #expect(Deb822RepositoryModule.fieldName("check_valid_until") == "Check-Valid-Until")
        #expect(Deb822RepositoryModule.fieldName("uris") == "URIs")
        #expect(Deb822RepositoryModule.fieldName("name") == "X-Repolib-Name")
        #expect(Deb822RepositoryModule.fieldName("inrelease_path") == "Inrelease-Path")
    }

    @Test func signedByIsAURLOnlyWithAScheme() {
        #expect(Deb822RepositoryModule.hasURLScheme("https://example.org/key.asc"))
        #expect(Deb822RepositoryModule.hasURLScheme("file:///srv/key.asc"))
        #expect(!Deb822RepositoryModule.hasURLScheme("/etc/apt/keyrings/x.gpg"))
        #expect(!Deb822RepositoryModule.hasURLScheme("-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: x\n"))
        #expect(!Deb822RepositoryModule.hasURLScheme("1http://x"))
    }

    @Test func badArgumentsAreRejected() throws {
        #expect(validationError(Deb822RepositoryModule.self, ["uris": "http://x/"])?.message.contains("name") == true)
        let unknown = try #require(validationError(Deb822RepositoryModule.self, ["name": "x", "suite": "bookworm"]))
        #expect(unknown.hint?.contains("suites") == true)
        #expect(validationError(Deb822RepositoryModule.self, ["name": "x", "state": "gone"]) != nil)
        let types = try validate(Deb822RepositoryModule.self, ["name": "x", "types": .list(["deb", "rpm"])])
        #expect(
            Deb822RepositoryModule.argumentProblem(types)
                == "value of types must be one or more of: deb, deb-src. Got no match for: rpm")
        #expect(Deb822RepositoryModule.argumentProblem(try validate(Deb822RepositoryModule.self, ["name": "x"])) == nil)
    }

    @Test func keyIDsAreSplitAsAnsibleDoes() throws {
        let long = try #require(AptKeyModule.KeyID("0xe10b47622d8da1f3eba6501a995a597ca3893356"))
        #expect(long.full == "E10B47622D8DA1F3EBA6501A995A597CA3893356")
        #expect(long.fingerprint == "995A597CA3893356")
        #expect(long.short == "A3893356")
        let short = try #require(AptKeyModule.KeyID("A3893356"))
        #expect(short.full == "A3893356" && short.fingerprint == "A3893356" && short.short == "A3893356")
        #expect(AptKeyModule.KeyID("not-a-key") == nil)
        #expect(AptKeyModule.KeyID("ABCDEF123") == nil)  // neither 8, 16 nor more digits
        #expect(AptKeyModule.KeyID("") == nil)
    }

    @Test func keysAreReadFromAptKeyAndGpgListings() {
        let aptKey = """
            /etc/apt/trusted.gpg
            --------------------
            pub   rsa4096/B7C5D7D6350947F8 2023-01-21 [SC] [expires: 2031-01-19]
                  B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8
            uid                 [ unknown] Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>
            sub   rsa4096/6ED0E7B82643E131 2023-01-21 [S] [expires: 2031-01-19]

            pub   rsa2048/0000000011111111 2011-01-01 [SC] [expired: 2013-01-01]
            """
        #expect(AptKeyModule.keyIDs(aptKey) == ["B7C5D7D6350947F8", "6ED0E7B82643E131"])
        #expect(AptKeyModule.keyIDs(aptKey, short: true) == ["350947F8", "2643E131"])
        let gpg = "pub:-:255:22:995A597CA3893356:1796658081:::-:\nfpr:::::::::E10B47622D8DA1F3EBA6501A995A597CA3893356:\n"
        #expect(AptKeyModule.keyIDs(gpg) == ["995A597CA3893356"])
    }

    @Test func aptKeySourcesExcludeEachOther() {
        let e = validationError(AptKeyModule.self, ["data": "x", "file": "/k.gpg"])
        #expect(e?.message.contains("mutually exclusive") == true)
        #expect(validationError(AptKeyModule.self, ["id": "A3893356", "keyserver": "keys.example.org"]) == nil)
        #expect(validationError(AptKeyModule.self, ["id": "A3893356", "url_password": "x"]) != nil)
    }

    @Test func passwordsInKeyURLsAreMasked() {
        #expect(AptKeyModule.maskedURL("https://user:secret@host/key.asc") == "https://user:********@host/key.asc")
        #expect(AptKeyModule.maskedURL("https://host/key.asc") == "https://host/key.asc")
    }

    @Test func keyserverProxyComesFromTheTaskEnvironment() {
        #expect(
            AptKeyModule.addProxy("apt-key adv", [("https_proxy", "http://proxy:3128")])
                == "apt-key adv --keyserver-options http-proxy=http://proxy:3128")
        #expect(AptKeyModule.addProxy("apt-key adv", []) == "apt-key adv")
    }
}
