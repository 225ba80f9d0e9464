//! The `arca-server bootstrap` command (R-TEN-1).

use super::*;

/// Every file under `dir` with its contents, to check that a command changed nothing.
fn snapshot(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir)?.display().to_string();
                files.insert(name, std::fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

/// R-TEN-1: `bootstrap --json` prints exactly one JSON object with the org, the owner and a
/// key; the key goes to stdout only.
#[test]
fn bootstrap_prints_exactly_one_json_object() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let out = bootstrap(&data, "acme", "a@b.io")?;
    assert_success(&out, "bootstrap");
    let stdout = out.stdout_text();
    // `from_str` rejects anything after the first value.
    let json: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("stdout is not one JSON value: {stdout:?}"))?;
    let obj = json.as_object().context("not an object")?;
    assert_eq!(json["org"], "acme", "{json}");
    assert_eq!(json["user"], "a@b.io", "{json}");
    let key = json["api_key"].as_str().context("no api_key")?;
    assert!(is_api_key(key), "{key:?}");
    assert_eq!(
        obj.keys().map(String::as_str).collect::<Vec<_>>(),
        ["api_key", "org", "user"],
        "{json}"
    );
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout:?}");
    assert!(!out.stderr_text().contains(key), "{}", out.describe());

    // Every bootstrap makes a new, different key.
    let other = bootstrap(&data, "beta", "a@b.io")?;
    assert_success(&other, "second org");
    let other: Value = serde_json::from_str(other.stdout_text().trim())?;
    assert_ne!(other["api_key"].as_str(), Some(key));
    Ok(())
}

/// R-TEN-1: bootstrapping an org that exists fails with a clear message, prints no key and
/// changes nothing: the org keeps its one owner, whose key still works.
#[tokio::test]
async fn bootstrap_of_an_existing_org_fails_clearly() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let key = bootstrap_key(&bootstrap(dir.path(), "acme", "a@b.io")?)?;

    let again = bootstrap(dir.path(), "acme", "other@b.io")?;
    assert!(!again.success(), "{}", again.describe());
    assert_eq!(again.status.code(), Some(1), "{}", again.describe());
    let err = again.stderr_text();
    assert!(
        err.contains("acme") && err.contains("already exists"),
        "unclear message: {err}"
    );
    assert!(
        !again.stdout_text().contains(KEY_PREFIX),
        "{}",
        again.describe()
    );

    let server = Server::builder().data_dir(dir.path()).start().await?;
    let client = server.client_builder().api_key(Some(key)).build()?;
    assert_eq!(whoami(&client).await?.0, "a@b.io");
    assert_eq!(org_names(&client).await?, ["acme"]);
    let users: Value = client.get_json("/v2/org/acme/users").await?;
    let emails: Vec<&str> = users["users"]
        .as_array()
        .context("no users")?
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, ["a@b.io"], "the refused bootstrap added a user");
    Ok(())
}

/// R-TEN-1, R-TEN-7: an invalid org id or email is refused with a clear message and changes
/// nothing (a fresh data dir is not even created).
#[test]
fn bootstrap_rejects_invalid_org_or_email_and_changes_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let fresh = dir.path().join("fresh");
    let cases: [(&str, &str, &[&str]); 5] = [
        ("Acme", "a@b.io", &["--org", "lowercase"]),
        ("acme", "not-an-email", &["--owner-email", "not-an-email"]),
        ("acme", "", &["--owner-email"]),
        ("v2", "a@b.io", &["--org", "reserved"]),
        ("", "a@b.io", &["--org"]),
    ];
    for (org, email, expected) in cases {
        let out = bootstrap(&fresh, org, email)?;
        assert!(
            !out.success(),
            "{org:?}/{email:?} accepted\n{}",
            out.describe()
        );
        let err = out.stderr_text();
        for word in expected {
            assert!(
                err.contains(word),
                "{org:?}/{email:?}: message lacks {word:?}: {err}"
            );
        }
        assert!(
            !out.stdout_text().contains(KEY_PREFIX),
            "{}",
            out.describe()
        );
        assert!(!fresh.exists(), "{org:?}/{email:?} created the data dir");
    }

    // On an existing data dir, nothing changes either.
    let data = dir.path().join("data");
    assert_success(&bootstrap(&data, "acme", "a@b.io")?, "bootstrap");
    let before = snapshot(&data)?;
    for (org, email, _) in cases {
        let out = bootstrap(&data, org, email)?;
        assert!(!out.success(), "{}", out.describe());
    }
    assert!(
        before == snapshot(&data)?,
        "a refused bootstrap changed files"
    );
    // The refused `acme`/`not-an-email` did not half-create anything: `other` is still free.
    assert_success(
        &bootstrap(&data, "other", "c@d.io")?,
        "a valid org afterwards",
    );
    Ok(())
}

/// R-IF-1: a server on a data dir prepared by `bootstrap` does not create the demo org.
#[tokio::test]
async fn server_on_a_bootstrapped_data_dir_prints_no_demo_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let key = bootstrap_key(&bootstrap(dir.path(), "acme", "a@b.io")?)?;
    let server = Server::builder().data_dir(dir.path()).start().await?;
    assert_eq!(server.printed_key(), None, "{}", server.describe());
    assert!(server.try_key().is_none());
    assert!(server.client().health().await?.is_ok());
    // The bootstrap key works against the server; there is no demo org.
    let client = server.client_builder().api_key(Some(key)).build()?;
    let (email, roles) = whoami(&client).await?;
    assert_eq!(email, "a@b.io");
    assert_eq!(
        roles.get("acme").map(Vec::as_slice),
        Some(&["ORG_OWNER".to_string()][..])
    );
    assert_eq!(org_names(&client).await?, ["acme"]);
    Ok(())
}

/// R-IF-1: `--no-bootstrap` leaves an empty store empty; a later normal start bootstraps.
#[tokio::test]
async fn no_bootstrap_flag_prints_no_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = Server::builder()
        .data_dir(dir.path())
        .no_bootstrap()
        .start()
        .await?;
    assert_eq!(server.printed_key(), None, "{}", server.describe());
    assert!(server.sigterm().await?.success());
    drop(server);

    let server = Server::builder().data_dir(dir.path()).start().await?;
    assert!(server.printed_key().is_some(), "{}", server.describe());
    Ok(())
}
