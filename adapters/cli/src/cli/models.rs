//! `arca registry model …` and `arca registry resource …` (guide chapters 4 and 5: `ngc
//! registry model|resource create|info|list|update|remove|upload-version|download-version`).
//! Both kinds take the same commands; flags that belong to one kind only say so.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `arca registry model|resource …`
#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Create a model or resource record (files come with upload-version)
    Create(Box<ArtifactCreateArgs>),
    /// Show a model/resource, or with :version one version (--files lists its files)
    Info(ArtifactInfoArgs),
    /// List models/resources (a name pattern such as 'org/res*'), or the versions of one
    /// (org/[team/]name[:version-pattern])
    List(ArtifactListArgs),
    /// Change a model/resource's metadata, or with :version a version's
    Update(Box<ArtifactUpdateArgs>),
    /// Remove a model/resource with all its versions, or one version with :version
    Remove(ArtifactRemoveArgs),
    /// Upload a version from a directory or file; rerunning an interrupted upload resumes it
    UploadVersion(Box<UploadVersionArgs>),
    /// Download a version (the latest without :version) into <dest>/<name>_v<version>/
    DownloadVersion(DownloadVersionArgs),
}

/// Descriptive flags shared by create and update.
#[derive(Debug, Clone, Default, Args)]
pub struct ArtifactFields {
    /// Application (e.g. OBJECT_DETECTION, OTHER)
    #[arg(long, value_name = "APP")]
    pub application: Option<String>,
    /// Training framework (e.g. PyTorch, TensorFlow)
    #[arg(long, value_name = "FRAMEWORK")]
    pub framework: Option<String>,
    /// Model format (e.g. onnx, ckpt)
    #[arg(long = "format", value_name = "FORMAT")]
    pub format: Option<String>,
    /// Precision (e.g. FP16, FP32, INT8)
    #[arg(long, value_name = "PRECISION")]
    pub precision: Option<String>,
    /// One-line description
    #[arg(long = "short-desc", value_name = "TEXT")]
    pub short_desc: Option<String>,
    /// Markdown file with the overview
    #[arg(long = "overview-filename", value_name = "FILE")]
    pub overview_filename: Option<PathBuf>,
    /// Markdown file: model card, bias (models)
    #[arg(long = "bias-filename", value_name = "FILE")]
    pub bias_filename: Option<PathBuf>,
    /// Markdown file: model card, explainability (models)
    #[arg(long = "explainability-filename", value_name = "FILE")]
    pub explainability_filename: Option<PathBuf>,
    /// Markdown file: model card, privacy (models)
    #[arg(long = "privacy-filename", value_name = "FILE")]
    pub privacy_filename: Option<PathBuf>,
    /// Markdown file: model card, safety and security (models)
    #[arg(long = "safety-security-filename", value_name = "FILE")]
    pub safety_security_filename: Option<PathBuf>,
    /// Markdown file: advanced guide (resources)
    #[arg(long = "advanced-filename", value_name = "FILE")]
    pub advanced_filename: Option<PathBuf>,
    /// Display name
    #[arg(long = "display-name", value_name = "NAME")]
    pub display_name: Option<String>,
    /// Label (repeat for several; replaces the list)
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Logo URL
    #[arg(long, value_name = "URL")]
    pub logo: Option<String>,
    /// Public dataset name
    #[arg(long = "public-dataset-name", value_name = "NAME")]
    pub public_dataset_name: Option<String>,
    /// Public dataset link
    #[arg(long = "public-dataset-link", value_name = "URL")]
    pub public_dataset_link: Option<String>,
    /// Public dataset license
    #[arg(long = "public-dataset-license", value_name = "LICENSE")]
    pub public_dataset_license: Option<String>,
    /// Built by
    #[arg(long = "built-by", value_name = "NAME")]
    pub built_by: Option<String>,
    /// Publisher
    #[arg(long, value_name = "NAME")]
    pub publisher: Option<String>,
}

