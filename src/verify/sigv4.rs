//! AWS Signature Version 4 for the one request keyhound sends AWS (STS `GetCallerIdentity`):
//! the canonical request, the string to sign and the derived signing key, over the `sha2` and
//! `hmac` crates. The signature is made for the real host and service even when
//! `--verify-endpoint` sends the request to a local test server.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// What is signed: one request, its headers as sent (names lower case), and where it goes.
pub struct Request<'a> {
    pub method: &'a str,
    /// The real host (`sts.amazonaws.com`), signed as the `host` header.
    pub host: &'a str,
    pub path: &'a str,
    /// Other headers to sign, names lower case (`content-type`, `x-amz-security-token`).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
}

/// The `Authorization` header value for `req` signed with `key_id` and `secret`.
pub fn authorization(req: &Request<'_>, key_id: &str, secret: &str) -> String {
    let date = &req.amz_date[..8.min(req.amz_date.len())];
    let mut headers: Vec<(&str, String)> = vec![
        ("host", req.host.to_string()),
        ("x-amz-date", req.amz_date.to_string()),
    ];
    headers.extend(req.headers.iter().map(|(n, v)| (*n, v.trim().to_string())));
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical = format!(
        "{}\n{}\n\n{canonical_headers}\n{signed}\n{}",
        req.method,
        req.path,
        hex(&Sha256::digest(req.body.as_bytes()))
    );
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        req.amz_date,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, req.region.as_bytes());
    let k_service = hmac(&k_region, req.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
}

/// `secs` since the epoch as SigV4's `YYYYMMDDTHHMMSSZ`.
pub fn amz_date(secs: i64) -> String {
    super::clock::rfc3339(secs).replace(['-', ':'], "")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own test vector (the SigV4 test suite's `get-vanilla`, with its documentation
    /// credentials, which are public samples).
    #[test]
    fn signs_the_aws_test_suite_request() {
        let req = Request {
            method: "GET",
            host: "example.amazonaws.com",
            path: "/",
            headers: &[],
            body: "",
            region: "us-east-1",
            service: "service",
            amz_date: "20150830T123600Z",
        };
        let secret = concat!("wJalrXUtnFEMI/K7MDENG+bPxRfiCY", "EXAMPLEKEY");
        assert_eq!(
            authorization(&req, "AKIDEXAMPLE", secret),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn dates_are_basic_iso8601() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
    }
}
