//! Service-key scopes and entity filters (guide §2.3.2.2, R-KEY-2).
//!
//! A service key belongs to the org, not to a user; what it may do is exactly what one of its
//! scopes covers, on what its entity filter admits. Service keys have no people actions.

use serde::{Deserialize, Serialize};

use crate::actions::{ArtifactAction, ArtifactKind};
use crate::error::AuthError;
use crate::wire::{echo, wire_enum};

wire_enum! {
    /// A scope of a service key: the guide's scopes, extended to the artifact actions the guide
    /// has no "Artifact" scope for (create, update, download, upload).
    ///
    /// `*_CONTAINER(S)` scopes cover [`ArtifactKind::Container`]; `*_ARTIFACT(S)` scopes cover
    /// models, resources, Helm charts and collections. Parsing also accepts the guide's labels
    /// ("Get Container", "List Artifacts", "All Scopes").
    pub enum ServiceKeyScope ("service key scope") {
        /// Every action on every kind.
        All = "ALL" | "ALL_SCOPES",
        /// View a container repository's information.
        GetContainer = "GET_CONTAINER",
        /// List container repositories and tags.
        ListContainers = "LIST_CONTAINERS" | "LIST_CONTAINER",
        /// Create a container repository.
        CreateContainer = "CREATE_CONTAINER",
        /// Edit a container repository's metadata.
        UpdateContainer = "UPDATE_CONTAINER",
        /// Delete container repositories, tags and manifests.
        DeleteContainer = "DELETE_CONTAINER",
        /// Pull container images.
        DownloadContainer = "DOWNLOAD_CONTAINER",
        /// Push container images.
        UploadContainer = "UPLOAD_CONTAINER",
        /// Delete models, resources, charts, collections and their versions.
        DeleteArtifact = "DELETE_ARTIFACT",
        /// View a model's, resource's, chart's or collection's information.
        GetArtifact = "GET_ARTIFACT",
        /// List models, resources, charts, collections and their versions.
        ListArtifacts = "LIST_ARTIFACTS" | "LIST_ARTIFACT",
        /// Create a model, resource, chart or collection (Arca extension).
        CreateArtifact = "CREATE_ARTIFACT",
        /// Edit a model's, resource's, chart's or collection's metadata (Arca extension).
        UpdateArtifact = "UPDATE_ARTIFACT",
        /// Download versions and files (Arca extension).
        DownloadArtifact = "DOWNLOAD_ARTIFACT",
        /// Upload versions and files (Arca extension).
        UploadArtifact = "UPLOAD_ARTIFACT",
    }
}

impl ServiceKeyScope {
    /// The one action this scope grants; `None` for [`ServiceKeyScope::All`].
    pub const fn action(self) -> Option<ArtifactAction> {
        use ArtifactAction as A;
        use ServiceKeyScope as S;
        Some(match self {
            S::All => return None,
            S::GetContainer | S::GetArtifact => A::View,
            S::ListContainers | S::ListArtifacts => A::List,
            S::CreateContainer | S::CreateArtifact => A::Create,
            S::UpdateContainer | S::UpdateArtifact => A::Update,
            S::DeleteContainer | S::DeleteArtifact => A::Delete,
            S::DownloadContainer | S::DownloadArtifact => A::Download,
            S::UploadContainer | S::UploadArtifact => A::Upload,
        })
    }

    /// Whether this is a container scope (`*_CONTAINER(S)`); false for artifact scopes and for
    /// [`ServiceKeyScope::All`].
    pub const fn is_container_scope(self) -> bool {
        use ServiceKeyScope as S;
        matches!(
            self,
            S::GetContainer
                | S::ListContainers
                | S::CreateContainer
                | S::UpdateContainer
                | S::DeleteContainer
                | S::DownloadContainer
                | S::UploadContainer
        )
    }

    /// Whether this scope covers `action` on artifacts of `kind`.
    pub fn covers(self, kind: ArtifactKind, action: ArtifactAction) -> bool {
        match self.action() {
            None => true,
            Some(granted) => {
                granted == action && self.is_container_scope() == (kind == ArtifactKind::Container)
            }
        }
    }

    /// The narrowest scope that covers `action` on `kind` (for messages such as "this key needs
    /// the scope UPLOAD_CONTAINER").
    pub fn required_for(kind: ArtifactKind, action: ArtifactAction) -> ServiceKeyScope {
        ServiceKeyScope::ALL
            .iter()
            .copied()
            .find(|s| *s != ServiceKeyScope::All && s.covers(kind, action))
            .unwrap_or(ServiceKeyScope::All)
    }
}

