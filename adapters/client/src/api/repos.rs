//! Container repositories and their images (tags), NGC shapes:
//! `/v2/org/{org}[/team/{team}]/repos[/{name}[/images[/{tag}]]]`.
//!
//! ```no_run
//! # async fn run(client: arca_client::ArcaClient) -> arca_client::Result<()> {
//! use arca_client::RepoUpdate;
//! for repo in client.list_repos("acme", Some("vision")).await? {
//!     println!("{} {:?}", repo.name, repo.latest_tag);
//! }
//! let update = RepoUpdate { short_description: Some("A detector".into()), ..Default::default() };
//! client.update_repo("acme", None, "detector", &update).await?;
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use super::{null_default, Page, PaginationInfo};
use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;

/// A container repository as the server describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Repository {
    /// The repository's name (last path element).
    pub name: String,
    /// `org` or `org/team`.
    pub namespace: Option<String>,
    /// The human-readable name.
    pub display_name: Option<String>,
    /// One-line description.
    pub short_description: Option<String>,
    /// Overview (Markdown).
    pub description: Option<String>,
    /// Labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: Vec<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Built by.
    pub built_by: Option<String>,
    /// Whether anonymous pulls are allowed.
    #[serde(deserialize_with = "null_default")]
    pub is_public: bool,
    /// The most recently updated tag.
    pub latest_tag: Option<String>,
    /// Size of the latest image, bytes.
    pub latest_image_size: Option<u64>,
    /// Whether the latest image is an index of several platforms.
    #[serde(deserialize_with = "null_default")]
    pub is_multi_architecture: bool,
    /// Its tags (repository info only).
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Creation instant, RFC 3339.
    pub created_date: Option<String>,
    /// Last change, RFC 3339.
    pub updated_date: Option<String>,
}

/// One platform of a multi-arch image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ArchitectureVariant {
    /// CPU architecture (`amd64`).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
    /// Variant (`v8`).
    pub variant: Option<String>,
    /// The platform manifest's digest.
    pub digest: String,
    /// Sum of the platform image's blobs, bytes.
    pub compressed_size: u64,
}

/// An image: a tag and the manifest it points at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Image {
    /// The tag.
    pub tag: String,
    /// The manifest digest.
    pub digest: String,
    /// The manifest media type.
    pub media_type: Option<String>,
    /// Compressed size of all its blobs, bytes.
    pub size: u64,
    /// When the tag last moved.
    pub updated_date: Option<String>,
    /// When the manifest was pushed.
    pub pushed_date: Option<String>,
    /// Platforms of an index.
    #[serde(deserialize_with = "null_default")]
    pub architecture_variants: Vec<ArchitectureVariant>,
}

/// A partial update of repository metadata (`PATCH …/repos/{name}`): `None` fields are left
/// as they are; `labels` replaces the whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoUpdate {
    /// One-line description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    /// Overview (Markdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Logo URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Publisher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Built by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub built_by: Option<String>,
    /// Anonymous pulls (org admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_public: Option<bool>,
}

