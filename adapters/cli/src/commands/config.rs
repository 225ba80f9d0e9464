//! `arca config set | current | clear`.

use std::io::{self, BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use serde_json::Value;

use super::Context;
use crate::cli::{ConfigSetArgs, GlobalArgs};
use crate::config::{
    self as cfg, mask_secret, ConfigFile, Setting, Source, DEFAULT_URL, ENV_CONFIG_DIR, NO_ORG,
    NO_TEAM,
};
use crate::names::validate_name;
use crate::output::{Format, Output, Table};

/// What `config set` does to one setting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Change<T> {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Store this value.
    Set(T),
    /// Remove it from the file.
    Clear,
}

fn apply_change<T>(slot: &mut Option<T>, change: Change<T>) {
    match change {
        Change::Keep => {}
        Change::Set(value) => *slot = Some(value),
        Change::Clear => *slot = None,
    }
}

/// The changes `config set` makes to the file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Changes {
    api_key: Change<String>,
    format_type: Change<Format>,
    org: Change<String>,
    team: Change<String>,
    url: Change<String>,
    ca_file: Change<PathBuf>,
}

impl Changes {
    /// Whether these changes touch what decides if the saved key works: the key, the org,
    /// the team, the server URL or the CA file (not the output format).
    fn affects_access(&self) -> bool {
        self.api_key != Change::Keep
            || self.org != Change::Keep
            || self.team != Change::Keep
            || self.url != Change::Keep
            || self.ca_file != Change::Keep
    }

    fn apply(self, file: &mut ConfigFile) {
        apply_change(&mut file.api_key, self.api_key);
        let format = match self.format_type {
            Change::Keep => Change::Keep,
            Change::Set(f) => Change::Set(f.as_str().to_string()),
            Change::Clear => Change::Clear,
        };
        apply_change(&mut file.format_type, format);
        apply_change(&mut file.org, self.org);
        apply_change(&mut file.team, self.team);
        apply_change(&mut file.url, self.url);
        apply_change(&mut file.ca_file, self.ca_file);
    }
}

/// An API key answer: empty keeps the current key.
fn key_answer(input: &str) -> Result<Change<String>> {
    let key = input.trim();
    if key.is_empty() {
        return Ok(Change::Keep);
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        // Never echo the key itself.
        return Err(anyhow!(
            "invalid API key: it must not contain spaces or control characters"
        ));
    }
    Ok(Change::Set(key.to_string()))
}

/// A format answer: empty keeps the current format.
fn format_answer(input: &str) -> Result<Change<Format>> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(Change::Keep);
    }
    input
        .parse()
        .map(Change::Set)
        .map_err(|e: String| anyhow!(e))
}

/// An org or team answer: empty keeps, `clear_word` (`no-org`, `no-team`) clears, anything
/// else must be a valid id.
fn id_answer(kind: &str, clear_word: &str, input: &str) -> Result<Change<String>> {
    let input = input.trim();
    if input.is_empty() {
        Ok(Change::Keep)
    } else if input == clear_word {
        Ok(Change::Clear)
    } else {
        validate_name(kind, input).map_err(|e| anyhow!(e))?;
        Ok(Change::Set(input.to_string()))
    }
}

/// Whether `config set` got any value to save on its command line.
fn has_value_flags(global: &GlobalArgs, args: &ConfigSetArgs) -> bool {
    args.api_key.is_some()
        || global.org.is_some()
        || global.team.is_some()
        || global.format_type.is_some()
        || global.url.is_some()
        || global.ca_file.is_some()
}

/// For flags, an empty value removes the setting.
fn flag_change<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<Change<T>>,
) -> Result<Change<T>> {
    match value {
        None => Ok(Change::Keep),
        Some(v) if v.trim().is_empty() => Ok(Change::Clear),
        Some(v) => parse(v),
    }
}

fn ca_file_change(path: &Path) -> Result<Change<PathBuf>> {
    let absolute = std::fs::canonicalize(path)
        .with_context(|| format!("cannot use CA file {}", path.display()))?;
    // Building a client reads and parses the PEM file: a bad file is caught now, not later.
    arca_client::ArcaClient::builder(DEFAULT_URL)
        .ca_file(Some(absolute.clone()))
        .build()?;
    Ok(Change::Set(absolute))
}

fn changes_from_flags(global: &GlobalArgs, args: &ConfigSetArgs) -> Result<Changes> {
    let ca_text = global
        .ca_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    Ok(Changes {
        api_key: flag_change(args.api_key.as_deref(), key_answer)?,
        format_type: match global.format_type {
            Some(format) => Change::Set(format),
            None => Change::Keep,
        },
        org: flag_change(global.org.as_deref(), |v| id_answer("org", NO_ORG, v))?,
        team: flag_change(global.team.as_deref(), |v| id_answer("team", NO_TEAM, v))?,
        url: flag_change(global.url.as_deref(), |v| {
            arca_client::parse_base_url(v)?;
            Ok(Change::Set(v.trim().to_string()))
        })?,
        ca_file: flag_change(ca_text.as_deref(), |v| ca_file_change(Path::new(v)))?,
    })
}