wire_enum! {
    /// The entity type of a service key's entity filter (guide §2.3.2.2, "Entity Type").
    pub enum EntityType ("entity type") {
        /// Every artifact of every kind ("All Entity").
        AllEntities = "ALL_ENTITIES" | "ALL_ENTITY",
        /// Every container repository.
        AllContainers = "ALL_CONTAINERS",
        /// Every model.
        AllModels = "ALL_MODELS",
        /// Every Helm chart.
        AllHelmCharts = "ALL_HELM_CHARTS",
        /// Every resource.
        AllResources = "ALL_RESOURCES",
        /// One container repository.
        SpecificContainer = "SPECIFIC_CONTAINER",
        /// One model.
        SpecificModel = "SPECIFIC_MODEL",
        /// One Helm chart.
        SpecificHelmChart = "SPECIFIC_HELM_CHART",
        /// One resource.
        SpecificResource = "SPECIFIC_RESOURCE",
    }
}

/// Which artifacts a service key may act on.
///
/// Specific names are full artifact paths without tag or version: `org/name` or
/// `org/team/name`. Collections are admitted only by [`EntityFilter::AllEntities`] (the guide
/// has no collection entity type).
///
/// Serializes as `{"entityType":"SPECIFIC_CONTAINER","entityValue":"org/repo"}`
/// (`entityValue` absent for the `ALL_*` types); deserialization validates like
/// [`EntityFilter::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "EntityFilterRepr", into = "EntityFilterRepr")]
pub enum EntityFilter {
    /// Every artifact of every kind.
    AllEntities,
    /// Every container repository.
    AllContainers,
    /// Every model.
    AllModels,
    /// Every Helm chart.
    AllHelmCharts,
    /// Every resource.
    AllResources,
    /// One container repository, by path.
    SpecificContainer(String),
    /// One model, by path.
    SpecificModel(String),
    /// One Helm chart, by path.
    SpecificHelmChart(String),
    /// One resource, by path.
    SpecificResource(String),
}

/// The wire form of [`EntityFilter`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityFilterRepr {
    entity_type: EntityType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entity_value: Option<String>,
}

impl TryFrom<EntityFilterRepr> for EntityFilter {
    type Error = AuthError;

    fn try_from(repr: EntityFilterRepr) -> Result<Self, Self::Error> {
        EntityFilter::new(repr.entity_type, repr.entity_value)
    }
}

impl From<EntityFilter> for EntityFilterRepr {
    fn from(filter: EntityFilter) -> Self {
        EntityFilterRepr {
            entity_type: filter.entity_type(),
            entity_value: filter.entity_value().map(str::to_owned),
        }
    }
}

/// Checks the light shape of a specific entity path: two or three non-empty `/`-separated
/// segments without whitespace, control characters, `:` or `@` (no tag, no digest). Full name
/// rules are the core crate's.
fn check_entity_path(path: &str) -> Result<(), AuthError> {
    let segments: Vec<&str> = path.split('/').collect();
    let bad = |reason: &str| AuthError::InvalidEntityFilter {
        reason: format!("`{}`: {reason}", echo(path)),
    };
    if !(2..=3).contains(&segments.len()) {
        return Err(bad("an entity is org/name or org/team/name"));
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("empty path segment"));
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '@')
    {
        return Err(bad("no spaces, tags (:) or digests (@) in an entity"));
    }
    Ok(())
}

impl EntityFilter {
    /// Builds a filter from its entity type and value, as the key dialog sends them.
    ///
    /// `SPECIFIC_*` types need a value (an artifact path, see [`EntityFilter`]); `ALL_*` types
    /// take none. Errors are [`AuthError::InvalidEntityFilter`].
    pub fn new(entity_type: EntityType, value: Option<String>) -> Result<Self, AuthError> {
        use EntityType as T;
        let filter = match (entity_type, value) {
            (T::AllEntities, None) => EntityFilter::AllEntities,
            (T::AllContainers, None) => EntityFilter::AllContainers,
            (T::AllModels, None) => EntityFilter::AllModels,
            (T::AllHelmCharts, None) => EntityFilter::AllHelmCharts,
            (T::AllResources, None) => EntityFilter::AllResources,
            (T::SpecificContainer, Some(v)) => EntityFilter::SpecificContainer(v),
            (T::SpecificModel, Some(v)) => EntityFilter::SpecificModel(v),
            (T::SpecificHelmChart, Some(v)) => EntityFilter::SpecificHelmChart(v),
            (T::SpecificResource, Some(v)) => EntityFilter::SpecificResource(v),
            (t, Some(_)) => {
                return Err(AuthError::InvalidEntityFilter {
                    reason: format!("{t} takes no entity value"),
                })
            }
            (t, None) => {
                return Err(AuthError::InvalidEntityFilter {
                    reason: format!("{t} needs an entity value (org/name or org/team/name)"),
                })
            }
        };
        if let Some(path) = filter.entity_value() {
            check_entity_path(path)?;
        }
        Ok(filter)
    }

