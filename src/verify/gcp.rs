//! What GCP's deep check (`--verify-deep`) needs beyond data: the body of a jwt-bearer token
//! request whose assertion is a JWT (RS256) signed with the key file's private key, issued by the
//! file's `client_email` for a read-only scope, its audience Google's fixed token URL (never the
//! file's `token_uri`). Only the signed assertion is sent; the private key never leaves.

use super::recipe::{self, Recipe};
use crate::secret::Secret;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The scope the token is asked for: read-only.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";

/// The grant type of a signed assertion (RFC 7523), form-encoded.
const GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

/// How long the token asked for would live, in seconds (Google's most: an hour).
const LIFETIME: i64 = 3600;

/// What to send for `key`, or why nothing is.
pub enum Plan {
    /// The form body carrying the signed assertion.
    Send(String),
    NotChecked(String),
}

/// Plans the token request of `recipe` (its URL is the JWT's audience, wherever the request
/// goes) for `key`, a service-account private key with its `client_email` and
/// `private_key_id` hints, at `now`.
pub fn plan(recipe: &Recipe, key: &Secret, now: i64) -> Plan {
    let email = key
        .hints("client_email")
        .next()
        .filter(|e| recipe::hint_shape("client_email", e).is_some());
    let kid = key
        .hints("private_key_id")
        .next()
        .and_then(|k| recipe::hint_shape("private_key_id", k));
    let (Some(email), Some(kid)) = (email, kid) else {
        return Plan::NotChecked(
            "no service-account client_email and private_key_id next to the key".into(),
        );
    };
    let Some(pair) = pkcs8_der(key.expose()).and_then(|der| RsaKeyPair::from_pkcs8(&der).ok())
    else {
        return Plan::NotChecked(
            "the private key is not an RSA key in PKCS#8 that keyhound can read".into(),
        );
    };
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let claims = serde_json::json!({
        "iss": email,
        "scope": SCOPE,
        "aud": recipe.url,
        "iat": now,
        "exp": now + LIFETIME,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public_modulus_len()];
    if pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .is_err()
    {
        return Plan::NotChecked("the private key could not sign the token request".into());
    }
    let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
    Plan::Send(format!("grant_type={GRANT}&assertion={jwt}"))
}

/// The DER bytes of a PEM `PRIVATE KEY` as found in a key file (JSON `\n` escapes, line breaks).
fn pkcs8_der(pem: &str) -> Option<Vec<u8>> {
    let text = pem.replace("\\n", "\n").replace("\\r", "");
    let body = text
        .trim()
        .strip_prefix("-----BEGIN PRIVATE KEY-----")?
        .split("-----END PRIVATE KEY-----")
        .next()?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn recipe() -> &'static Recipe {
        recipe::builtin()
            .iter()
            .find(|r| r.provider == "gcp" && r.deep)
            .expect("the deep GCP recipe")
    }

    #[test]
    fn the_assertion_is_signed_by_the_file_and_asks_read_only() {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let b64 = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n",
            lines.join("\\n")
        );
        let kid = "0123456789abcdef0123456789abcdef01234567";
        let key = Secret::new(pem, 0).with_hints(vec![
            (
                "client_email".into(),
                "bot@demo.iam.gserviceaccount.com".into(),
            ),
            ("private_key_id".into(), kid.into()),
        ]);
        let Plan::Send(body) = plan(recipe(), &key, 1_700_000_000) else {
            panic!("not planned");
        };
        let jwt = body
            .strip_prefix(&format!("grant_type={GRANT}&assertion="))
            .unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key());
        public
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        let part = |i: usize| -> serde_json::Value {
            let text = URL_SAFE_NO_PAD.decode(input.split('.').nth(i).unwrap());
            serde_json::from_slice(&text.unwrap()).unwrap()
        };
        assert_eq!(part(0)["kid"], kid);
        assert_eq!(part(1)["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(part(1)["scope"], SCOPE);
        assert_eq!(part(1)["exp"], 1_700_000_000 + LIFETIME);
        assert!(!body.contains(&b64[..40]));
    }

    #[test]
    fn a_key_that_is_not_rsa_pkcs8_is_not_sent() {
        let key = Secret::new(
            "-----BEGIN PRIVATE KEY-----\\nMIIBOgIBAAJBAK\\n-----END PRIVATE KEY-----".into(),
            0,
        )
        .with_hints(vec![
            ("client_email".into(), "a@b.iam.gserviceaccount.com".into()),
            ("private_key_id".into(), "ab".repeat(20)),
        ]);
        assert!(matches!(plan(recipe(), &key, 0), Plan::NotChecked(_)));
    }
}