/// The four answers of NGC's `config set` dialogue, in its order: API key, format type, org,
/// team.
fn changes_from_answers(answers: &[String; 4]) -> Result<Changes> {
    Ok(Changes {
        api_key: key_answer(&answers[0])?,
        format_type: format_answer(&answers[1])?,
        org: id_answer("org", NO_ORG, &answers[2])?,
        team: id_answer("team", NO_TEAM, &answers[3])?,
        ..Changes::default()
    })
}

/// Reads up to four lines; missing lines (end of input) are empty answers.
fn read_answer_lines(mut reader: impl BufRead) -> io::Result<[String; 4]> {
    let mut answers: [String; 4] = Default::default();
    for answer in &mut answers {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        *answer = line.trim_end_matches(['\r', '\n']).to_string();
    }
    Ok(answers)
}

fn prompt_interactively(file: &ConfigFile) -> Result<[String; 4]> {
    use dialoguer::{Input, Password, Select};

    let key_hint = file
        .api_key
        .as_deref()
        .map(mask_secret)
        .unwrap_or_else(|| "none".to_string());
    let key = Password::new()
        .with_prompt(format!("Enter API key [{key_hint}] (Enter keeps it)"))
        .allow_empty_password(true)
        .interact()?;

    let current_format = file
        .format_type
        .as_deref()
        .and_then(|f| f.parse::<Format>().ok())
        .unwrap_or_default();
    let choices: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
    let default_index = Format::ALL
        .iter()
        .position(|f| *f == current_format)
        .unwrap_or(0);
    let chosen = Select::new()
        .with_prompt("Enter CLI output format type")
        .items(&choices)
        .default(default_index)
        .interact()?;
    let format = choices.get(chosen).copied().unwrap_or("ascii").to_string();

    let org = Input::<String>::new()
        .with_prompt(format!(
            "Enter org [{}] ('{NO_ORG}' for none)",
            file.org.as_deref().unwrap_or(NO_ORG)
        ))
        .allow_empty(true)
        .validate_with(|s: &String| id_answer("org", NO_ORG, s).map(|_| ()))
        .interact_text()?;

    let team = Input::<String>::new()
        .with_prompt(format!(
            "Enter team [{}] ('{NO_TEAM}' for none)",
            file.team.as_deref().unwrap_or(NO_TEAM)
        ))
        .allow_empty(true)
        .validate_with(|s: &String| id_answer("team", NO_TEAM, s).map(|_| ()))
        .interact_text()?;

    Ok([key, format, org, team])
}

/// `arca config set`.
pub async fn set(ctx: &Context<'_>, args: &ConfigSetArgs) -> Result<()> {
    let mut file = ctx.load_file()?;
    let changes = if has_value_flags(ctx.global, args) {
        changes_from_flags(ctx.global, args)?
    } else if io::stdin().is_terminal() {
        changes_from_answers(&prompt_interactively(&file)?)?
    } else {
        let answers = read_answer_lines(io::stdin().lock()).context("cannot read stdin")?;
        changes_from_answers(&answers)?
    };
    let check = changes.affects_access();
    changes.apply(&mut file);

    // The saved file on its own (no flags, no environment) must make a valid configuration.
    let saved = cfg::resolve(&GlobalArgs::default(), &|_| None, &file, &ctx.config_path)?;
    if check {
        // The key and org being saved, against the server the other commands would use
        // (a URL or CA file from the environment counts, as it will when they run).
        let mut target = ctx.settings_with(&file).unwrap_or_else(|_| saved.clone());
        target.api_key = saved.api_key.clone();
        target.org = saved.org.clone();
        target.team = saved.team.clone();
        super::config_check::check_key(ctx, &target).await?;
    }

    cfg::save(&ctx.config_path, &file)?;
    let format = cfg::lenient_format(ctx.global, ctx.env, &file);
    Output::new(format).message(&format!(
        "Configuration saved to {}",
        ctx.config_path.display()
    ))?;
    Ok(())
}

fn value_of<T: ToString>(setting: &Setting<T>) -> Value {
    setting
        .value
        .as_ref()
        .map_or(Value::Null, |v| Value::String(v.to_string()))
}

fn row<T: ToString>(table: &mut Table, key: &str, setting: &Setting<T>) {
    table.push_row([
        Value::from(key),
        value_of(setting),
        Value::from(setting.source.as_str()),
    ]);
}