    /// The filter's entity type.
    pub fn entity_type(&self) -> EntityType {
        match self {
            EntityFilter::AllEntities => EntityType::AllEntities,
            EntityFilter::AllContainers => EntityType::AllContainers,
            EntityFilter::AllModels => EntityType::AllModels,
            EntityFilter::AllHelmCharts => EntityType::AllHelmCharts,
            EntityFilter::AllResources => EntityType::AllResources,
            EntityFilter::SpecificContainer(_) => EntityType::SpecificContainer,
            EntityFilter::SpecificModel(_) => EntityType::SpecificModel,
            EntityFilter::SpecificHelmChart(_) => EntityType::SpecificHelmChart,
            EntityFilter::SpecificResource(_) => EntityType::SpecificResource,
        }
    }

    /// The specific entity path, if the filter names one. A listing allowed under such a filter
    /// must be narrowed by the caller to this entity.
    pub fn entity_value(&self) -> Option<&str> {
        match self {
            EntityFilter::SpecificContainer(p)
            | EntityFilter::SpecificModel(p)
            | EntityFilter::SpecificHelmChart(p)
            | EntityFilter::SpecificResource(p) => Some(p),
            _ => None,
        }
    }

    /// The one artifact kind the filter is limited to; `None` for [`EntityFilter::AllEntities`].
    pub fn kind(&self) -> Option<ArtifactKind> {
        match self {
            EntityFilter::AllEntities => None,
            EntityFilter::AllContainers | EntityFilter::SpecificContainer(_) => {
                Some(ArtifactKind::Container)
            }
            EntityFilter::AllModels | EntityFilter::SpecificModel(_) => Some(ArtifactKind::Model),
            EntityFilter::AllHelmCharts | EntityFilter::SpecificHelmChart(_) => {
                Some(ArtifactKind::HelmChart)
            }
            EntityFilter::AllResources | EntityFilter::SpecificResource(_) => {
                Some(ArtifactKind::Resource)
            }
        }
    }

    /// Whether the filter admits `action` on `entity` of `kind`.
    ///
    /// `entity` is the artifact path without tag or version; `None` means the collection as a
    /// whole (a catalog listing or a search). Under a specific filter, `None` is admitted only
    /// for [`ArtifactAction::List`], and the caller must narrow the results to
    /// [`EntityFilter::entity_value`].
    pub fn admits(&self, kind: ArtifactKind, action: ArtifactAction, entity: Option<&str>) -> bool {
        if self.kind().is_some_and(|k| k != kind) {
            return false;
        }
        match (self.entity_value(), entity) {
            (None, _) => true,
            (Some(only), Some(entity)) => only == entity,
            (Some(_), None) => action == ArtifactAction::List,
        }
    }
}

/// Whether a service key with `scopes` and `filter` may perform `action` on `entity` of `kind`
/// (R-KEY-2).
///
/// Allowed when some scope covers (`kind`, `action`) and the filter admits the entity. `entity`
/// is the artifact path (`org/name` or `org/team/name`, no tag or version), or `None` for the
/// collection as a whole, e.g. a listing. With a `List` action, `entity` `None` and a specific
/// filter, listing is allowed but the caller must narrow the results to
/// [`EntityFilter::entity_value`]. Unlike NGC, list scopes do allow listing.
pub fn service_key_allows(
    scopes: &[ServiceKeyScope],
    filter: &EntityFilter,
    kind: ArtifactKind,
    action: ArtifactAction,
    entity: Option<&str>,
) -> bool {
    scopes.iter().any(|s| s.covers(kind, action)) && filter.admits(kind, action, entity)
}

