import PGHACore
import Testing

@Suite struct DigestTests {
    @Test func knownVectors() {
        let empty: [UInt8] = []
        #expect(Digest.md5(empty) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Digest.sha1(empty) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(Digest.sha256(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Digest.sha512(empty)
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        )
        let abc = Array("abc".utf8)
        #expect(Digest.md5(abc) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Digest.sha1(abc) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Digest.sha256(abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Digest.sha512(abc)
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        let fox = Array("The quick brown fox jumps over the lazy dog".utf8)
        #expect(Digest.md5(fox) == "9e107d9d372bb6826bd81d3542a419d6")
        #expect(Digest.sha1(fox) == "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
        // Multi-block input, crossing the 56-byte padding boundary.
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(Digest.sha256(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Digest.sha1(long) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Digest.sha1(million) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        #expect(Digest.hex(.md5, "hello") == "5d41402abc4b2a76b9719d911017c592")
    }

    @Test func base64RoundTrip() {
        #expect(Base64.encode("") == "")
        #expect(Base64.encode("f") == "Zg==")
        #expect(Base64.encode("fo") == "Zm8=")
        #expect(Base64.encode("foo") == "Zm9v")
        #expect(Base64.encode("foobar") == "Zm9vYmFy")
        #expect(Base64.decodeString("Zm9vYmFy") == "foobar")
        #expect(Base64.decodeString("Zm8=") == "fo")
        #expect(Base64.decodeString("Zg") == "f")
        #expect(Base64.decode("Zm9v!") == nil)
        let bytes: [UInt8] = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }
}
