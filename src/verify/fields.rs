//! What a verification server may put into a report: `x-request-id`, `openai-organization` and
//! `error.code` come from whoever answers (a proxy, a gateway, an attacker's server), and reports
//! copy them into JSON and SARIF. Each is kept only when it has the shape the API gives it and
//! holds nothing key-shaped; anything else is dropped, never truncated (a cut key is still a key).

use crate::secret::Secret;

/// A field a server sends that reports show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `x-request-id` (`req_` and 32 hex digits from OpenAI).
    RequestId,
    /// `openai-organization` (`org-…` or `user-…`).
    Organization,
    /// `error.code` (`invalid_api_key`, `insufficient_quota`, …).
    ErrorCode,
    /// `owner.login`, `owner.user`: a user or token name (`octocat`, `U012AB3CD`).
    Login,
    /// `owner.scopes`: comma-separated scopes (`repo, read:org`).
    Scopes,
    /// `owner.account`: an account, team or organization id or name.
    Account,
    /// `owner.arn`: `arn:aws:iam::123456789012:user/name`.
    Arn,
    /// `owner.credit_remaining`: a number.
    Credit,
}

impl Field {
    fn max_len(self) -> usize {
        match self {
            Field::RequestId | Field::Login | Field::Account => 128,
            Field::Organization | Field::ErrorCode | Field::Credit => 64,
            Field::Scopes | Field::Arn => 512,
        }
    }

    /// Bytes beyond letters, digits and `_.:-` that the field may hold.
    fn extra(self) -> &'static [u8] {
        match self {
            Field::Login | Field::Account => b"@ ",
            Field::Scopes => b", /*",
            Field::Arn => b"/+=,@",
            Field::Credit | Field::RequestId | Field::Organization | Field::ErrorCode => b"",
        }
    }
}

/// Letters, digits and `_.:-`: every id and code the API sends, and nothing that can escape.
fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-')
}

/// Shortest fragment of the key checked that may not appear in a field.
const FRAGMENT: usize = 8;

/// A run of letters and digits at least this long mixing upper case, lower case and digits looks
/// like a key (OpenAI's ids are lower-case hex, or 24 mixed characters after `org-`).
const KEY_RUN: usize = 32;

/// `value` if it is fit for a report as `field` of an answer about `key`, else None.
pub fn checked(field: Field, value: &str, key: &Secret) -> Option<String> {
    let fits = !value.is_empty()
        && value.len() <= field.max_len()
        && value
            .bytes()
            .all(|b| allowed(b) || field.extra().contains(&b))
        && (field != Field::Credit || value.parse::<f64>().is_ok_and(f64::is_finite));
    (fits && !key_shaped(value, key.expose())).then(|| value.to_string())
}

/// Whether `value` holds part of `key`, OpenAI's key marker or prefix, or a long mixed run.
fn key_shaped(value: &str, key: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let holds_key = key.len() >= FRAGMENT
        && key
            .as_bytes()
            .windows(FRAGMENT)
            .any(|w| value.as_bytes().windows(FRAGMENT).any(|v| v == w));
    holds_key
        || value.contains("T3BlbkFJ")
        || lower.starts_with("sk-")
        || lower.contains("-sk-")
        || lower.contains("_sk-")
        || lower.contains(":sk-")
        || lower.contains(".sk-")
        || has_mixed_run(value)
}

fn has_mixed_run(value: &str) -> bool {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| run.len() >= KEY_RUN)
        .any(|run| {
            run.bytes().any(|b| b.is_ascii_uppercase())
                && run.bytes().any(|b| b.is_ascii_lowercase())
                && run.bytes().any(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::new(
            format!("sk-{}T3BlbkFJ{}", "aB3".repeat(7), "Zx9".repeat(7)),
            3,
        )
    }

    #[test]
    fn real_ids_and_codes_are_kept() {
        let k = key();
        for (field, value) in [
            (Field::RequestId, "req_0123456789abcdef0123456789abcdef"),
            (Field::RequestId, "9f1c2d3e-4b5a-6789-abcd-ef0123456789"),
            (Field::Organization, "user-abc123"),
            (Field::Organization, "org-3YkPAszPtKV5jlLhnC1SvKQx"),
            (Field::ErrorCode, "invalid_api_key"),
            (Field::ErrorCode, "insufficient_quota"),
        ] {
            assert_eq!(checked(field, value, &k).as_deref(), Some(value), "{value}");
        }
    }

    #[test]
    fn odd_shapes_are_dropped() {
        let k = key();
        let long = "a".repeat(129);
        for (field, value) in [
            (Field::RequestId, ""),
            (Field::RequestId, long.as_str()),
            (Field::RequestId, "req 1"),
            (Field::RequestId, "req\u{1b}[31m"),
            (Field::Organization, "org-<script>"),
            (Field::ErrorCode, "code\nnext"),
            (Field::ErrorCode, &"c".repeat(65)),
        ] {
            assert_eq!(checked(field, value, &k), None, "{value:?}");
        }
    }

    #[test]
    fn owner_fields_have_their_own_shapes() {
        let k = key();
        for (field, value) in [
            (Field::Login, "octocat"),
            (Field::Scopes, "repo, read:org"),
            (Field::Arn, "arn:aws:iam::123456789012:user/dev"),
            (Field::Credit, "12.5"),
            (Field::Account, "acct_1Nv0FGQ9RKHgCVdK"),
        ] {
            assert_eq!(checked(field, value, &k).as_deref(), Some(value), "{value}");
        }
        for (field, value) in [
            (Field::Login, "<b>x</b>"),
            (Field::Credit, "lots"),
            (Field::Arn, "arn\n"),
            (Field::Scopes, "repo;rm"),
        ] {
            assert_eq!(checked(field, value, &k), None, "{value}");
        }
    }

    #[test]
    fn anything_key_shaped_is_dropped() {
        let k = key();
        let whole = k.expose().to_string();
        let part = format!("req_{}", &whole[5..20]);
        let other = format!("sk-{}", "Qw7".repeat(16));
        let mixed = format!("req_{}", "Ab1".repeat(11));
        let marker = "req_aaaaT3BlbkFJbbbb";
        for value in [&whole, &part, &other, &mixed, marker] {
            for field in [Field::RequestId, Field::Organization, Field::ErrorCode] {
                assert_eq!(checked(field, value, &k), None, "{field:?} {value}");
            }
        }
    }
}