/// Checks the scopes requested for a service key: at least one ([`AuthError::NoScope`]).
pub fn check_scopes(scopes: &[ServiceKeyScope]) -> Result<(), AuthError> {
    if scopes.is_empty() {
        Err(AuthError::NoScope)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::tests::{any_artifact_action, any_kind};
    use proptest::prelude::*;
    use ArtifactAction as A;
    use ArtifactKind as K;
    use ServiceKeyScope as S;

    fn path() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,6}/([a-z0-9]{1,6}/)?[a-z0-9]{1,6}"
    }

    fn any_filter() -> impl Strategy<Value = EntityFilter> {
        (proptest::sample::select(EntityType::ALL), path()).prop_map(|(t, p)| {
            let value = t.as_str().starts_with("SPECIFIC").then_some(p);
            EntityFilter::new(t, value).expect("valid filter")
        })
    }

    #[test]
    fn scope_names_parse_from_the_guide_labels() {
        let labels = [
            ("All Scopes", S::All),
            ("Get Container", S::GetContainer),
            ("List Containers", S::ListContainers),
            ("Create Container", S::CreateContainer),
            ("Update Container", S::UpdateContainer),
            ("Delete Container", S::DeleteContainer),
            ("Download Container", S::DownloadContainer),
            ("Upload Container", S::UploadContainer),
            ("Delete Artifact", S::DeleteArtifact),
            ("Get Artifact", S::GetArtifact),
            ("List Artifacts", S::ListArtifacts),
        ];
        for (label, scope) in labels {
            assert_eq!(label.parse::<ServiceKeyScope>().unwrap(), scope, "{label}");
        }
        assert_eq!(S::ListContainers.to_string(), "LIST_CONTAINERS");
        assert_eq!(S::ALL.len(), 15);
    }

    #[test]
    fn scope_coverage_table() {
        // Each non-All scope covers exactly one action, on containers xor on the other kinds.
        for scope in S::ALL.iter().filter(|s| **s != S::All) {
            for kind in K::ALL {
                for action in A::ALL {
                    let expected = scope.action() == Some(*action)
                        && (*kind == K::Container) == scope.is_container_scope();
                    assert_eq!(
                        scope.covers(*kind, *action),
                        expected,
                        "{scope} {kind} {action}"
                    );
                }
            }
        }
        assert!(S::GetArtifact.covers(K::Collection, A::View));
        assert!(!S::GetArtifact.covers(K::Container, A::View));
        assert!(S::UploadContainer.covers(K::Container, A::Upload));
        assert_eq!(S::required_for(K::Container, A::Upload), S::UploadContainer);
        assert_eq!(S::required_for(K::Model, A::List), S::ListArtifacts);
        for kind in K::ALL {
            for action in A::ALL {
                assert!(S::All.covers(*kind, *action));
                assert!(S::required_for(*kind, *action).covers(*kind, *action));
                assert_ne!(S::required_for(*kind, *action), S::All);
            }
        }
    }

    #[test]
    fn entity_filters_validate_and_serialize() {
        let f = EntityFilter::new(EntityType::SpecificContainer, Some("acme/web".into())).unwrap();
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web"})
        );
        assert_eq!(serde_json::from_value::<EntityFilter>(json).unwrap(), f);
        let all = serde_json::to_value(EntityFilter::AllModels).unwrap();
        assert_eq!(all, serde_json::json!({"entityType": "ALL_MODELS"}));
        let all_entity: EntityFilter =
            serde_json::from_str(r#"{"entityType":"All Entity"}"#).unwrap();
        assert_eq!(all_entity, EntityFilter::AllEntities);

        for bad in [
            (EntityType::SpecificModel, None),
            (EntityType::AllModels, Some("acme/m".to_owned())),
            (EntityType::SpecificModel, Some("acme".to_owned())),
            (EntityType::SpecificModel, Some("a/b/c/d".to_owned())),
            (EntityType::SpecificModel, Some("acme//m".to_owned())),
            (
                EntityType::SpecificContainer,
                Some("acme/web:latest".to_owned()),
            ),
            (EntityType::SpecificContainer, Some("acme/w eb".to_owned())),
        ] {
            let err = EntityFilter::new(bad.0, bad.1.clone()).unwrap_err();
            assert!(
                matches!(err, AuthError::InvalidEntityFilter { .. }),
                "{bad:?}: {err:?}"
            );
        }
        assert!(serde_json::from_str::<EntityFilter>(
            r#"{"entityType":"SPECIFIC_MODEL","entityValue":"nope"}"#
        )
        .is_err());
    }

    // R-KEY-2
    #[test]
    fn service_key_decisions() {
        let web = EntityFilter::SpecificContainer("acme/web".into());
        let scopes = [S::ListContainers, S::GetContainer, S::DownloadContainer];
        assert!(service_key_allows(
            &scopes,
            &web,
            K::Container,
            A::Download,
            Some("acme/web")
        ));
        assert!(!service_key_allows(
            &scopes,
            &web,
            K::Container,
            A::Download,
            Some("acme/db")
        ));
        assert!(!service_key_allows(
            &scopes,
            &web,
            K::Container,
            A::Upload,
            Some("acme/web")
        ));
        // Listing the catalog is allowed, narrowed by the caller to the one entity.
        assert!(service_key_allows(
            &scopes,
            &web,
            K::Container,
            A::List,
            None
        ));
        assert_eq!(web.entity_value(), Some("acme/web"));
        assert!(!service_key_allows(
            &scopes,
            &web,
            K::Container,
            A::View,
            None
        ));
        assert!(!service_key_allows(&scopes, &web, K::Model, A::List, None));
        // Artifact scopes do not reach containers and vice versa.
        let models = EntityFilter::AllModels;
        assert!(service_key_allows(
            &[S::GetArtifact],
            &models,
            K::Model,
            A::View,
            Some("acme/m")
        ));
        assert!(!service_key_allows(
            &[S::GetArtifact],
            &models,
            K::Resource,
            A::View,
            Some("acme/r")
        ));
        assert!(!service_key_allows(
            &[S::GetContainer],
            &models,
            K::Model,
            A::View,
            Some("acme/m")
        ));
        // Collections: only through ALL_ENTITIES.
        assert!(service_key_allows(
            &[S::All],
            &EntityFilter::AllEntities,
            K::Collection,
            A::Delete,
            Some("acme/c")
        ));
        assert!(!service_key_allows(
            &[],
            &EntityFilter::AllEntities,
            K::Container,
            A::List,
            None
        ));
        assert_eq!(check_scopes(&[]), Err(AuthError::NoScope));
        assert_eq!(check_scopes(&[S::All]), Ok(()));
    }

    proptest! {
        // R-KEY-2
        #[test]
        fn list_and_get_container_scopes_never_write(
            scopes in proptest::sample::subsequence(
                vec![S::ListContainers, S::GetContainer],
                0..=2,
            ),
            filter in any_filter(),
            kind in any_kind(),
            action in any_artifact_action(),
            entity in proptest::option::of(path()),
        ) {
            let allowed = service_key_allows(&scopes, &filter, kind, action, entity.as_deref());
            if matches!(action, A::Upload | A::Delete) {
                prop_assert!(!allowed);
            }
            if allowed {
                prop_assert!(matches!(action, A::List | A::View));
                prop_assert_eq!(kind, K::Container);
            }
        }

        // R-KEY-2
        #[test]
        fn a_specific_container_filter_admits_no_other_entity(
            only in path(),
            other in path(),
            kind in any_kind(),
            action in any_artifact_action(),
        ) {
            let filter = EntityFilter::SpecificContainer(only.clone());
            let allowed = service_key_allows(&[S::All], &filter, kind, action, Some(&other));
            if other != only || kind != K::Container {
                prop_assert!(!allowed);
            } else {
                prop_assert!(allowed);
            }
        }

        #[test]
        fn allowed_means_some_scope_covers(
            scopes in proptest::sample::subsequence(S::ALL.to_vec(), 0..4),
            filter in any_filter(),
            kind in any_kind(),
            action in any_artifact_action(),
            entity in proptest::option::of(path()),
        ) {
            if service_key_allows(&scopes, &filter, kind, action, entity.as_deref()) {
                prop_assert!(scopes.iter().any(|s| s.covers(kind, action)));
                prop_assert!(filter.kind().is_none() || filter.kind() == Some(kind));
            }
        }

        #[test]
        fn scope_and_filter_parsing_never_panics(
            text in any::<String>(),
            entity_type in proptest::sample::select(EntityType::ALL),
            value in proptest::option::of(any::<String>()),
        ) {
            let _ = text.parse::<ServiceKeyScope>();
            let _ = text.parse::<EntityType>();
            if let Ok(filter) = EntityFilter::new(entity_type, value) {
                prop_assert_eq!(filter.entity_type(), entity_type);
            }
        }
    }
}
