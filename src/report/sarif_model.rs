//! SARIF 2.1.0's objects, as much of them as keyhound writes. Fields are declared in
//! alphabetical order of their JSON names, the order serde_json's maps gave them before these
//! types existed, so reports keep their bytes.

use crate::finding::Decoding;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub runs: [Run; 1],
    pub version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automation_details: Option<Id>,
    pub column_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_uri_base_ids: Option<BaseIds>,
    pub properties: RunProperties,
    pub results: Vec<SarifResult>,
    pub tool: Tool,
}

#[derive(Serialize)]
pub struct Id {
    pub id: String,
}

#[derive(Serialize)]
pub struct BaseIds {
    #[serde(rename = "%SRCROOT%")]
    pub src_root: Uri,
}

#[derive(Serialize)]
pub struct Uri {
    pub uri: String,
}

/// The providers whose keys were looked for and, when results were dropped, how many.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    pub providers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_kept: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

#[derive(Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub information_uri: &'static str,
    pub name: &'static str,
    pub rules: Vec<ReportingDescriptor>,
    pub semantic_version: &'static str,
}

/// A rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub default_configuration: Level,
    pub full_description: Text,
    pub help: Help,
    pub help_uri: String,
    pub id: String,
    pub name: String,
    pub properties: RuleProperties,
    pub short_description: Text,
}

#[derive(Serialize)]
pub struct Level {
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct Text {
    pub text: String,
}

#[derive(Serialize)]
pub struct Help {
    pub markdown: String,
    pub text: String,
}

#[derive(Serialize)]
pub struct RuleProperties {
    pub precision: &'static str,
    #[serde(rename = "security-severity")]
    pub security_severity: String,
    pub tags: [&'static str; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub level: &'static str,
    pub locations: [Location; 1],
    pub message: Text,
    pub partial_fingerprints: PartialFingerprints,
    pub properties: ResultProperties,
    pub rule_id: String,
    pub rule_index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_region: Option<ContextRegion>,
    pub region: Region,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u64>,
    pub start_line: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextRegion {
    pub snippet: Text,
    pub start_line: u64,
}

#[derive(Serialize)]
pub struct PartialFingerprints {
    #[serde(rename = "keyhoundLocation/v1")]
    pub location: String,
}

/// keyhound's own facts about a result. `git` and `verification` stay JSON values: as values
/// their keys are sorted, which is the order reports have always had.
#[derive(Serialize)]
pub struct ResultProperties {
    pub decoded: Vec<Decoding>,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<Value>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Value>,
}
