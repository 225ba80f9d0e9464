use super::*;
use proptest::prelude::*;

#[test]
fn accepts_valid_names() {
    for n in [
        "a",
        "nginx",
        "nginx-ingress",
        "0chart",
        "a1-b2-c3",
        &"x".repeat(250),
    ] {
        let name: ChartName = n.parse().unwrap();
        assert_eq!(name.as_str(), n);
        assert_eq!(name.to_string(), n);
    }
}

#[test]
fn rejects_invalid_names_with_the_rule_broken() {
    assert_eq!("".parse::<ChartName>(), Err(ChartNameError::Empty));
    assert_eq!(
        "x".repeat(251).parse::<ChartName>(),
        Err(ChartNameError::TooLong { len: 251, max: 250 })
    );
    assert!(matches!(
        "org/chart".parse::<ChartName>(),
        Err(ChartNameError::ContainsSlash { .. })
    ));
    assert!(matches!(
        "..".parse::<ChartName>(),
        Err(ChartNameError::ContainsDotDot { .. })
    ));
    assert!(matches!(
        "a..b".parse::<ChartName>(),
        Err(ChartNameError::ContainsDotDot { .. })
    ));
    let err = "MyChart".parse::<ChartName>().unwrap_err();
    assert_eq!(
        err,
        ChartNameError::Uppercase {
            name: "MyChart".into(),
            suggestion: "mychart".into()
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("lowercase") && msg.contains("mychart"),
        "{msg}"
    );
    for (bad, ch) in [
        ("my_chart", '_'),
        ("my.chart", '.'),
        ("my chart", ' '),
        ("é", 'é'),
    ] {
        match bad.parse::<ChartName>() {
            Err(ChartNameError::InvalidChar { ch: c, .. }) => assert_eq!(c, ch, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(matches!(
        "-chart".parse::<ChartName>(),
        Err(ChartNameError::InvalidStart { .. })
    ));
}

#[test]
fn accepts_semver_2_with_optional_v() {
    for v in [
        "0.1.0",
        "1.2.3",
        "v1.2.3",
        "1.0.0-rc.1",
        "1.0.0-alpha+build.5",
        "10.20.30+meta",
    ] {
        let ver: ChartVersion = v.parse().unwrap();
        assert_eq!(ver.as_str(), v, "the text is kept as written");
    }
    let v: ChartVersion = "v2.0.0-beta.1".parse().unwrap();
    assert_eq!(v.semver(), &semver::Version::parse("2.0.0-beta.1").unwrap());
    assert!(v.is_prerelease());
}

#[test]
fn rejects_versions_that_are_not_semver_2() {
    assert_eq!("".parse::<ChartVersion>(), Err(ChartVersionError::Empty));
    for v in [
        "1", "1.2", "01.2.3", "1.2.3.4", " 1.2.3", "1.2.3 ", "V1.2.3", "vv1.2.3", "latest",
        "1.0.0-",
    ] {
        match v.parse::<ChartVersion>() {
            Err(ChartVersionError::NotSemver { version, .. }) => assert_eq!(version, v),
            other => panic!("{v:?}: {other:?}"),
        }
    }
    let long = format!("1.0.0-{}", "a".repeat(200));
    assert!(matches!(
        long.parse::<ChartVersion>(),
        Err(ChartVersionError::TooLong { max: 128, .. })
    ));
}

#[test]
fn versions_order_by_precedence_and_compare_by_text() {
    let p = |s: &str| s.parse::<ChartVersion>().unwrap();
    assert!(p("1.0.0-rc.1") < p("1.0.0"));
    assert!(p("1.9.0") < p("1.10.0"));
    assert!(p("v1.0.0") > p("0.9.9"));
    assert_ne!(p("1.0.0+a"), p("1.0.0+b"));
    assert_ne!(p("v1.0.0"), p("1.0.0"));
    // Equal precedence: the text breaks the tie, so the order is total.
    assert_eq!(p("1.0.0+a").cmp(&p("1.0.0+b")), std::cmp::Ordering::Less);
}

const FULL: &str = r#"
apiVersion: v2
name: demo
version: 1.2.3
kubeVersion: ">=1.22.0-0"
description: A demo chart
type: application
keywords: [web, "http"]
home: https://example.com
sources:
  - https://github.com/example/demo
dependencies:
  - name: common
    version: 2.x.x
    repository: oci://registry.example/charts
    condition: common.enabled
    tags: [infra]
    enabled: true
    import-values:
      - data
      - child: a
        parent: b
    alias: base
maintainers:
  - name: Jane
    email: jane@example.com
    url: https://jane.example
icon: https://example.com/icon.png
appVersion: 1.16
deprecated: false
annotations:
  category: Infrastructure
  artifacthub.io/prerelease: "false"
somethingUnknown: ignored
"#;

#[test]
fn parses_every_chart_yaml_field() {
    let md = ChartMetadata::from_yaml(FULL.as_bytes()).unwrap();
    md.validate().unwrap();
    assert_eq!(md.api_version, "v2");
    assert_eq!(md.name, "demo");
    assert_eq!(md.version, "1.2.3");
    assert_eq!(md.kube_version, ">=1.22.0-0");
    assert_eq!(md.description, "A demo chart");
    assert_eq!(md.chart_type, "application");
    assert_eq!(md.keywords, ["web", "http"]);
    assert_eq!(md.home, "https://example.com");
    assert_eq!(md.sources, ["https://github.com/example/demo"]);
    let dep = &md.dependencies[0];
    assert_eq!(dep.name, "common");
    assert_eq!(dep.version, "2.x.x");
    assert_eq!(dep.repository, "oci://registry.example/charts");
    assert_eq!(dep.condition, "common.enabled");
    assert_eq!(dep.tags, ["infra"]);
    assert!(dep.enabled);
    assert_eq!(
        dep.import_values[1],
        serde_json::json!({"child": "a", "parent": "b"})
    );
    assert_eq!(dep.alias, "base");
    assert_eq!(md.maintainers[0].email, "jane@example.com");
    assert_eq!(md.icon, "https://example.com/icon.png");
    assert_eq!(md.app_version, "1.16", "unquoted numbers are taken as text");
    assert!(!md.deprecated);
    assert_eq!(md.annotations["artifacthub.io/prerelease"], "false");
    assert_eq!(md.chart_name().unwrap().as_str(), "demo");
    assert_eq!(md.chart_version().unwrap().as_str(), "1.2.3");
}

#[test]
fn serializes_with_helms_field_names() {
    let md = ChartMetadata::from_yaml(FULL.as_bytes()).unwrap();
    let v = serde_json::to_value(&md).unwrap();
    for key in [
        "apiVersion",
        "kubeVersion",
        "appVersion",
        "type",
        "keywords",
        "maintainers",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert!(
        v.get("deprecated").is_none(),
        "false is omitted like Go's omitempty"
    );
    assert!(v["dependencies"][0].get("import-values").is_some());
    let back: ChartMetadata = serde_json::from_value(v).unwrap();
    assert_eq!(back, md);
}

#[test]
fn nulls_and_numbers_are_forgiven() {
    let md = ChartMetadata::from_yaml(
        b"apiVersion: v2\nname: demo\nversion: 1.0.0\ndescription:\nkeywords:\nannotations:\nappVersion: 2\ndeprecated:\nmaintainers:\n",
    )
    .unwrap();
    assert_eq!(md.description, "");
    assert!(md.keywords.is_empty() && md.annotations.is_empty() && md.maintainers.is_empty());
    assert_eq!(md.app_version, "2");
    let md =
        ChartMetadata::from_yaml(b"apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: 1.0\n")
            .unwrap();
    assert_eq!(md.app_version, "1.0");
}

#[test]
fn invalid_yaml_gives_the_parser_message() {
    let err = ChartMetadata::from_yaml(b"name: [unclosed\n").unwrap_err();
    assert!(err.contains("line"), "{err}");
    assert!(ChartMetadata::from_yaml(b"keywords: {a: b}\n").is_err());
}

fn md(yaml: &str) -> ChartMetadata {
    ChartMetadata::from_yaml(yaml.as_bytes()).unwrap()
}

#[test]
fn validation_names_the_rule() {
    use MetadataError as E;
    assert_eq!(
        md("name: a\nversion: 1.0.0").validate(),
        Err(E::MissingApiVersion)
    );
    assert_eq!(
        md("apiVersion: v3\nname: a\nversion: 1.0.0").validate(),
        Err(E::UnsupportedApiVersion("v3".into()))
    );
    assert_eq!(
        md("apiVersion: v1\nversion: 1.0.0").validate(),
        Err(E::MissingName)
    );
    assert!(matches!(
        md("apiVersion: v2\nname: A\nversion: 1.0.0").validate(),
        Err(E::InvalidName(ChartNameError::Uppercase { .. }))
    ));
    assert_eq!(
        md("apiVersion: v2\nname: a").validate(),
        Err(E::MissingVersion)
    );
    assert!(matches!(
        md("apiVersion: v2\nname: a\nversion: \"1.0\"").validate(),
        Err(E::InvalidVersion(_))
    ));
    assert_eq!(
        md("apiVersion: v2\nname: a\nversion: 1.0.0\ntype: plugin").validate(),
        Err(E::InvalidType("plugin".into()))
    );
    assert!(md("apiVersion: v2\nname: a\nversion: 1.0.0\ntype: library")
        .validate()
        .is_ok());
    assert_eq!(
        md("apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: x\n- name: y\n  alias: x")
            .validate(),
        Err(E::DuplicateDependency("x".into()))
    );
    assert!(matches!(
        md("apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: x\n  alias: a.b")
            .validate(),
        Err(E::InvalidDependencyAlias { .. })
    ));
    let msg = E::UnsupportedApiVersion("v3".into()).to_string();
    assert!(msg.contains("\"v1\" or \"v2\""), "{msg}");
}

fn valid_version() -> impl Strategy<Value = String> {
    let ident = "[0-9A-Za-z-]{1,8}".prop_filter("no leading zero numerics", |s| {
        !(s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
    });
    (
        any::<bool>(),
        0u64..1000,
        0u64..1000,
        0u64..1000,
        prop::collection::vec(ident, 0..3),
        prop::collection::vec("[0-9A-Za-z-]{1,8}", 0..3),
    )
        .prop_map(|(v, a, b, c, pre, build)| {
            let mut s = format!("{}{a}.{b}.{c}", if v { "v" } else { "" });
            if !pre.is_empty() {
                s.push('-');
                s.push_str(&pre.join("."));
            }
            if !build.is_empty() {
                s.push('+');
                s.push_str(&build.join("."));
            }
            s
        })
}

proptest! {
    #[test]
    fn name_from_str_never_panics(s in any::<String>()) {
        let _ = s.parse::<ChartName>();
    }

    #[test]
    fn valid_names_round_trip(s in "[a-z0-9][a-z0-9-]{0,249}") {
        let name: ChartName = s.parse().unwrap();
        prop_assert_eq!(name.as_str(), s.as_str());
        let again: ChartName = name.to_string().parse().unwrap();
        prop_assert_eq!(again, name);
    }

    #[test]
    fn version_from_str_never_panics(s in any::<String>()) {
        let _ = s.parse::<ChartVersion>();
    }

    #[test]
    fn valid_versions_round_trip(s in valid_version()) {
        let v: ChartVersion = s.parse().unwrap();
        prop_assert_eq!(v.as_str(), s.as_str());
        prop_assert_eq!(v.semver().to_string(), s.trim_start_matches('v'));
        let again: ChartVersion = v.to_string().parse().unwrap();
        prop_assert_eq!(again, v);
    }
}

#[test]
fn alias_bombs_are_refused_by_the_parser() {
    // "Billion laughs": nine levels of aliases that would expand to 10^9 strings.
    let mut doc = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (prev, cur) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let refs = vec![format!("*{prev}"); 10].join(",");
        doc.push_str(&format!("{cur}: &{cur} [{refs}]\n"));
    }
    doc.push_str("keywords: *i\n");
    assert!(ChartMetadata::from_yaml(doc.as_bytes()).is_err());
}
