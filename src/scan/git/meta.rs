//! Commits as reports show them: the author as `Name <email>` and the author date in RFC 3339.

use git2::{Oid, Repository};
use std::collections::HashMap;

/// A commit's author and date, looked up once per commit.
#[derive(Debug, Clone, Default)]
pub(super) struct CommitMeta {
    pub author: Option<String>,
    pub date: Option<String>,
}

/// Looks up commits for reports, each once.
#[derive(Default)]
pub(super) struct MetaCache {
    seen: HashMap<Oid, CommitMeta>,
}

impl MetaCache {
    pub fn get(&mut self, repo: &Repository, oid: Oid) -> CommitMeta {
        self.seen
            .entry(oid)
            .or_insert_with(|| match repo.find_commit(oid) {
                Ok(c) => {
                    let a = c.author();
                    let name = String::from_utf8_lossy(a.name_bytes()).into_owned();
                    let email = String::from_utf8_lossy(a.email_bytes()).into_owned();
                    CommitMeta {
                        author: Some(format!("{name} <{email}>")),
                        date: Some(rfc3339(a.when().seconds())),
                    }
                }
                Err(_) => CommitMeta::default(),
            })
            .clone()
    }
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(super) fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_704_164_645), "2024-01-02T03:04:05Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
