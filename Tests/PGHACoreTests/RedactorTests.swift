import PGHACore
import Testing

struct RedactorTests {
    @Test func masksTheSecretAndLongerSecretsFirst() {
        let redactor = Redactor()
        redactor.register("hunter2-long")
        redactor.register("hunter2-long-and-longer")
        redactor.register("abc")  // too short to mask without mangling output
        #expect(redactor.redact("a=hunter2-long-and-longer b=hunter2-long c=abc") == "a=******** b=******** c=abc")
    }

    /// The one-pass search finds a secret wherever it sits: at either end, alone, inside multi-byte
    /// text, after a near miss that shares its first bytes, and in nested values.
    @Test func findsTheSecretAtEveryPosition() {
        let redactor = Redactor()
        redactor.register("sécret-9")
        for (text, expected) in [
            ("sécret-9", "********"), ("sécret-9 tail", "******** tail"), ("head sécret-9", "head ********"),
            ("sé sécret-sécret-9", "sé sécret-********"), ("sécret-", "sécret-"), ("", ""), ("s", "s"),
            ("日本sécret-9語", "日本********語"),
        ] {
            #expect(redactor.redact(text) == expected, "\(text)")
            #expect(redactor.containsSecret(text) == (text != expected), "\(text)")
        }
        let nested: Value = .dict(["a": .list([.int(1), .dict(["b": .string("x sécret-9")])]), "c": .string("plain")])
        #expect(redactor.redact(value: nested) == .dict(["a": .list([.int(1), .dict(["b": .string("x ********")])]), "c": .string("plain")]))
        let clean: Value = .dict(["a": .list([.string("nothing here")])])
        #expect(redactor.redact(value: clean) == clean)
    }

    /// A password written into a config file through `to_json` or into a connection URL has other
    /// bytes than the variable; a diff of that file must still not show it.
    @Test func masksTheSecretAsJSONAndURLsSpellIt() {
        let redactor = Redactor()
        let secret = #"Pa"ss\wörd/1 2"#
        redactor.register(secret)
        let json = JSON.encode(.string(secret))
        #expect(json == #""Pa\"ss\\w\u00f6rd/1 2""#)
        #expect(redactor.redact("password: \(json)") == "password: \"********\"")
        let utf8JSON = JSON.encode(.string(secret), style: JSON.Style(asciiOnly: false))
        #expect(redactor.redact("password: \(utf8JSON)") == "password: \"********\"")
        #expect(redactor.redact("postgres://u:Pa%22ss%5Cw%C3%B6rd%2F1%202@db/x") == "postgres://u:********@db/x")
        #expect(redactor.redact(value: .list([.string("x \(secret) y")])) == .list([.string("x ******** y")]))
    }
}

extension RedactorTests {
    /// After a password rotation the file on the host still holds the old password, which no
    /// variable names any more: the diff masks it where the new one sits.
    @Test func diffMasksTheOldSecretWhereTheNewOneSits() {
        let redactor = Redactor()
        redactor.register("new-Secret-42")
        let before = "listen stats\n    stats auth admin:old-Secret-17\n  password: \"old-Secret-17\"\nkeep old-Secret-17\n"
        let after = "listen stats\n    stats auth admin:new-Secret-42\n  password: \"new-Secret-42\"\nkeep old-Secret-17\n"
        let redacted = redactor.redact(before: before, after: after)
        #expect(redacted.after == "listen stats\n    stats auth admin:********\n  password: \"********\"\nkeep old-Secret-17\n")
        #expect(
            redacted.before
                == "listen stats\n    stats auth admin:******** (previous value)\n  password: \"******** (previous value)\"\nkeep old-Secret-17\n")
        // An unchanged secret leaves both sides equal: no diff line.
        let same = redactor.redact(before: after, after: after)
        #expect(same.before == same.after)
        // Both secrets known (the old from the inventory, the new from -e): still shown as changed.
        redactor.register("old-Secret-17")
        let known = redactor.redact(before: before, after: after)
        #expect(known.before.contains("admin:******** (previous value)\n") && known.after.contains("admin:********\n"))
        #expect(!known.before.contains("Secret") && !known.after.contains("Secret"))
    }

    @Test func aSecretAloneOnItsLineMasksNothingElse() {
        let redactor = Redactor()
        redactor.register("new-Secret-42")
        let redacted = redactor.redact(before: "old\nother line\n", after: "new-Secret-42\nother line\n")
        #expect(redacted == (before: "old\nother line\n", after: "********\nother line\n"))
    }
}

extension RedactorTests {
    /// A secret inside base64 of a longer text (b64encode of "user:" + password, a slurped file)
    /// is masked at every byte alignment.
    @Test func masksTheSecretInsideLongerBase64() {
        let redactor = Redactor()
        let secret = "Base64-Hidden-Secret-99"
        redactor.register(secret)
        for prefix in ["", "u", "us", "user:", "a longer prefix "] {
            let encoded = Base64.encode(prefix + secret + " and a suffix")
            let shown = redactor.redact(encoded)
            #expect(shown.contains(Redactor.mask), "prefix '\(prefix)': \(shown)")
            // What stays visible is at most the prefix's and suffix's own groups plus one on each side.
            #expect(shown.count < encoded.count - 16, "prefix '\(prefix)': \(shown)")
        }
        #expect(redactor.redact(Base64.encode(secret)) == Redactor.mask)
        #expect(redactor.redact(Base64.encode("nothing to hide here")) == Base64.encode("nothing to hide here"))
    }

    @Test func containsSecretAndErrors() {
        let redactor = Redactor()
        #expect(!redactor.containsSecret("anything"))
        redactor.register("Error-Secret-31")
        #expect(redactor.containsSecret("x Error-Secret-31 y"))
        #expect(!redactor.containsSecret("Error-Secret"))
        let error = PGHAError(
            .execution, "failed with Error-Secret-31", at: SourceLocation(file: "/p.yml", line: 2), task: "t Error-Secret-31",
            hint: "try Error-Secret-31", sourceLine: "pw: Error-Secret-31")
        let masked = redactor.redact(error)
        #expect(!masked.description.contains("Error-Secret-31"))
        #expect(masked.location == error.location && masked.kind == .execution)
    }
}
