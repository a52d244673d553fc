//! Where keys may be sent: `https://api.openai.com/v1`, or a base URL given on the command line
//! (`--openai-base-url`) that is HTTPS, or plain HTTP to this machine only. Nothing else — no
//! environment variable, no file in a scanned repository — can change it.

use reqwest::Url;
use std::fmt;
use std::net::IpAddr;

/// The API every key goes to unless the command line names another.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A checked base URL, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: String,
    loopback: bool,
}

impl BaseUrl {
    /// The default, `https://api.openai.com/v1`.
    pub fn openai() -> Self {
        BaseUrl {
            url: DEFAULT_BASE_URL.to_string(),
            loopback: false,
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
        Ok(BaseUrl { url, loopback })
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
    fn trailing_slashes_go() {
        let b = BaseUrl::parse("http://127.0.0.1:5/v1/").unwrap();
        assert_eq!(b.check_url(false), "http://127.0.0.1:5/v1/models");
    }
}
