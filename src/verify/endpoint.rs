//! Where keys may be sent: `https://api.openai.com/v1`, or a base URL given on the command line
//! (`--openai-base-url`) that is HTTPS, or plain HTTP to this machine only. Nothing else — no
//! environment variable, no file in a scanned repository — can change it. Likewise the other
//! providers' fixed hosts, which only `--verify-endpoint PROVIDER=http://HOST:PORT` (loopback
//! only, for tests against a local server) can replace.

use reqwest::Url;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// The API every key goes to unless the command line names another.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A checked base URL, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: String,
    loopback: bool,
    /// `--verify-endpoint`: provider → `http://HOST:PORT` replacing its checks' origin.
    endpoints: BTreeMap<String, String>,
}

impl BaseUrl {
    /// The default, `https://api.openai.com/v1`.
    pub fn openai() -> Self {
        BaseUrl {
            url: DEFAULT_BASE_URL.to_string(),
            loopback: false,
            endpoints: BTreeMap::new(),
        }
    }

    /// Checks a base URL from the command line: https to anywhere, http to loopback only, and
    /// no user name, password, query or fragment.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{text:?}: a base URL may not hold credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{text:?}: a base URL may not have a query or fragment"
            ));
        }
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(format!(
                    "{text:?}: plain http:// is allowed only to this machine \
                     (localhost, 127.0.0.0/8, [::1]); use https://"
                ));
            }
            other => return Err(format!("{text:?}: scheme {other}: is not http(s)")),
        }
        let url = url.as_str().trim_end_matches('/').to_string();
        Ok(BaseUrl {
            url,
            loopback,
            endpoints: BTreeMap::new(),
        })
    }

    /// This base URL with the `--verify-endpoint` values (`PROVIDER=URL`, each checked by
    /// `parse_endpoint`); `openai=URL` replaces the base itself (`URL/v1`). A provider named
    /// twice, or `openai=` with `--openai-base-url` (`base_given`), is an error.
    pub fn with_endpoints(
        mut self,
        values: &[String],
        base_given: bool,
        providers: &[&str],
    ) -> Result<Self, String> {
        for value in values {
            let (provider, origin) = parse_endpoint(value, providers)?;
            if self.endpoints.contains_key(&provider) {
                return Err(format!("{value:?}: {provider} is named twice"));
            }
            if provider == "openai" {
                if base_given {
                    return Err(format!(
                        "{value:?}: give either --openai-base-url or --verify-endpoint openai=, not both"
                    ));
                }
                self.url = format!("{origin}/v1");
                self.loopback = true;
            }
            self.endpoints.insert(provider, origin);
        }
        Ok(self)
    }

    /// The origin (`http://HOST:PORT`) replacing `provider`'s, if `--verify-endpoint` named it.
    pub fn endpoint(&self, provider: &str) -> Option<&str> {
        self.endpoints.get(provider).map(String::as_str)
    }

    /// Whether any `--verify-endpoint` was given.
    pub fn has_endpoints(&self) -> bool {
        !self.endpoints.is_empty()
    }

    /// What names the verification cache: the base URL, and the endpoints when there are any
    /// (a test server's verdicts must never answer for the real provider).
    pub fn cache_id(&self) -> String {
        let mut id = self.url.clone();
        for (provider, origin) in &self.endpoints {
            id.push_str(&format!(";{provider}={origin}"));
        }
        id
    }

    /// Whether the host is this machine (then no proxy is used).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The endpoint that checks a key: admin keys list admin keys, every other key lists models.
    pub fn check_url(&self, admin: bool) -> String {
        if admin {
            format!("{}/organization/admin_api_keys?limit=1", self.url)
        } else {
            format!("{}/models", self.url)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Checks one `--verify-endpoint` value: `PROVIDER=http://HOST:PORT`, a known provider id,
/// HOST a loopback address, and no path, query, fragment or credentials.
pub fn parse_endpoint(value: &str, providers: &[&str]) -> Result<(String, String), String> {
    let Some((provider, text)) = value.split_once('=') else {
        return Err(format!("{value:?}: expected PROVIDER=http://HOST:PORT"));
    };
    if !providers.contains(&provider) {
        return Err(format!(
            "{value:?}: unknown provider {provider:?}; the provider ids are: {}",
            providers.join(", ")
        ));
    }
    let bad = |why: &str| {
        Err(format!(
            "{value:?}: {why}; expected http://HOST:PORT with HOST 127.0.0.1, [::1] or localhost"
        ))
    };
    let Ok(url) = Url::parse(text) else {
        return bad("not a URL");
    };
    if url.scheme() != "http" || !is_loopback(&url) {
        return bad("only plain http:// to this machine");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad("credentials are not allowed");
    }
    if url.path() != "/" || text.trim_end_matches('/').matches('/').count() != 2 {
        return bad("a path is not allowed");
    }
    if url.query().is_some() || url.fragment().is_some() || text.contains('?') || text.contains('#')
    {
        return bad("a query is not allowed");
    }
    let Some(port) = url.port() else {
        return bad("the port is missing");
    };
    let host = url.host_str().unwrap_or_default();
    Ok((provider.to_string(), format!("http://{host}:{port}")))
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_openai() {
        let b = BaseUrl::openai();
        assert_eq!(b.check_url(false), "https://api.openai.com/v1/models");
        assert_eq!(
            b.check_url(true),
            "https://api.openai.com/v1/organization/admin_api_keys?limit=1"
        );
    }

    #[test]
    fn https_goes_anywhere_http_only_to_loopback() {
        assert!(BaseUrl::parse("https://gateway.example/v1/").is_ok());
        for ok in [
            "http://127.0.0.1:8080/v1",
            "http://127.5.0.1/v1",
            "http://localhost:1/v1",
            "http://[::1]:9/v1",
        ] {
            let b = BaseUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(b.is_loopback(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/v1",
            "http://api.openai.com/v1",
            "http://localhost.example/v1",
            "ftp://127.0.0.1/",
            "https://user:pw@example.com/v1",
            "https://example.com/v1?x=1",
            "not a url",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn endpoints_are_loopback_origins_of_known_providers() {
        let ids = ["openai", "anthropic", "github"];
        let ok = |v: &str| parse_endpoint(v, &ids).unwrap().1;
        assert_eq!(
            ok("anthropic=http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(ok("anthropic=http://localhost:9/"), "http://localhost:9");
        assert_eq!(ok("github=http://[::1]:9"), "http://[::1]:9");
        for bad in [
            "anthropic",
            "acme=http://127.0.0.1:1",
            "anthropic=https://127.0.0.1:1",
            "anthropic=http://10.0.0.1:1",
            "anthropic=http://api.anthropic.com:80",
            "anthropic=http://127.0.0.1:1/v1",
            "anthropic=http://127.0.0.1:1?x=1",
            "anthropic=http://u:p@127.0.0.1:1",
            "anthropic=http://127.0.0.1",
        ] {
            assert!(parse_endpoint(bad, &ids).is_err(), "{bad}");
        }
        let twice = [
            "anthropic=http://127.0.0.1:1".to_string(),
            "anthropic=http://127.0.0.1:2".to_string(),
        ];
        assert!(
            BaseUrl::openai()
                .with_endpoints(&twice, false, &ids)
                .is_err()
        );
        let openai = ["openai=http://127.0.0.1:3".to_string()];
        assert!(
            BaseUrl::openai()
                .with_endpoints(&openai, true, &ids)
                .is_err()
        );
        let b = BaseUrl::openai()
            .with_endpoints(&openai, false, &ids)
            .unwrap();
        assert_eq!(b.check_url(false), "http://127.0.0.1:3/v1/models");
        assert_eq!(BaseUrl::openai().cache_id(), DEFAULT_BASE_URL);
    }

    #[test]
    fn trailing_slashes_go() {
        let b = BaseUrl::parse("http://127.0.0.1:5/v1/").unwrap();
        assert_eq!(b.check_url(false), "http://127.0.0.1:5/v1/models");
    }
}
