use super::*;
use crate::chart::{ChartDependency, Maintainer};
use proptest::prelude::*;

fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, nanos).unwrap()
}

fn entry(name: &str, version: &str) -> ChartVersionEntry {
    ChartVersionEntry {
        metadata: ChartMetadata {
            api_version: "v2".into(),
            name: name.into(),
            version: version.into(),
            ..ChartMetadata::default()
        },
        urls: vec![format!("charts/{name}-{version}.tgz")],
        created: at(1_700_000_000, 0),
        digest: "ab".repeat(32),
    }
}

#[test]
fn writes_what_helm_repo_index_writes() {
    let mut e = entry("demo", "1.2.3");
    let m = &mut e.metadata;
    m.app_version = "1.16".into();
    m.description = "A demo chart".into();
    m.home = "https://example.com".into();
    m.icon = "https://example.com/icon.png".into();
    m.keywords = vec!["web".into()];
    m.kube_version = ">=1.22.0-0".into();
    m.sources = vec!["https://github.com/example/demo".into()];
    m.chart_type = "application".into();
    m.deprecated = true;
    m.annotations.insert("category".into(), "Infra".into());
    m.maintainers = vec![Maintainer {
        name: "Jane".into(),
        email: "jane@example.com".into(),
        url: String::new(),
    }];
    m.dependencies = vec![ChartDependency {
        name: "common".into(),
        version: "2.x.x".into(),
        repository: "oci://r.example/charts".into(),
        import_values: vec![serde_json::json!("data")],
        ..ChartDependency::default()
    }];
    e.created = at(1_700_000_000, 123_000_000);
    let yaml = render_index([e], at(1_700_000_100, 0));
    let expected = format!(
        r#"apiVersion: v1
entries:
  demo:
  - annotations:
      category: Infra
    apiVersion: v2
    appVersion: "1.16"
    created: "2023-11-14T22:13:20.123Z"
    dependencies:
    - import-values:
      - "data"
      name: common
      repository: oci://r.example/charts
      version: "2.x.x"
    deprecated: true
    description: A demo chart
    digest: {}
    home: https://example.com
    icon: https://example.com/icon.png
    keywords:
    - web
    kubeVersion: ">=1.22.0-0"
    maintainers:
    - email: jane@example.com
      name: Jane
    name: demo
    sources:
    - https://github.com/example/demo
    type: application
    urls:
    - charts/demo-1.2.3.tgz
    version: "1.2.3"
generated: "2023-11-14T22:15:00Z"
"#,
        "ab".repeat(32)
    );
    assert_eq!(yaml, expected);
}

#[test]
fn output_parses_back_with_helms_field_names() {
    let yaml = render_index([entry("demo", "0.1.0")], at(0, 0));
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(v["apiVersion"].as_str(), Some("v1"));
    assert!(v["generated"].as_str().is_some());
    let e = &v["entries"]["demo"][0];
    for key in ["apiVersion", "created", "digest", "name", "urls", "version"] {
        assert!(e.get(key).is_some(), "{key} missing");
    }
    assert_eq!(e["urls"][0].as_str(), Some("charts/demo-0.1.0.tgz"));
}

#[test]
fn empty_index_and_empty_lists() {
    let yaml = IndexFile::new(at(0, 0)).to_yaml();
    assert_eq!(
        yaml,
        "apiVersion: v1\nentries: {}\ngenerated: \"1970-01-01T00:00:00Z\"\n"
    );
    let back = IndexFile::from_yaml(yaml.as_bytes()).unwrap();
    assert_eq!(back.version_count(), 0);
    let mut e = entry("demo", "1.0.0");
    e.urls.clear();
    let yaml = render_index([e], at(0, 0));
    assert!(
        yaml.contains("    urls: []\n"),
        "urls is always written: {yaml}"
    );
}

#[test]
fn server_info_is_written_when_set() {
    let mut index = IndexFile::new(at(0, 0));
    index.server_info = Some(ServerInfo {
        context_path: "/api/acme".into(),
    });
    let yaml = index.to_yaml();
    assert!(
        yaml.ends_with("serverInfo:\n  contextPath: /api/acme\n"),
        "{yaml}"
    );
    assert_eq!(IndexFile::from_yaml(yaml.as_bytes()).unwrap(), index);
}

#[test]
fn entries_are_sorted_by_name_then_newest_version_first() {
    let index = IndexFile::from_entries(
        [
            entry("zeta", "1.0.0"),
            entry("alpha", "1.0.0-rc.1"),
            entry("alpha", "1.9.0"),
            entry("alpha", "not-semver"),
            entry("alpha", "1.10.0"),
            entry("alpha", "v1.0.0"),
            entry("alpha", "0.1.0"),
        ],
        at(0, 0),
    );
    let names: Vec<&str> = index.entries.keys().map(String::as_str).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    let versions: Vec<&str> = index.entries["alpha"]
        .iter()
        .map(|e| e.metadata.version.as_str())
        .collect();
    assert_eq!(
        versions,
        [
            "1.10.0",
            "1.9.0",
            "v1.0.0",
            "1.0.0-rc.1",
            "0.1.0",
            "not-semver"
        ]
    );
    let yaml = index.to_yaml();
    assert!(yaml.find("  alpha:").unwrap() < yaml.find("  zeta:").unwrap());
    assert!(yaml.find("1.10.0\"\n").unwrap() < yaml.find("1.9.0\"\n").unwrap());
}