/// Flags of a version (upload-version, and update with :version).
#[derive(Debug, Clone, Default, Args)]
pub struct VersionFields {
    /// Accuracy reached
    #[arg(long = "accuracy-reached", value_name = "NUMBER")]
    pub accuracy_reached: Option<f64>,
    /// Batch size
    #[arg(long = "batch-size", value_name = "N")]
    pub batch_size: Option<i64>,
    /// GPU model
    #[arg(long = "gpu-model", value_name = "GPU")]
    pub gpu_model: Option<String>,
    /// Memory footprint
    #[arg(long = "memory-footprint", value_name = "SIZE")]
    pub memory_footprint: Option<String>,
    /// Number of epochs
    #[arg(long = "num-epochs", value_name = "N")]
    pub num_epochs: Option<i64>,
    /// Version description
    #[arg(long = "desc", value_name = "TEXT")]
    pub desc: Option<String>,
    /// Link
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
    /// Link type: NGC, Github or Other
    #[arg(long = "link-type", value_name = "TYPE")]
    pub link_type: Option<String>,
    /// Owner name
    #[arg(long = "owner-name", value_name = "NAME")]
    pub owner_name: Option<String>,
    /// JSON file with one custom metrics table {"name", "attributes":[{"key","value"}]}
    /// (at most 3 files of at most 12 pairs)
    #[arg(long = "metrics-file", value_name = "FILE")]
    pub metrics_files: Vec<PathBuf>,
    /// Markdown file: release notes (resources)
    #[arg(long = "release-notes-filename", value_name = "FILE")]
    pub release_notes_filename: Option<PathBuf>,
    /// Markdown file: quick start guide (resources)
    #[arg(long = "quick-start-guide-filename", value_name = "FILE")]
    pub quick_start_guide_filename: Option<PathBuf>,
    /// Markdown file: performance (resources)
    #[arg(long = "performance-filename", value_name = "FILE")]
    pub performance_filename: Option<PathBuf>,
    /// Markdown file: setup (resources)
    #[arg(long = "setup-filename", value_name = "FILE")]
    pub setup_filename: Option<PathBuf>,
}

/// `create`.
#[derive(Debug, Args)]
pub struct ArtifactCreateArgs {
    /// org/[team/]name
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Descriptive fields.
    #[command(flatten)]
    pub fields: ArtifactFields,
    /// Owner name
    #[arg(long = "owner-name", value_name = "NAME")]
    pub owner_name: Option<String>,
}

/// `info`.
#[derive(Debug, Args)]
pub struct ArtifactInfoArgs {
    /// org/[team/]name[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// With :version, list the version's files (path, size, sha256)
    #[arg(long)]
    pub files: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ArtifactListArgs {
    /// A name pattern (org/[team/]pattern), or org/[team/]name[:version-pattern] for versions;
    /// without it, everything in the current org/team
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
}

/// `update`.
#[derive(Debug, Args)]
pub struct ArtifactUpdateArgs {
    /// org/[team/]name[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Descriptive fields (without :version).
    #[command(flatten)]
    pub fields: ArtifactFields,
    /// Version fields (with :version).
    #[command(flatten)]
    pub version: VersionFields,
    /// With :version, make it the latest version
    #[arg(long = "set-latest")]
    pub set_latest: bool,
}

/// `remove`.
#[derive(Debug, Args)]
pub struct ArtifactRemoveArgs {
    /// org/[team/]name[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// `upload-version`.
#[derive(Debug, Args)]
pub struct UploadVersionArgs {
    /// org/[team/]name:version (resources may omit :version: the next one is picked)
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Directory (uploaded with its subdirectories) or single file
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub source: PathBuf,
    /// Start from this complete version's files; uploaded files add to or replace them
    #[arg(long = "base-version", value_name = "VERSION")]
    pub base_version: Option<String>,
    /// With --base-version: leave this file of the base out (repeat for several)
    #[arg(long = "remove-file", value_name = "PATH", requires = "base_version")]
    pub remove_files: Vec<String>,
    /// Version fields.
    #[command(flatten)]
    pub version: VersionFields,
}

/// `download-version`.
#[derive(Debug, Args)]
pub struct DownloadVersionArgs {
    /// org/[team/]name[:version]
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Directory to download into
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dest: PathBuf,
    /// Only files whose path matches this glob (repeat for several)
    #[arg(long = "file", value_name = "GLOB")]
    pub files: Vec<String>,
    /// Skip files whose path matches this glob (repeat for several)
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
}