impl RepoUpdate {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == RepoUpdate::default()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReposPage {
    #[serde(default, deserialize_with = "null_default")]
    repositories: Vec<Repository>,
    #[serde(default)]
    pagination_info: Option<PaginationInfo>,
}

impl Page for ReposPage {
    type Item = Repository;
    fn into_parts(self) -> (Vec<Repository>, Option<PaginationInfo>) {
        (self.repositories, self.pagination_info)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImagesPage {
    #[serde(default, deserialize_with = "null_default")]
    images: Vec<Image>,
    #[serde(default)]
    pagination_info: Option<PaginationInfo>,
}

impl Page for ImagesPage {
    type Item = Image;
    fn into_parts(self) -> (Vec<Image>, Option<PaginationInfo>) {
        (self.images, self.pagination_info)
    }
}

/// `PATCH` answers `{"repository": {…}}`; a bare repository is read too.
#[derive(Deserialize)]
#[serde(untagged)]
enum RepoAnswer {
    Wrapped { repository: Repository },
    Bare(Repository),
}

/// `/v2/org/{org}[/team/{team}]/repos` followed by `tail`.
fn repos_endpoint(org: &str, team: Option<&str>, tail: &[&str]) -> Result<Endpoint> {
    let mut segments = vec!["v2", "org", org];
    if let Some(team) = team {
        segments.extend(["team", team]);
    }
    segments.push("repos");
    segments.extend_from_slice(tail);
    Endpoint::from_segments(segments)
}

impl ArcaClient {
    /// `GET /v2/org/{org}[/team/{team}]/repos` (every page): the repositories directly in the
    /// org (or team) that the caller may see.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`](crate::ClientError::Transport),
    /// [`ClientError::Api`](crate::ClientError::Api),
    /// [`ClientError::Decode`](crate::ClientError::Decode), or
    /// [`ClientError::InvalidUrl`](crate::ClientError::InvalidUrl) for an empty or dot name.
    pub async fn list_repos(&self, org: &str, team: Option<&str>) -> Result<Vec<Repository>> {
        self.get_all_pages::<ReposPage>(repos_endpoint(org, team, &[])?)
            .await
    }

    /// `GET …/repos/{name}`: one repository, with its tags and latest image.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_repos`]; 404 for an unknown repository.
    pub async fn repo_info(&self, org: &str, team: Option<&str>, name: &str) -> Result<Repository> {
        self.get_json(repos_endpoint(org, team, &[name])?).await
    }

    /// `GET …/repos/{name}/images` (every page): the images of a repository, most recently
    /// updated first.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::repo_info`].
    pub async fn list_images(
        &self,
        org: &str,
        team: Option<&str>,
        name: &str,
    ) -> Result<Vec<Image>> {
        self.get_all_pages::<ImagesPage>(repos_endpoint(org, team, &[name, "images"])?)
            .await
    }

    /// `GET …/repos/{name}/images/{tag}`: one image with its multi-arch table.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::repo_info`]; 404 for an unknown tag.
    pub async fn image_info(
        &self,
        org: &str,
        team: Option<&str>,
        name: &str,
        tag: &str,
    ) -> Result<Image> {
        self.get_json(repos_endpoint(org, team, &[name, "images", tag])?)
            .await
    }

    /// `PATCH …/repos/{name}` with the set fields of `update`: changes repository metadata and
    /// returns the repository as it now is.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::repo_info`]; 403 when the caller may not edit it (or make it public).
    pub async fn update_repo(
        &self,
        org: &str,
        team: Option<&str>,
        name: &str,
        update: &RepoUpdate,
    ) -> Result<Repository> {
        let answer: RepoAnswer = self
            .patch_json(repos_endpoint(org, team, &[name])?, update)
            .await?;
        Ok(match answer {
            RepoAnswer::Wrapped { repository } => repository,
            RepoAnswer::Bare(repository) => repository,
        })
    }

    /// `DELETE …/repos/{name}`: removes a repository and all its images.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::repo_info`].
    pub async fn remove_repo(&self, org: &str, team: Option<&str>, name: &str) -> Result<()> {
        self.delete(repos_endpoint(org, team, &[name])?).await
    }

    /// `DELETE …/repos/{name}/images/{tag}`: removes one tag.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::image_info`].
    pub async fn remove_image(
        &self,
        org: &str,
        team: Option<&str>,
        name: &str,
        tag: &str,
    ) -> Result<()> {
        self.delete(repos_endpoint(org, team, &[name, "images", tag])?)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_at_org_and_team_level() {
        assert_eq!(
            repos_endpoint("acme", None, &[]).unwrap().path(),
            "/v2/org/acme/repos"
        );
        assert_eq!(
            repos_endpoint("acme", Some("vision"), &["det", "images", "1.0"])
                .unwrap()
                .path(),
            "/v2/org/acme/team/vision/repos/det/images/1.0"
        );
        assert!(repos_endpoint("acme", None, &[".."]).is_err());
    }

    #[test]
    fn repository_and_images_read_the_server_shapes() {
        let r: Repository = serde_json::from_str(
            r#"{"name":"det","namespace":"acme/vision","displayName":"Det","shortDescription":"",
                "description":"","labels":["a"],"logo":null,"publisher":null,"builtBy":null,
                "isPublic":false,"latestTag":"1.0","latestImageSize":42,
                "isMultiArchitecture":true,"tags":null,"updatedDate":"2025-01-01T00:00:00Z",
                "requestStatus":{"statusCode":"SUCCESS"}}"#,
        )
        .unwrap();
        assert_eq!(r.latest_image_size, Some(42));
        assert!(r.is_multi_architecture && r.tags.is_empty());
        let page: ImagesPage = serde_json::from_str(
            r#"{"images":[{"tag":"1.0","digest":"sha256:ab","mediaType":"m","size":3,
                "architectureVariants":[{"architecture":"arm64","os":"linux","variant":"v8",
                "digest":"sha256:cd","compressedSize":2}]}]}"#,
        )
        .unwrap();
        let (images, info) = page.into_parts();
        assert!(info.is_none());
        assert_eq!(
            images[0].architecture_variants[0].variant.as_deref(),
            Some("v8")
        );
    }

    #[test]
    fn update_skips_unset_fields_and_reads_either_answer() {
        let u = RepoUpdate {
            labels: Some(vec!["x".into()]),
            is_public: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"labels":["x"],"isPublic":true})
        );
        assert!(RepoUpdate::default().is_empty());
        let a: RepoAnswer = serde_json::from_str(r#"{"repository":{"name":"a"}}"#).unwrap();
        assert!(matches!(a, RepoAnswer::Wrapped { repository } if repository.name == "a"));
    }
}
