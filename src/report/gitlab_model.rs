//! GitLab's secret-detection report (schema 15.2.1) as types, as much of it as keyhound writes.
//! Fields are declared in alphabetical order of their JSON names, the order serde_json's maps
//! gave them before these types existed, so reports keep their bytes.

use serde::Serialize;

#[derive(Serialize)]
pub struct Report {
    pub scan: Scan,
    pub schema: &'static str,
    pub version: &'static str,
    pub vulnerabilities: Vec<Vulnerability>,
}

/// The analyzer, the times, and a warning when the scan was incomplete.
#[derive(Serialize)]
pub struct Scan {
    pub analyzer: Tool,
    pub end_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<[Message; 1]>,
    pub scanner: Tool,
    pub start_time: String,
    pub status: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Serialize, Clone)]
pub struct Tool {
    pub id: &'static str,
    pub name: &'static str,
    pub url: &'static str,
    pub vendor: Vendor,
    pub version: &'static str,
}

#[derive(Serialize, Clone)]
pub struct Vendor {
    pub name: &'static str,
}

#[derive(Serialize)]
pub struct Message {
    pub level: &'static str,
    pub value: String,
}

/// One finding.
#[derive(Serialize)]
pub struct Vulnerability {
    pub description: String,
    pub id: String,
    pub identifiers: [Identifier; 1],
    pub links: Vec<Link>,
    pub location: Location,
    pub name: String,
    pub severity: &'static str,
    pub solution: String,
    pub tracking: Tracking,
}

#[derive(Serialize)]
pub struct Identifier {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
}

#[derive(Serialize)]
pub struct Link {
    pub url: String,
}

#[derive(Serialize)]
pub struct Location {
    pub commit: Commit,
    pub end_line: u64,
    pub file: String,
    pub start_line: u64,
}

/// The commit that added the key, or the checked-out one for keys not in history.
#[derive(Serialize)]
pub struct Commit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub sha: String,
}

#[derive(Serialize)]
pub struct Tracking {
    pub items: [TrackingItem; 1],
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Serialize)]
pub struct TrackingItem {
    pub end_line: u64,
    pub file: String,
    pub signatures: [Signature; 1],
    pub start_line: u64,
}

#[derive(Serialize)]
pub struct Signature {
    pub algorithm: &'static str,
    pub value: String,
}
