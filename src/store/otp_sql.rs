// The SQL of `OtpStore` (see `otp.rs`), the same for both dialects. Not a module of its own:
// each backend includes this file in a child module that defines `Db` (its sqlx database) and
// `Backend` (its store type), so it can use the backend's private `pool`.

use async_trait::async_trait;

use crate::domain::Credential;
use crate::store::common::{map_unique, CredentialRow, CREDENTIAL_COLUMNS};
use crate::store::otp::{OtpState, OtpStore};
use crate::store::StoreError;

#[derive(sqlx::FromRow)]
struct OtpRow {
    #[sqlx(flatten)]
    credential: CredentialRow,
    otp_next: Option<i64>,
}

#[async_trait]
impl OtpStore for Backend {
    async fn otp_credentials(&self, user_id: &str) -> Result<Vec<OtpState>, StoreError> {
        let rows: Vec<OtpRow> = sqlx::query_as(&format!(
            "SELECT {CREDENTIAL_COLUMNS}, c.otp_next FROM credentials c \
             WHERE c.user_id = $1 AND c.type = 'otp' ORDER BY c.priority, c.created_at DESC, c.id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| OtpState { credential: Credential::from(r.credential), next: r.otp_next }).collect())
    }

    async fn add_otp_credential(&self, c: &Credential, next: Option<i64>) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO credentials (id, user_id, type, secret_data, credential_data, created_at, user_label, \
             priority, otp_next) SELECT $1, u.id, $3, $4, $5, $6, $7, CASE WHEN $8 > 0 THEN $8 ELSE \
             COALESCE((SELECT MAX(o.priority) FROM credentials o WHERE o.user_id = $2), 0) + 10 END, $9 \
             FROM users u WHERE u.id = $2",
        )
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.kind)
        .bind(&c.secret_data)
        .bind(&c.credential_data)
        .bind(c.created_at)
        .bind(&c.user_label)
        .bind(c.priority)
        .bind(next)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {}", c.user_id)));
        }
        Ok(())
    }

    async fn consume_otp(&self, credential_id: &str, used: i64, credential_data: Option<&str>) -> Result<bool, StoreError> {
        // The condition is the replay guard, decided by the database: a second use of `used`
        // (or of an older factor) finds `otp_next` past it and changes no row.
        let done = sqlx::query(
            "UPDATE credentials SET otp_next = $2, credential_data = COALESCE($3, credential_data) \
             WHERE id = $1 AND type = 'otp' AND (otp_next IS NULL OR otp_next <= $4)",
        )
        .bind(credential_id)
        .bind(used.saturating_add(1))
        .bind(credential_data)
        .bind(used)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn unsealed_otp_credentials(&self, limit: i64) -> Result<Vec<Credential>, StoreError> {
        let rows: Vec<CredentialRow> = sqlx::query_as(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials c \
             WHERE c.type = 'otp' AND c.secret_data NOT LIKE '{{\"sealed\":%' ORDER BY c.id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Credential::from).collect())
    }

    async fn replace_otp_secret(&self, credential_id: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE credentials SET secret_data = $3 WHERE id = $1 AND secret_data = $2")
            .bind(credential_id)
            .bind(old)
            .bind(new)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
