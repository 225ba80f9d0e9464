//! `arca registry image …` (guide chapter 3: `ngc registry image list|info|update|remove|
//! push|pull`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// `arca registry …`
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Container images: list, info, update, remove, push, pull
    #[command(subcommand)]
    Image(ImageCommand),
    /// Models: create, info, list, update, remove, upload-version, download-version
    #[command(subcommand)]
    Model(crate::cli::models::ArtifactCommand),
    /// Resources: create, info, list, update, remove, upload-version, download-version
    #[command(subcommand)]
    Resource(crate::cli::models::ArtifactCommand),
    /// Helm charts: create, update, info, list, push, pull, remove
    #[command(subcommand)]
    Chart(crate::cli::charts::ChartCommand),
}

/// `arca registry image …`
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List repositories of the current org/team, or the images (tags) of one repository
    List(ImageListArgs),
    /// Show a repository, or with a tag one image and its platforms
    Info(ImageInfoArgs),
    /// Change a repository's metadata
    Update(ImageUpdateArgs),
    /// Remove a repository (and all its images), or one image with :tag
    Remove(ImageRemoveArgs),
    /// Push an OCI image layout directory or a `docker save` tarball (no Docker daemon needed)
    Push(ImagePushArgs),
    /// Pull an image into an OCI image layout directory or a `docker save` tarball
    Pull(ImagePullArgs),
}

/// `image list`.
#[derive(Debug, Args)]
pub struct ImageListArgs {
    /// org/[team/]name[:tag-glob]; without it, the repositories of the current org/team
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
}

/// `image info`.
#[derive(Debug, Args)]
pub struct ImageInfoArgs {
    /// org/[team/]name[:tag]
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

/// `image update`.
#[derive(Debug, Args)]
pub struct ImageUpdateArgs {
    /// org/[team/]name
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,
    /// One-line description
    #[arg(long = "desc", value_name = "TEXT")]
    pub desc: Option<String>,
    /// Markdown file with the overview
    #[arg(long, value_name = "FILE")]
    pub overview: Option<PathBuf>,
    /// Display name
    #[arg(long = "display-name", value_name = "NAME")]
    pub display_name: Option<String>,
    /// Label (repeat for several; replaces the list)
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Remove every label
    #[arg(long = "clear-labels", conflicts_with = "labels")]
    pub clear_labels: bool,
    /// Logo URL
    #[arg(long, value_name = "URL")]
    pub logo: Option<String>,
    /// Publisher
    #[arg(long, value_name = "NAME")]
    pub publisher: Option<String>,
    /// Built by
    #[arg(long = "built-by", value_name = "NAME")]
    pub built_by: Option<String>,
    /// Allow anonymous pulls (org admins only)
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub public: Option<bool>,
}

/// `image remove`.
#[derive(Debug, Args)]
pub struct ImageRemoveArgs {
    /// org/[team/]name[:tag]
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// `image push`.
#[derive(Debug, Args)]
pub struct ImagePushArgs {
    /// An OCI image layout directory or a `docker save` tarball
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// org/[team/]name:tag
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

/// Formats `image pull` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PullFormat {
    /// An OCI image layout directory (all platforms of a multi-arch image)
    #[default]
    Oci,
    /// A `docker load`-able tarball (one platform)
    DockerArchive,
}

/// `image pull`.
#[derive(Debug, Args)]
pub struct ImagePullArgs {
    /// org/[team/]name:tag or org/[team/]name@sha256:…
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Directory to write (for docker-archive: the .tar file, or a directory to put it in)
    #[arg(value_name = "DEST")]
    pub dest: PathBuf,
    /// What to write
    #[arg(long, value_enum, default_value_t = PullFormat::Oci)]
    pub format: PullFormat,
    /// Platform to take from a multi-arch image for docker-archive (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM", default_value = "linux/amd64")]
    pub platform: String,
}
