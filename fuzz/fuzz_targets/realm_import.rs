//! The Keycloak realm JSON parser (`realm::import::parse_realm_json`), which reads files given to
//! `portcullis import` and bodies of `POST /admin/realms`. It may not panic; what it accepts has
//! a safe, unique realm name, its settings apply over the defaults, and it survives a round trip
//! through our own serialisation (what export writes) unchanged and without warnings. Building
//! the records (`build_bundle`) is left out: it generates RSA keys, ~100 ms per input.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use portcullis::domain::realm::validate_realm_name;
use portcullis::domain::RealmSettings;
use portcullis::realm::import::parse_realm_json;

fuzz_target!(|data: &[u8]| {
    // Files and request bodies are read as UTF-8 text before they reach the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(realms) = parse_realm_json("fuzz.json", text) else { return };
    let mut names = HashSet::new();
    for realm in &realms {
        assert!(validate_realm_name(&realm.name).is_ok(), "unsafe realm name {:?} accepted", realm.name);
        assert!(names.insert(realm.name.as_str()), "realm {:?} twice", realm.name);
        assert_eq!(realm.representation.realm.as_deref(), Some(realm.name.as_str()));
        let _ = realm.representation.settings_over(RealmSettings::default());

        let written = serde_json::to_string(&realm.representation).expect("a representation serialises");
        let again = parse_realm_json("again.json", &written).expect("our own output parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].representation, realm.representation, "round trip of {written}");
        assert!(again[0].warnings.is_empty(), "{:?}", again[0].warnings);
    }
});
