//! The token parsers: refresh-token shells (`tokens::refresh::verify`), access tokens and
//! id_token hints (`tokens::access`). None may panic, and none may accept a token the realm's
//! keys did not sign: whatever they accept is re-checked here with the raw keys (RustCrypto HMAC,
//! aws-lc signatures without jsonwebtoken), along with issuer, type and expiry.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::oauth::tokens::{access, refresh};
use portcullis_fuzz::{
    fixture, hmac_matches, signature_matches, split_jws, HMAC_KID, HMAC_SECRET, ISSUER, NOW,
    OTHER_HMAC_SECRET,
};

fuzz_target!(|data: &[u8]| {
    // Tokens reach the server as form values or header text, both already UTF-8.
    let token = String::from_utf8_lossy(data);
    let token = token.as_ref();
    let f = fixture();

    let shell = refresh::verify(&f.ring, token);
    if let Ok(claims) = &shell {
        let (header, _, signature, signed) = split_jws(token).expect("an accepted shell is a compact JWS");
        assert_eq!(header["alg"], "HS256", "a shell is accepted only as HS256");
        assert_eq!(header["kid"], HMAC_KID);
        assert!(
            hmac_matches(HMAC_SECRET, signed, &signature),
            "a shell not signed with the realm key was accepted"
        );
        assert!(claims.typ == "Refresh" || claims.typ == "Offline", "typ {:?}", claims.typ);
    }
    let foreign = refresh::verify(&f.other, token);
    if foreign.is_ok() {
        let (_, _, signature, signed) = split_jws(token).expect("a compact JWS");
        assert!(hmac_matches(OTHER_HMAC_SECRET, signed, &signature));
        assert!(shell.is_err(), "a shell verified under two different realm keys");
    }

    let accepted = access::verify(&f.ring, ISSUER, token, NOW);
    if let Ok(claims) = &accepted {
        let (header, payload, signature, signed) =
            split_jws(token).expect("an accepted token is a compact JWS");
        let kid = header["kid"].as_str().expect("a kid");
        let (alg, key) = f.publics.get(kid).expect("the kid of an asymmetric realm key");
        assert_eq!(header["alg"], alg.as_str(), "the algorithm is the key's, never one the token picks");
        assert!(
            signature_matches(key, signed, &signature),
            "an access token with a bad signature was accepted"
        );
        assert_eq!(payload["iss"], ISSUER);
        assert_eq!(claims.typ, "Bearer");
        assert!(claims.exp > NOW, "an expired token was accepted");
        assert!(shell.is_err(), "one token accepted as both a refresh and an access token");
    }

    if let Some(claims) = access::verify_id_token_hint(&f.ring, ISSUER, token) {
        let (header, _, signature, signed) = split_jws(token).expect("a compact JWS");
        let (_, key) = f.publics.get(header["kid"].as_str().expect("a kid")).expect("a realm key");
        assert!(
            signature_matches(key, signed, &signature),
            "an id_token_hint with a bad signature was accepted"
        );
        assert_eq!(claims.typ, "ID");
        assert!(accepted.is_err(), "an id token accepted as an access token");
    }
});
