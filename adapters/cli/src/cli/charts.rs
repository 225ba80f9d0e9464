//! `arca registry chart …` (guide chapter 6: `ngc registry chart create|update|info|list|
//! push|pull|remove`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `arca registry chart …`
#[derive(Debug, Subcommand)]
pub enum ChartCommand {
    /// Create a chart record (a short description is required); versions come with push
    Create(ChartCreateArgs),
    /// Change a chart's metadata
    Update(ChartUpdateArgs),
    /// Show a chart, or with :version one version (--files lists the package's files)
    Info(ChartInfoArgs),
    /// List charts (a name pattern such as 'org/ngc*'), or the versions of one (org/chart:*)
    List(ChartListArgs),
    /// Push a packaged chart (.tgz) as org/[team/]chart:version
    Push(ChartPushArgs),
    /// Pull a chart package (the latest version without :version)
    Pull(ChartPullArgs),
    /// Remove one version (org/chart:version), or the chart with all its versions
    Remove(ChartRemoveArgs),
}

/// Descriptive flags of create and update (guide §6.5.1).
#[derive(Debug, Clone, Default, Args)]
pub struct ChartFields {
    /// One-line description
    #[arg(long = "short-desc", value_name = "TEXT")]
    pub short_desc: Option<String>,
    /// Display name
    #[arg(long = "display-name", value_name = "NAME")]
    pub display_name: Option<String>,
    /// Publisher
    #[arg(long, value_name = "NAME")]
    pub publisher: Option<String>,
    /// Built by
    #[arg(long = "built-by", value_name = "NAME")]
    pub built_by: Option<String>,
    /// Label (repeat for several; replaces the list)
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Logo URL
    #[arg(long, value_name = "URL")]
    pub logo: Option<String>,
    /// Markdown file with the overview
    #[arg(long = "overview-filename", value_name = "FILE")]
    pub overview_filename: Option<PathBuf>,
}

/// `create`.
#[derive(Debug, Args)]
pub struct ChartCreateArgs {
    /// org/[team/]chart
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Descriptive fields.
    #[command(flatten)]
    pub fields: ChartFields,
}

/// `update`.
#[derive(Debug, Args)]
pub struct ChartUpdateArgs {
    /// org/[team/]chart
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Descriptive fields.
    #[command(flatten)]
    pub fields: ChartFields,
}

/// `info`.
#[derive(Debug, Args)]
pub struct ChartInfoArgs {
    /// org/[team/]chart[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// With :version, list the files of the package
    #[arg(long)]
    pub files: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ChartListArgs {
    /// A name pattern (org/[team/]pattern), or org/[team/]chart:version-pattern for versions;
    /// without it, the charts of the current org/team
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
}

/// `push`.
#[derive(Debug, Args)]
pub struct ChartPushArgs {
    /// org/[team/]chart:version
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The .tgz, or a directory holding <chart>-<version>.tgz
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub source: PathBuf,
}

/// `pull`.
#[derive(Debug, Args)]
pub struct ChartPullArgs {
    /// org/[team/]chart[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Directory to write <chart>-<version>.tgz into
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dest: PathBuf,
}

/// `remove`.
#[derive(Debug, Args)]
pub struct ChartRemoveArgs {
    /// org/[team/]chart[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}
