// The SQL of `ScopeStore` (see `scopes.rs`), the same for both dialects. Not a module of its own:
// each backend includes this file in a child module that defines `Db` (its sqlx database) and
// `Backend` (its store type), so it can use the backend's private `pool` and `begin_write`.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::domain::scopes::{ClientScope, ClientScopeLink, MapperContainer, ProtocolMapper, RealmScopes, ScopeHolder};
use crate::store::common::{map_unique, to_json};
use crate::store::scopes::ScopeStore;
use crate::store::StoreError;

type ScopeTx<'a> = sqlx::Transaction<'a, Db>;

#[derive(sqlx::FromRow)]
struct ScopeRow {
    id: String,
    realm_id: String,
    name: String,
    description: Option<String>,
    protocol: String,
    attributes: String,
}

#[derive(sqlx::FromRow)]
struct MapperRow {
    id: String,
    client_scope_id: Option<String>,
    client_id: Option<String>,
    name: String,
    protocol: String,
    mapper_type: String,
    config: String,
}

fn string_map(what: &str, text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

impl MapperRow {
    fn into_mapper(self) -> Result<(MapperContainer, ProtocolMapper), StoreError> {
        let container = match (self.client_scope_id, self.client_id) {
            (Some(scope), None) => MapperContainer::ClientScope(scope),
            (None, Some(client)) => MapperContainer::Client(client),
            _ => return Err(StoreError::Corrupt(format!("protocol mapper {} has no single container", self.id))),
        };
        let config = string_map(&format!("config of protocol mapper {}", self.id), &self.config)?;
        let mapper =
            ProtocolMapper { id: self.id, name: self.name, protocol: self.protocol, protocol_mapper: self.mapper_type, config };
        Ok((container, mapper))
    }
}

/// (client scope id, client id) columns of a container.
fn container_columns(container: &MapperContainer) -> (Option<&str>, Option<&str>) {
    match container {
        MapperContainer::ClientScope(id) => (Some(id.as_str()), None),
        MapperContainer::Client(id) => (None, Some(id.as_str())),
    }
}

/// The `WHERE` part naming a container: `$N` is its id.
fn container_condition(container: &MapperContainer, n: usize) -> String {
    match container {
        MapperContainer::ClientScope(_) => format!("client_scope_id = ${n}"),
        MapperContainer::Client(_) => format!("client_id = ${n}"),
    }
}

fn container_id(container: &MapperContainer) -> &str {
    match container {
        MapperContainer::ClientScope(id) | MapperContainer::Client(id) => id,
    }
}

impl Backend {
    async fn insert_scope_row(tx: &mut ScopeTx<'_>, scope: &ClientScope) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_scopes (id, realm_id, name, description, protocol, attributes) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&scope.id)
        .bind(&scope.realm_id)
        .bind(&scope.name)
        .bind(&scope.description)
        .bind(&scope.protocol)
        .bind(to_json(&scope.attributes))
        .execute(&mut **tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn insert_mapper(
        tx: &mut ScopeTx<'_>,
        realm_id: &str,
        container: &MapperContainer,
        mapper: &ProtocolMapper,
    ) -> Result<(), StoreError> {
        let (scope_id, client_id) = container_columns(container);
        sqlx::query(
            "INSERT INTO protocol_mappers (id, realm_id, client_scope_id, client_id, name, protocol, mapper_type, config) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&mapper.id)
        .bind(realm_id)
        .bind(scope_id)
        .bind(client_id)
        .bind(&mapper.name)
        .bind(&mapper.protocol)
        .bind(&mapper.protocol_mapper)
        .bind(to_json(&mapper.config))
        .execute(&mut **tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn upsert_link(
        tx: &mut ScopeTx<'_>,
        realm_id: &str,
        client_id: &str,
        scope_id: &str,
        default_scope: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_scope_links (realm_id, client_id, scope_id, default_scope) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (client_id, scope_id) DO UPDATE SET default_scope = excluded.default_scope",
        )
        .bind(realm_id)
        .bind(client_id)
        .bind(scope_id)
        .bind(default_scope)
        .execute(&mut **tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn insert_scope_mapping(
        tx: &mut ScopeTx<'_>,
        realm_id: &str,
        holder: &ScopeHolder,
        role_id: &str,
    ) -> Result<(), StoreError> {
        let sql = match holder {
            ScopeHolder::Client(_) => {
                "INSERT INTO client_scope_mappings (realm_id, client_id, role_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            }
            ScopeHolder::ClientScope(_) => {
                "INSERT INTO scope_role_mappings (realm_id, scope_id, role_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            }
        };
        sqlx::query(sql).bind(realm_id).bind(container_id(holder)).bind(role_id).execute(&mut **tx).await.map_err(map_unique)?;
        Ok(())
    }

    /// Writes a whole scope model into a realm (creation, import, upgrade) inside `tx`. Links,
    /// defaults and mappings must name scopes, clients and roles written before or in it.
    pub(super) async fn insert_scopes(tx: &mut ScopeTx<'_>, realm_id: &str, scopes: &RealmScopes) -> Result<(), StoreError> {
        for scope in &scopes.client_scopes {
            Self::insert_scope_row(tx, scope).await?;
            let container = MapperContainer::ClientScope(scope.id.clone());
            for mapper in &scope.mappers {
                Self::insert_mapper(tx, realm_id, &container, mapper).await?;
            }
        }
        for (client_id, mapper) in &scopes.client_mappers {
            Self::insert_mapper(tx, realm_id, &MapperContainer::Client(client_id.clone()), mapper).await?;
        }
        for (scope_id, default_scope) in &scopes.realm_defaults {
            sqlx::query(
                "INSERT INTO realm_default_scopes (realm_id, scope_id, default_scope) VALUES ($1, $2, $3) \
                 ON CONFLICT (realm_id, scope_id) DO UPDATE SET default_scope = excluded.default_scope",
            )
            .bind(realm_id)
            .bind(scope_id)
            .bind(*default_scope)
            .execute(&mut **tx)
            .await
            .map_err(map_unique)?;
        }
        for link in &scopes.client_links {
            Self::upsert_link(tx, realm_id, &link.client_id, &link.scope_id, link.default_scope).await?;
        }
        for (holder, role_id) in &scopes.scope_mappings {
            Self::insert_scope_mapping(tx, realm_id, holder, role_id).await?;
        }
        Ok(())
    }

    /// The realm's scope model as `realm_scopes` returns it, read inside `tx`.
    pub(super) async fn scopes_in(tx: &mut ScopeTx<'_>, realm_id: &str) -> Result<RealmScopes, StoreError> {
        let scope_rows: Vec<ScopeRow> = sqlx::query_as(
            "SELECT id, realm_id, name, description, protocol, attributes FROM client_scopes \
             WHERE realm_id = $1 ORDER BY name",
        )
        .bind(realm_id)
        .fetch_all(&mut **tx)
        .await?;
        let mapper_rows: Vec<MapperRow> = sqlx::query_as(
            "SELECT id, client_scope_id, client_id, name, protocol, mapper_type, config FROM protocol_mappers \
             WHERE realm_id = $1 ORDER BY name, id",
        )
        .bind(realm_id)
        .fetch_all(&mut **tx)
        .await?;
        let defaults: Vec<(String, bool)> = sqlx::query_as(
            "SELECT d.scope_id, d.default_scope FROM realm_default_scopes d JOIN client_scopes s ON s.id = d.scope_id \
             WHERE d.realm_id = $1 ORDER BY s.name",
        )
        .bind(realm_id)
        .fetch_all(&mut **tx)
        .await?;
        let links: Vec<(String, String, bool)> = sqlx::query_as(
            "SELECT l.client_id, l.scope_id, l.default_scope FROM client_scope_links l \
             JOIN client_scopes s ON s.id = l.scope_id WHERE l.realm_id = $1 ORDER BY l.client_id, s.name",
        )
        .bind(realm_id)
        .fetch_all(&mut **tx)
        .await?;
        let client_mappings: Vec<(String, String)> = sqlx::query_as(
            "SELECT client_id, role_id FROM client_scope_mappings WHERE realm_id = $1 ORDER BY client_id, role_id",
        )
        .bind(realm_id)
        .fetch_all(&mut **tx)
        .await?;
        let scope_mappings: Vec<(String, String)> = sqlx::query_as(
            "SELECT scope_id, role_id FROM scope_role_mappings WHERE realm_id = $1 ORDER BY scope_id, role_id",
        )
        .bind(realm_id)
        .fetch_all(&mut **tx)
        .await?;

        let mut client_scopes = Vec::with_capacity(scope_rows.len());
        for row in scope_rows {
            let attributes = string_map(&format!("attributes of client scope {}", row.name), &row.attributes)?;
            client_scopes.push(ClientScope {
                id: row.id,
                realm_id: row.realm_id,
                name: row.name,
                description: row.description,
                protocol: row.protocol,
                attributes,
                mappers: Vec::new(),
            });
        }
        let mut client_mappers = Vec::new();
        for row in mapper_rows {
            match row.into_mapper()? {
                (MapperContainer::ClientScope(scope_id), mapper) => {
                    if let Some(scope) = client_scopes.iter_mut().find(|s| s.id == scope_id) {
                        scope.mappers.push(mapper);
                    }
                }
                (MapperContainer::Client(client_id), mapper) => client_mappers.push((client_id, mapper)),
            }
        }
        let client_links = links
            .into_iter()
            .map(|(client_id, scope_id, default_scope)| ClientScopeLink { client_id, scope_id, default_scope })
            .collect();
        let scope_mappings = client_mappings
            .into_iter()
            .map(|(client, role)| (ScopeHolder::Client(client), role))
            .chain(scope_mappings.into_iter().map(|(scope, role)| (ScopeHolder::ClientScope(scope), role)))
            .collect();
        Ok(RealmScopes { client_scopes, client_mappers, realm_defaults: defaults, client_links, scope_mappings })
    }

    /// Whether the realm holds the container (a client scope or a client of its own).
    async fn holds(tx: &mut ScopeTx<'_>, realm_id: &str, container: &MapperContainer) -> Result<bool, StoreError> {
        let sql = match container {
            MapperContainer::ClientScope(_) => "SELECT COUNT(*) FROM client_scopes WHERE id = $1 AND realm_id = $2",
            MapperContainer::Client(_) => "SELECT COUNT(*) FROM clients WHERE id = $1 AND realm_id = $2",
        };
        let (count,): (i64,) = sqlx::query_as(sql).bind(container_id(container)).bind(realm_id).fetch_one(&mut **tx).await?;
        Ok(count > 0)
    }
}

#[async_trait]
impl ScopeStore for Backend {
    async fn realm_scopes(&self, realm_id: &str) -> Result<RealmScopes, StoreError> {
        let mut tx = self.pool.begin().await?;
        let scopes = Self::scopes_in(&mut tx, realm_id).await?;
        tx.commit().await?;
        Ok(scopes)
    }

    async fn create_client_scope(&self, scope: &ClientScope) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::insert_scope_row(&mut tx, scope).await?;
        let container = MapperContainer::ClientScope(scope.id.clone());
        for mapper in &scope.mappers {
            Self::insert_mapper(&mut tx, &scope.realm_id, &container, mapper).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_client_scope(&self, scope: &ClientScope) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE client_scopes SET name = $1, description = $2, protocol = $3, attributes = $4 \
             WHERE id = $5 AND realm_id = $6",
        )
        .bind(&scope.name)
        .bind(&scope.description)
        .bind(&scope.protocol)
        .bind(to_json(&scope.attributes))
        .bind(&scope.id)
        .bind(&scope.realm_id)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_client_scope(&self, realm_id: &str, scope_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM client_scopes WHERE id = $1 AND realm_id = $2")
            .bind(scope_id)
            .bind(realm_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_mappers(
        &self,
        realm_id: &str,
        container: &MapperContainer,
        mappers: &[ProtocolMapper],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if !Self::holds(&mut tx, realm_id, container).await? {
            return Err(StoreError::NotFound(format!("mapper container {}", container_id(container))));
        }
        for mapper in mappers {
            Self::insert_mapper(&mut tx, realm_id, container, mapper).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_mapper(
        &self,
        realm_id: &str,
        container: &MapperContainer,
        mapper: &ProtocolMapper,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE protocol_mappers SET name = $1, protocol = $2, mapper_type = $3, config = $4 \
             WHERE id = $5 AND realm_id = $6 AND {}",
            container_condition(container, 7)
        );
        let done = sqlx::query(&sql)
            .bind(&mapper.name)
            .bind(&mapper.protocol)
            .bind(&mapper.protocol_mapper)
            .bind(to_json(&mapper.config))
            .bind(&mapper.id)
            .bind(realm_id)
            .bind(container_id(container))
            .execute(&self.pool)
            .await
            .map_err(map_unique)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_mapper(&self, realm_id: &str, container: &MapperContainer, id: &str) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM protocol_mappers WHERE id = $1 AND realm_id = $2 AND {}",
            container_condition(container, 3)
        );
        let done =
            sqlx::query(&sql).bind(id).bind(realm_id).bind(container_id(container)).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_realm_default(&self, realm_id: &str, scope_id: &str, kind: Option<bool>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        match kind {
            None => {
                sqlx::query("DELETE FROM realm_default_scopes WHERE realm_id = $1 AND scope_id = $2")
                    .bind(realm_id)
                    .bind(scope_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(default_scope) => {
                let scopes = RealmScopes { realm_defaults: vec![(scope_id.to_string(), default_scope)], ..Default::default() };
                Self::insert_scopes(&mut tx, realm_id, &scopes).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_client_link(
        &self,
        realm_id: &str,
        client_id: &str,
        scope_id: &str,
        kind: Option<bool>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        match kind {
            None => {
                sqlx::query("DELETE FROM client_scope_links WHERE realm_id = $1 AND client_id = $2 AND scope_id = $3")
                    .bind(realm_id)
                    .bind(client_id)
                    .bind(scope_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(default_scope) => Self::upsert_link(&mut tx, realm_id, client_id, scope_id, default_scope).await?,
        }
        tx.commit().await?;
        Ok(())
    }

    async fn link_realm_defaults(&self, realm_id: &str, client_id: &str, protocol: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_scope_links (realm_id, client_id, scope_id, default_scope) \
             SELECT d.realm_id, $2, d.scope_id, d.default_scope FROM realm_default_scopes d \
             JOIN client_scopes s ON s.id = d.scope_id WHERE d.realm_id = $1 AND s.protocol = $3 \
             ON CONFLICT (client_id, scope_id) DO NOTHING",
        )
        .bind(realm_id)
        .bind(client_id)
        .bind(protocol)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn change_scope_mappings(
        &self,
        realm_id: &str,
        holder: &ScopeHolder,
        role_ids: &[String],
        add: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for role_id in role_ids {
            if add {
                Self::insert_scope_mapping(&mut tx, realm_id, holder, role_id).await?;
            } else {
                let sql = match holder {
                    ScopeHolder::Client(_) => "DELETE FROM client_scope_mappings WHERE realm_id = $1 AND client_id = $2 AND role_id = $3",
                    ScopeHolder::ClientScope(_) => "DELETE FROM scope_role_mappings WHERE realm_id = $1 AND scope_id = $2 AND role_id = $3",
                };
                sqlx::query(sql).bind(realm_id).bind(container_id(holder)).bind(role_id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn scope_upgrades_pending(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT realm_id FROM scope_upgrades_pending ORDER BY realm_id").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn complete_scope_upgrade(&self, realm_id: &str, scopes: &RealmScopes) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM scope_upgrades_pending WHERE realm_id = $1").bind(realm_id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::insert_scopes(&mut tx, realm_id, scopes).await?;
        tx.commit().await?;
        Ok(true)
    }
}
