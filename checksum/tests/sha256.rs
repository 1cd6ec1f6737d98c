//! The SHA-256 behind migration checksums against FIPS 180-4's examples, the padding's edge
//! lengths and the checksums the generator has already written into released lock files.

use std::path::Path;

use syncwright_checksum::{checksum, sha256};

fn hex(digest: [u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn sha256_matches_the_fips_180_4_examples() {
    // FIPS 180-4's one-block, two-block and million-byte messages (the NIST examples).
    let cases: [(&[u8], &str); 4] = [
        (
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
        ),
        (
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(
            hex(sha256(message)),
            expected,
            "SHA-256 of {:?}",
            String::from_utf8_lossy(message)
        );
    }
    assert_eq!(
        hex(sha256(&vec![b'a'; 1_000_000])),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        "SHA-256 of a million `a`s"
    );
}

#[test]
fn sha256_pads_every_edge_length_of_the_last_block() {
    // Runs of `a` around the lengths where the padding changes shape: 55 bytes leave exactly
    // room for the `1` bit and the length, 56 push the length into a second block, 64 fill a
    // block so the padding is a block of its own. Digests from coreutils' `sha256sum`.
    let cases = [
        (
            1,
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
        ),
        (
            55,
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
        ),
        (
            56,
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
        ),
        (
            57,
            "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6",
        ),
        (
            63,
            "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
        ),
        (
            64,
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
        ),
        (
            65,
            "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
        ),
        (
            119,
            "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
        ),
        (
            120,
            "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ),
        (
            128,
            "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e",
        ),
    ];
    for (len, expected) in cases {
        assert_eq!(
            hex(sha256(&vec![b'a'; len])),
            expected,
            "SHA-256 of {len} `a`s"
        );
    }
}

#[test]
fn checksum_ignores_windows_line_endings() {
    assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
    assert_eq!(
        checksum("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn checksums_equal_those_the_generator_wrote_into_released_lock_files() {
    let migrations =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/field-service/migrations");
    let lock = std::fs::read_to_string(migrations.join("syncwright.lock")).expect("fixture lock");
    let value = |line: &str, key: &str| {
        line.strip_prefix(key)?
            .trim_start()
            .strip_prefix("= \"")?
            .strip_suffix('"')
            .map(str::to_owned)
    };
    let mut file = None;
    let mut checked = 0;
    for line in lock.lines() {
        if let Some(name) = value(line, "file") {
            file = Some(name);
        } else if let Some(recorded) = value(line, "checksum") {
            let name = file.take().expect("`file` before `checksum` in the lock");
            let text = std::fs::read_to_string(migrations.join(&name)).expect("released migration");
            assert_eq!(checksum(&text), recorded, "checksum of {name}");
            checked += 1;
        }
    }
    assert!(
        checked >= 5,
        "the fixture lock lists its releases ({checked} checked)"
    );
}
