//! Writes an `AuditReport` in each format: JSON here, the others in their own modules.

use super::AuditFormat;
use super::model::AuditReport;
use std::io::{self, Write};

/// Writes `report` as `format`; `color` only matters to the human table.
pub fn write(
    report: &AuditReport,
    format: AuditFormat,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let _ = color;
    match format {
        AuditFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        _ => todo!("human, markdown and html renderers"),
    }
}
