//! Writing an [`ImportSet`] back as import files, in the formats the reader
//! accepts: money as plain digits, dates `dd/mm/yyyy`, rates in percent.

use std::io::Write;
use std::path::Path;

use sotay_core::domain::time::format_date;

use super::fields::format_percent;
use super::ImportKind;
use crate::import::rows::ImportSet;

fn yes_no(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn opt_f64(v: Option<f64>) -> String {
    // `Display` of f64 is the shortest text that parses back to the same value.
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The rows of one kind as text fields, in [`ImportKind::columns`] order.
fn records(set: &ImportSet, kind: ImportKind) -> Vec<Vec<String>> {
    match kind {
        ImportKind::Branches => set
            .branches
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.district.clone(),
                    r.industrial_zone.clone(),
                    r.address.clone(),
                ]
            })
            .collect(),
        ImportKind::Users => set
            .users
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.username.clone(),
                    r.full_name.clone(),
                    r.role.as_str().to_string(),
                    opt(&r.branch_code),
                    opt(&r.phone),
                    opt(&r.initial_password),
                ]
            })
            .collect(),
        ImportKind::BoardingHouses => set
            .boarding_houses
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.address.clone(),
                    r.ward.clone(),
                    r.district.clone(),
                    r.industrial_zone.clone(),
                    r.landlord_name.clone(),
                    opt(&r.landlord_phone),
                    opt_f64(r.latitude),
                    opt_f64(r.longitude),
                ]
            })
            .collect(),
        ImportKind::Workers => set
            .workers
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.full_name.clone(),
                    r.cccd.clone(),
                    opt(&r.phone),
                    r.date_of_birth.map(format_date).unwrap_or_default(),
                    match r.gender.as_deref() {
                        Some("nu") => "nữ".to_string(),
                        other => other.unwrap_or_default().to_string(),
                    },
                    yes_no(r.union_member),
                    r.employer.clone(),
                    r.industrial_zone.clone(),
                    opt(&r.boarding_house_code),
                    r.room.clone(),
                    yes_no(r.hardship),
                    r.hardship_note.clone(),
                    r.officer_code.clone(),
                ]
            })
            .collect(),
        ImportKind::LoanProducts => set
            .loan_products
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    format_percent(r.annual_rate_bp),
                    r.method.as_str().to_string(),
                    r.frequency.as_str().to_string(),
                    r.installments.to_string(),
                    r.min_principal.to_string(),
                    r.max_principal.to_string(),
                ]
            })
            .collect(),
        ImportKind::Loans => set
            .loans
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.worker_code.clone(),
                    r.product_code.clone(),
                    r.principal.to_string(),
                    format_date(r.disbursed_on),
                    r.paid_to_date.to_string(),
                ]
            })
            .collect(),
        ImportKind::Campaigns => set
            .campaigns
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.kind.as_str().to_string(),
                    format_date(r.starts_on),
                    format_date(r.ends_on),
                    r.gift_value.to_string(),
                    r.target_count.to_string(),
                    r.eligibility.as_str().to_string(),
                    r.description.clone(),
                ]
            })
            .collect(),
        ImportKind::Allocations => set
            .allocations
            .iter()
            .map(|r| {
                vec![
                    r.campaign_code.clone(),
                    r.branch_code.clone(),
                    opt(&r.officer_code),
                    r.quota.to_string(),
                ]
            })
            .collect(),
    }
}

/// Writes the rows of one kind as a CSV file (header first, UTF-8, no BOM).
pub fn write_file(set: &ImportSet, kind: ImportKind, out: impl Write) -> std::io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(kind.columns().iter().map(|c| c.name))?;
    for r in records(set, kind) {
        w.write_record(&r)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes all eight import files into `dir` (created if missing), each with
/// its header even when it has no rows.
/// Never over a file already there (one edited for an import, say): an
/// `AlreadyExists` error names the first, and nothing is written.
pub fn write_dir(set: &ImportSet, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Some(there) = ImportKind::ALL
        .iter()
        .map(|k| dir.join(k.file_name()))
        .find(|p| p.exists())
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            there.display().to_string(),
        ));
    }
    for kind in ImportKind::ALL {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(kind.file_name()))?;
        let mut out = std::io::BufWriter::new(file);
        write_file(set, kind, &mut out)?;
        out.flush()?;
    }
    Ok(())
}