#[test]
fn ten_thousand_versions() {
    let entries = (0..10_000).map(|i| {
        let mut e = entry(
            &format!("chart-{}", i % 100),
            &format!("1.{}.{}", i / 100, i % 7),
        );
        e.metadata.description = format!("Chart number {i}");
        e
    });
    let yaml = render_index(entries, at(1_700_000_000, 0));
    let back = IndexFile::from_yaml(yaml.as_bytes()).unwrap();
    assert_eq!(back.entries.len(), 100);
    assert_eq!(back.version_count(), 10_000);
    let first = &back.entries["chart-0"][0];
    assert_eq!(first.metadata.version, "1.99.2", "newest first (i = 9900)");
}

#[test]
fn etag_is_strong_and_tracks_the_bytes() {
    let a = index_etag(b"apiVersion: v1\n");
    assert!(a.starts_with('"') && a.ends_with('"') && !a.starts_with("W/"));
    assert_eq!(a.len(), 66);
    assert_eq!(a, index_etag(b"apiVersion: v1\n"));
    assert_ne!(a, index_etag(b"apiVersion: v1\n\n"));
    assert_eq!(
        index_etag(b""),
        "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""
    );
}

#[test]
fn invalid_index_is_an_error() {
    assert!(matches!(
        IndexFile::from_yaml(b"entries: [\n"),
        Err(HelmError::InvalidIndex(_))
    ));
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 .:/@#-]{0,20}",
        any::<String>(),
        Just("true".to_owned()),
        Just("1.0".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
    ]
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..3)
}

fn arb_entry() -> impl Strategy<Value = ChartVersionEntry> {
    let maintainer =
        (text(), text(), text()).prop_map(|(name, email, url)| Maintainer { name, email, url });
    let import = prop_oneof![
        text().prop_map(serde_json::Value::String),
        (text(), text()).prop_map(|(c, p)| serde_json::json!({"child": c, "parent": p})),
    ];
    let dependency = (
        text(),
        text(),
        text(),
        texts(),
        any::<bool>(),
        prop::collection::vec(import, 0..2),
    )
        .prop_map(
            |(name, version, repository, tags, enabled, import_values)| ChartDependency {
                name,
                version,
                repository,
                tags,
                enabled,
                import_values,
                ..ChartDependency::default()
            },
        );
    let metadata = (
        ("[a-c]{1,2}", text(), text(), text(), texts(), any::<bool>()),
        (
            prop::collection::btree_map(text(), text(), 0..3),
            prop::collection::vec(maintainer, 0..2),
            prop::collection::vec(dependency, 0..2),
            text(),
            text(),
        ),
    )
        .prop_map(
            |(
                (name, version, description, app_version, keywords, deprecated),
                (annotations, maintainers, dependencies, home, chart_type),
            )| {
                ChartMetadata {
                    api_version: "v2".into(),
                    name,
                    version,
                    description,
                    app_version,
                    keywords,
                    deprecated,
                    annotations,
                    maintainers,
                    dependencies,
                    home,
                    chart_type,
                    ..ChartMetadata::default()
                }
            },
        );
    (
        metadata,
        texts(),
        0i64..4_000_000_000,
        0u32..1_000_000_000,
        text(),
    )
        .prop_map(|(metadata, urls, secs, nanos, digest)| ChartVersionEntry {
            metadata,
            urls,
            created: at(secs, nanos),
            digest,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn serialization_round_trips(entries in prop::collection::vec(arb_entry(), 0..6), secs in 0i64..4_000_000_000) {
        let index = IndexFile::from_entries(entries, at(secs, 0));
        let yaml = index.to_yaml();
        let back = IndexFile::from_yaml(yaml.as_bytes());
        prop_assert!(back.is_ok(), "{:?}\n{}", back, yaml);
        prop_assert_eq!(back.unwrap(), index, "{}", yaml);
    }
}

#[test]
fn only_fields_helm_3_knows_are_written() {
    let mut e = entry("demo", "1.0.0");
    e.metadata.dependencies = vec![ChartDependency {
        name: "x".into(),
        export_values: vec![serde_json::json!("data")],
        ..ChartDependency::default()
    }];
    let yaml = render_index([e], at(0, 0));
    assert!(!yaml.contains("export-values"), "{yaml}");
    assert!(
        yaml.contains("    - name: x\n      repository: \"\"\n"),
        "{yaml}"
    );
}