/// `arca config current`.
pub fn current(ctx: &Context<'_>) -> Result<()> {
    let settings = ctx.settings()?;
    let mut table = Table::new(["key", "value", "source"]);
    let masked_key = Setting {
        value: settings.api_key.value.as_deref().map(mask_secret),
        source: settings.api_key.source,
    };
    row(&mut table, "api_key", &masked_key);
    row(&mut table, "org", &settings.org);
    row(&mut table, "team", &settings.team);
    row(&mut table, "format_type", &settings.format_type);
    row(&mut table, "url", &settings.url);
    let ca_file = Setting {
        value: settings
            .ca_file
            .value
            .as_ref()
            .map(|p| p.display().to_string()),
        source: settings.ca_file.source,
    };
    row(&mut table, "ca_file", &ca_file);
    let config_file = Setting {
        value: Some(ctx.config_path.display().to_string()),
        source: if (ctx.env)(ENV_CONFIG_DIR).is_some_and(|v| !v.trim().is_empty()) {
            Source::Env
        } else {
            Source::Default
        },
    };
    row(&mut table, "config_file", &config_file);
    Output::new(settings.format()).table(&table)?;
    Ok(())
}

/// `arca config clear`.
pub fn clear(ctx: &Context<'_>) -> Result<()> {
    // Works even when the file is unreadable as TOML: that is when it is most needed.
    let format = cfg::lenient_format(ctx.global, ctx.env, &ConfigFile::default());
    let removed = cfg::remove(&ctx.config_path)?;
    let path = ctx.config_path.display();
    let message = if removed {
        format!("Configuration file {path} removed")
    } else {
        format!("No configuration file at {path}")
    };
    Output::new(format).message(&message)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(lines: &str) -> [String; 4] {
        read_answer_lines(lines.as_bytes()).unwrap()
    }

    #[test]
    fn reads_four_lines_and_pads_missing_ones() {
        assert_eq!(
            answers("key\r\nascii\norg\n"),
            [
                "key".to_string(),
                "ascii".into(),
                "org".into(),
                String::new()
            ]
        );
        assert_eq!(answers(""), <[String; 4]>::default());
    }

    #[test]
    fn answers_become_changes() {
        let c = changes_from_answers(&answers("k-123456789\njson\nacme\nno-team\n")).unwrap();
        assert_eq!(
            c,
            Changes {
                api_key: Change::Set("k-123456789".into()),
                format_type: Change::Set(Format::Json),
                org: Change::Set("acme".into()),
                team: Change::Clear,
                ..Changes::default()
            }
        );
        let keep = changes_from_answers(&answers("\n\n\n\n")).unwrap();
        assert_eq!(keep, Changes::default());
        let c = changes_from_answers(&answers("\n\nno-org\n")).unwrap();
        assert_eq!(c.org, Change::Clear);
    }

    #[test]
    fn bad_answers_are_rejected() {
        let err = changes_from_answers(&answers("k\nyaml\n\n\n")).unwrap_err();
        assert!(err.to_string().contains("invalid format type"), "{err}");
        let err = changes_from_answers(&answers("k\n\nAcme Corp\n\n")).unwrap_err();
        assert!(err.to_string().contains("invalid org name"), "{err}");
        let err = changes_from_answers(&answers("\n\n\nteam/x\n")).unwrap_err();
        assert!(err.to_string().contains("invalid team name"), "{err}");
        let err = changes_from_answers(&answers("sec ret\n")).unwrap_err();
        assert!(!err.to_string().contains("sec ret"), "{err}");
    }

    #[test]
    fn flags_set_and_clear() {
        let global = GlobalArgs {
            org: Some("acme".into()),
            team: Some("no-team".into()),
            url: Some(String::new()),
            ..GlobalArgs::default()
        };
        let args = ConfigSetArgs {
            api_key: Some("new-key-12345678".into()),
        };
        assert!(has_value_flags(&global, &args));
        let c = changes_from_flags(&global, &args).unwrap();
        let mut file = ConfigFile {
            team: Some("old".into()),
            url: Some("http://old:1".into()),
            format_type: Some("csv".into()),
            ..ConfigFile::default()
        };
        c.apply(&mut file);
        assert_eq!(file.api_key.as_deref(), Some("new-key-12345678"));
        assert_eq!(file.org.as_deref(), Some("acme"));
        assert_eq!(file.team, None);
        assert_eq!(file.url, None);
        assert_eq!(file.format_type.as_deref(), Some("csv"));
        assert!(!has_value_flags(
            &GlobalArgs::default(),
            &ConfigSetArgs { api_key: None }
        ));
    }

    #[test]
    fn bad_flag_values_are_rejected() {
        let args = ConfigSetArgs { api_key: None };
        let bad_url = GlobalArgs {
            url: Some("localhost:5000".into()),
            ..GlobalArgs::default()
        };
        assert!(changes_from_flags(&bad_url, &args).is_err());
        let missing_ca = GlobalArgs {
            ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..GlobalArgs::default()
        };
        let err = changes_from_flags(&missing_ca, &args).unwrap_err();
        assert!(
            format!("{err:#}").contains("/nonexistent/ca.pem"),
            "{err:#}"
        );
    }
}
