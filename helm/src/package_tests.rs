use super::*;
use crate::error::MetadataError;
use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;
use std::io::Write;
use tar::{Builder, Header};

/// One tar entry of a fixture. Paths and link targets are written into the header bytes as is,
/// so that fixtures can hold what `tar::Builder` itself refuses (`..`, absolute paths).
enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Fifo(&'a str),
}

fn header(path: &str, kind: tar::EntryType, size: u64) -> Header {
    let mut h = Header::new_gnu();
    let name = &mut h.as_old_mut().name;
    assert!(
        path.len() < name.len(),
        "fixture path too long for a raw header"
    );
    name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    h
}

fn tar_bytes(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = Builder::new(Vec::new());
    for e in entries {
        match *e {
            E::File(p, data) => {
                b.append(&header(p, tar::EntryType::Regular, data.len() as u64), data)
                    .unwrap();
            }
            E::Dir(p) => b
                .append(&header(p, tar::EntryType::Directory, 0), &[][..])
                .unwrap(),
            E::Fifo(p) => b
                .append(&header(p, tar::EntryType::Fifo, 0), &[][..])
                .unwrap(),
            E::Symlink(p, t) | E::Hardlink(p, t) => {
                let kind = if matches!(e, E::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                let mut h = header(p, kind, 0);
                h.set_link_name_literal(t).unwrap();
                h.set_cksum();
                b.append(&h, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn tgz(entries: &[E<'_>]) -> Vec<u8> {
    gzip(&tar_bytes(entries))
}

const CHART_YAML: &[u8] =
    b"apiVersion: v2\nname: demo\nversion: 0.1.0\ndescription: A demo\nappVersion: \"1.0\"\n";
const VALUES: &[u8] = b"replicaCount: 1\n";
const DEPLOYMENT: &[u8] = b"apiVersion: apps/v1\nkind: Deployment\n";
const README: &[u8] = b"# Demo\n\nA demo chart.\n";

fn valid_chart() -> Vec<u8> {
    tgz(&[
        E::Dir("demo/"),
        E::File("demo/Chart.yaml", CHART_YAML),
        E::File("demo/values.yaml", VALUES),
        E::Dir("demo/templates/"),
        E::File("demo/templates/deployment.yaml", DEPLOYMENT),
        E::File("demo/README.md", README),
    ])
}

fn read(bytes: &[u8]) -> Result<ChartPackage, PackageError> {
    read_package(bytes, &PackageLimits::default())
}

fn assert_escapes(entries: &[E<'_>], needle: &str) {
    match read(&tgz(entries)) {
        Err(PackageError::TarEntryEscapes { reason, .. }) => {
            assert!(
                reason.contains(needle),
                "reason {reason:?} lacks {needle:?}"
            )
        }
        other => panic!("expected TarEntryEscapes, got {other:?}"),
    }
}

#[test]
fn reads_a_valid_chart() {
    let bytes = valid_chart();
    let p = read(&bytes).unwrap();
    assert_eq!(p.name.as_str(), "demo");
    assert_eq!(p.version.as_str(), "0.1.0");
    assert_eq!(p.metadata.description, "A demo");
    assert_eq!(p.metadata.app_version, "1.0");
    assert_eq!(p.readme.as_deref(), Some("# Demo\n\nA demo chart.\n"));
    let files: Vec<(&str, u64)> = p.files.iter().map(|f| (f.path.as_str(), f.size)).collect();
    assert_eq!(
        files,
        [
            ("Chart.yaml", CHART_YAML.len() as u64),
            ("values.yaml", VALUES.len() as u64),
            ("templates/deployment.yaml", DEPLOYMENT.len() as u64),
            ("README.md", README.len() as u64),
        ]
    );
    assert_eq!(
        p.total_file_size(),
        (CHART_YAML.len() + VALUES.len() + DEPLOYMENT.len() + README.len()) as u64
    );
    assert_eq!(p.digest, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(p.digest.len(), 64);
}

#[test]
fn readme_is_optional_and_found_case_insensitively() {
    let p = read(&tgz(&[E::File("demo/Chart.yaml", CHART_YAML)])).unwrap();
    assert_eq!(p.readme, None);
    let p = read(&tgz(&[
        E::File("demo/Chart.yaml", CHART_YAML),
        E::File("demo/templates/README.md", b"not the overview"),
        E::File("demo/readme.md", b"lower"),
    ]))
    .unwrap();
    assert_eq!(p.readme.as_deref(), Some("lower"));
}

#[test]
fn builder_made_packages_with_long_paths_are_read() {
    // tar::Builder writes GNU long-name entries for paths over 100 bytes.
    let long = format!("demo/templates/{}.yaml", "x".repeat(150));
    let mut b = Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (path, data) in [("demo/Chart.yaml", CHART_YAML), (long.as_str(), VALUES)] {
        let mut h = Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data).unwrap();
    }
    let bytes = b.into_inner().unwrap().finish().unwrap();
    let p = read(&bytes).unwrap();
    assert_eq!(p.files[1].path, long.trim_start_matches("demo/"));
}

#[test]
fn non_gzip_body_is_rejected() {
    assert_eq!(read(b""), Err(PackageError::NotGzip));
    assert_eq!(read(b"PK\x03\x04zip"), Err(PackageError::NotGzip));
    assert_eq!(
        read(&tar_bytes(&[E::File("demo/Chart.yaml", CHART_YAML)])),
        Err(PackageError::NotGzip)
    );
}

#[test]
fn corrupt_gzip_is_rejected() {
    let mut bytes = valid_chart();
    let n = bytes.len();
    bytes.truncate(n / 2);
    assert!(matches!(read(&bytes), Err(PackageError::InvalidGzip(_))));
    let mut bytes = valid_chart();
    let n = bytes.len();
    bytes[n - 6] ^= 0xff; // CRC32 of the trailer
    assert!(
        matches!(read(&bytes), Err(PackageError::InvalidGzip(_))),
        "the trailer is checked"
    );
}

#[test]
fn gzip_of_non_tar_is_rejected() {
    let bytes = gzip(&[0x41u8; 2048]);
    assert!(matches!(read(&bytes), Err(PackageError::InvalidTar(_))));
}

#[test]
fn parent_paths_are_rejected() {
    assert_escapes(
        &[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::File("../evil", b"x"),
        ],
        "'..'",
    );
    assert_escapes(&[E::File("demo/../../evil", b"x")], "'..'");
}

#[test]
fn absolute_paths_are_rejected() {
    assert_escapes(&[E::File("/etc/passwd", b"x")], "absolute");
}

#[test]
fn unnormalized_paths_are_rejected() {
    assert_escapes(&[E::File("./demo/Chart.yaml", CHART_YAML)], "normalized");
    assert_escapes(&[E::File("demo//Chart.yaml", CHART_YAML)], "normalized");
    assert_escapes(&[E::File("demo\\Chart.yaml", CHART_YAML)], "backslash");
}

#[test]
fn a_single_top_level_directory_is_required() {
    assert_escapes(
        &[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::File("other/x.yaml", b"x"),
        ],
        "exactly one top-level directory",
    );
    assert_escapes(&[E::File("Chart.yaml", CHART_YAML)], "top level");
}

#[test]
fn links_must_stay_inside_the_chart() {
    assert_escapes(
        &[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::Symlink("demo/evil", "../../etc/passwd"),
        ],
        "symbolic link",
    );
    assert_escapes(
        &[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::Symlink("demo/evil", "/etc/passwd"),
        ],
        "symbolic link",
    );
    assert_escapes(
        &[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::Hardlink("demo/evil", "other/x"),
        ],
        "hard link",
    );
    assert_escapes(
        &[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::Hardlink("demo/evil", "../x"),
        ],
        "hard link",
    );
    // Links that stay inside are harmless: nothing is extracted.
    let p = read(&tgz(&[
        E::File("demo/Chart.yaml", CHART_YAML),
        E::Symlink("demo/templates/link.yaml", "../values.yaml"),
        E::Hardlink("demo/copy.yaml", "demo/Chart.yaml"),
    ]))
    .unwrap();
    assert_eq!(p.files.len(), 1, "links are not listed as files");
}

#[test]
fn special_files_are_rejected() {
    assert!(matches!(
        read(&tgz(&[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::Fifo("demo/pipe")
        ])),
        Err(PackageError::UnsupportedEntryType { .. })
    ));
}

#[test]
fn duplicate_paths_are_rejected() {
    assert_eq!(
        read(&tgz(&[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::File(
                "demo/Chart.yaml",
                b"apiVersion: v2\nname: other\nversion: 9.9.9\n"
            ),
        ])),
        Err(PackageError::DuplicateEntry {
            path: "demo/Chart.yaml".into()
        })
    );
}

#[test]
fn missing_chart_yaml_is_rejected() {
    assert_eq!(
        read(&tgz(&[E::File("demo/values.yaml", VALUES)])),
        Err(PackageError::MissingChartYaml {
            directory: Some("demo".into())
        })
    );
    assert_eq!(
        read(&tgz(&[E::File("demo/templates/Chart.yaml", CHART_YAML)])),
        Err(PackageError::MissingChartYaml {
            directory: Some("demo".into())
        }),
        "Chart.yaml must be at the chart root"
    );
    assert_eq!(
        read(&gzip(&[])),
        Err(PackageError::MissingChartYaml { directory: None })
    );
}

#[test]
fn invalid_chart_yaml_is_rejected_with_the_yaml_message() {
    match read(&tgz(&[E::File(
        "demo/Chart.yaml",
        b"apiVersion: v2\nname: [demo\n",
    )])) {
        Err(PackageError::InvalidChartYaml { message }) => {
            assert!(message.contains("line"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read(&tgz(&[E::File(
            "demo/Chart.yaml",
            b"apiVersion: v2\nname: demo\nversion: \"1.0\"\n"
        )])),
        Err(PackageError::InvalidMetadata(
            MetadataError::InvalidVersion(_)
        ))
    ));
}

#[test]
fn the_directory_must_be_named_after_the_chart() {
    assert_eq!(
        read(&tgz(&[E::File("other/Chart.yaml", CHART_YAML)])),
        Err(PackageError::TopDirectoryMismatch {
            directory: "other".into(),
            name: "demo".into()
        })
    );
}

#[test]
fn check_matches_compares_name_and_version() {
    let p = read(&valid_chart()).unwrap();
    let name = |s: &str| s.parse::<ChartName>().unwrap();
    let ver = |s: &str| s.parse::<ChartVersion>().unwrap();
    assert_eq!(check_matches(&p, &name("demo"), &ver("0.1.0")), Ok(()));
    assert_eq!(
        check_matches(&p, &name("other"), &ver("0.1.0")),
        Err(PackageError::NameMismatch {
            expected: "other".into(),
            found: "demo".into()
        })
    );
    assert_eq!(
        check_matches(&p, &name("demo"), &ver("v0.1.0")),
        Err(PackageError::VersionMismatch {
            expected: "v0.1.0".into(),
            found: "0.1.0".into()
        })
    );
}

#[test]
fn a_gzip_bomb_is_cut_off_at_the_limit() {
    // 64 MiB of zeros compress to ~64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let bytes = tgz(&[
        E::File("demo/Chart.yaml", CHART_YAML),
        E::File("demo/bomb", &zeros),
    ]);
    assert!(bytes.len() < 1 << 20);
    let limits = PackageLimits {
        max_uncompressed_bytes: 1 << 20,
        ..PackageLimits::default()
    };
    assert_eq!(
        read_package(&bytes, &limits),
        Err(PackageError::UncompressedTooLarge { limit: 1 << 20 })
    );
    // The same archive passes with room for it.
    assert!(read(&bytes).is_ok());
}

#[test]
fn the_stream_limit_holds_even_when_headers_declare_little() {
    // A PAX header is consumed by the tar crate itself (its size is never seen as a file size),
    // so only the counting reader can stop it.
    // Well-formed or not, the extension data is read in full before it is parsed.
    let record = format!("300016 comment={}\n", "c".repeat(300_000));
    let mut tar = Vec::new();
    {
        let mut b = Builder::new(&mut tar);
        b.append(
            &header("demo/pax", tar::EntryType::XHeader, record.len() as u64),
            record.as_bytes(),
        )
        .unwrap();
        b.append(
            &header(
                "demo/Chart.yaml",
                tar::EntryType::Regular,
                CHART_YAML.len() as u64,
            ),
            CHART_YAML,
        )
        .unwrap();
        b.finish().unwrap();
    }
    let limits = PackageLimits {
        max_uncompressed_bytes: 100_000,
        ..PackageLimits::default()
    };
    assert_eq!(
        read_package(&gzip(&tar), &limits),
        Err(PackageError::UncompressedTooLarge { limit: 100_000 })
    );
}

#[test]
fn declared_sizes_over_the_limit_fail_before_reading() {
    let mut tar = tar_bytes(&[E::File("demo/Chart.yaml", CHART_YAML)]);
    // Append a header that declares 1 TiB and then ends.
    let h = header("demo/huge", tar::EntryType::Regular, 1 << 40);
    let at = tar.len() - 1024; // before the end-of-archive blocks
    tar.truncate(at);
    tar.extend_from_slice(h.as_bytes());
    assert_eq!(
        read(&gzip(&tar)),
        Err(PackageError::UncompressedTooLarge {
            limit: PackageLimits::default().max_uncompressed_bytes
        })
    );
}

#[test]
fn entry_count_is_limited() {
    let names: Vec<String> = (0..20).map(|i| format!("demo/f{i}")).collect();
    let mut entries = vec![E::File("demo/Chart.yaml", CHART_YAML)];
    entries.extend(names.iter().map(|n| E::File(n, b"x")));
    let limits = PackageLimits {
        max_entries: 10,
        ..PackageLimits::default()
    };
    assert_eq!(
        read_package(&tgz(&entries), &limits),
        Err(PackageError::TooManyEntries { limit: 10 })
    );
    let limits = PackageLimits {
        max_entries: 21,
        ..PackageLimits::default()
    };
    assert!(read_package(&tgz(&entries), &limits).is_ok());
}

#[test]
fn chart_yaml_and_readme_sizes_are_limited() {
    let limits = PackageLimits {
        max_chart_yaml_bytes: 10,
        ..PackageLimits::default()
    };
    assert!(matches!(
        read_package(&valid_chart(), &limits),
        Err(PackageError::ChartYamlTooLarge { limit: 10, .. })
    ));
    let limits = PackageLimits {
        max_readme_bytes: 10,
        ..PackageLimits::default()
    };
    let err = read_package(&valid_chart(), &limits).unwrap_err();
    assert!(matches!(
        err,
        PackageError::ReadmeTooLarge { limit: 10, .. }
    ));
    assert!(err.to_string().contains("max_readme_bytes"), "{err}");
}

#[test]
fn messages_name_the_limit() {
    let msg = PackageError::UncompressedTooLarge { limit: 5 }.to_string();
    assert!(
        msg.contains("max_uncompressed_bytes") && msg.contains('5'),
        "{msg}"
    );
    let msg = PackageError::TooManyEntries { limit: 7 }.to_string();
    assert!(msg.contains("max_entries"), "{msg}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = read(&bytes);
    }

    #[test]
    fn arbitrary_bytes_with_gzip_magic_never_panic(tail in prop::collection::vec(any::<u8>(), 0..4096)) {
        let mut bytes = vec![0x1f, 0x8b];
        bytes.extend(tail);
        let _ = read(&bytes);
    }

    #[test]
    fn arbitrary_bytes_in_valid_gzip_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..8192)) {
        let _ = read(&gzip(&bytes));
    }

    #[test]
    fn mutated_valid_packages_never_panic(
        at in 0usize..4096,
        byte in any::<u8>(),
        len in 0usize..4096,
    ) {
        // Mutate the tar stream itself (then compress), so headers and paths get garbled.
        let mut tar = tar_bytes(&[
            E::File("demo/Chart.yaml", CHART_YAML),
            E::Symlink("demo/l", "../x"),
            E::File("demo/README.md", README),
        ]);
        let at = at % tar.len();
        tar[at] = byte;
        tar.truncate(at.max(len));
        let _ = read(&gzip(&tar));
    }
}
