//! A scan of everything the database holds finds no plaintext client secret, password or
//! private key (DESIGN.md §5).

use portcullis::store::KeyStatus;

use crate::backend_tests;
use crate::helpers::{fixture, Backend, Spawn, TestApp};

const CLIENT_SECRET: &str = "s3cr3t-client-value-0123456789";
const PASSWORD: &str = "correct-horse-battery-staple";

/// Every byte the database holds: the SQLite files, or every Postgres row as text.
pub async fn database_dump(app: &TestApp) -> Vec<u8> {
    match app.backend {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(app.dir.path()).unwrap() {
                let path = entry.unwrap().path();
                if path.file_name().unwrap().to_string_lossy().starts_with("portcullis.db") {
                    all.extend(std::fs::read(path).unwrap());
                }
            }
            all
        }
        Backend::Postgres => {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            let tables: Vec<String> = sqlx::query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.get(0))
            .collect();
            assert!(tables.len() > 10, "{tables:?}");
            let mut all = Vec::new();
            for table in tables {
                let rows = sqlx::query(&format!("SELECT t::text FROM \"{table}\" t"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                for row in rows {
                    all.extend(row.get::<String, _>(0).into_bytes());
                    all.push(b'\n');
                }
            }
            all
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

backend_tests! {
    async fn no_secret_is_stored_in_plain_text(backend: Backend) {
        let app = Spawn::new(backend).import(fixture("secrets-realm.json")).start().await;
        let dump = database_dump(&app).await;
        assert!(contains(&dump, b"backend"), "the scan sees the data (client id present)");
        assert!(!contains(&dump, CLIENT_SECRET.as_bytes()), "client secret in plain text");
        assert!(!contains(&dump, PASSWORD.as_bytes()), "password in plain text");

        let realm = app.store.realm_by_name("vault").await.unwrap().unwrap();
        let keys = app.store.signing_keys(&realm.id).await.unwrap();
        assert_eq!(keys.len(), 4);
        for key in keys.iter().filter(|k| k.status == KeyStatus::Active) {
            let aad = format!("signing-key:{}", key.kid);
            let private = app.master_key.open(&key.private_sealed, aad.as_bytes()).expect("key opens");
            let middle = &private[private.len() / 2 - 8..private.len() / 2 + 8];
            assert!(!contains(&dump, middle), "{} private key bytes in plain text", key.algorithm);
            assert!(!contains(&dump, hex(middle).as_bytes()), "{} private key in hex", key.algorithm);
        }
        let client = app.store.client_by_client_id(&realm.id, "backend").await.unwrap().unwrap();
        let sealed = client.secret_sealed.clone().expect("confidential client has a sealed secret");
        let opened = app.master_key.open(&sealed, &client.secret_aad()).unwrap();
        assert_eq!(opened, CLIENT_SECRET.as_bytes());
        app.stop().await;
    }
}
