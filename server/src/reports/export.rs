//! CSV and XLSX downloads of a [`Report`].

use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use sotay_core::domain::time::vn_offset;

use super::table::{Cell, Kind, Lang, Report, Sheet};

/// The report as CSV: UTF-8 with a byte-order mark (so Excel reads the
/// Vietnamese right), headers in `lang`, a totals row. Money is whole đồng
/// as plain digits, days `dd/mm/yyyy`, ratios percent. A report of several
/// sheets writes each after a line with its title and a blank line between.
/// The report's notes (a day to come measured as if nothing more were
/// paid) follow the last sheet after a blank line, one a line.
pub fn to_csv(report: &Report, lang: Lang) -> Vec<u8> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    let several = report.sheets.len() > 1;
    for (i, sheet) in report.sheets.iter().enumerate() {
        // Sheets one under the other, a blank line between them.
        if several && i > 0 {
            out.push(b'\n');
        }
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        if several {
            let _ = w.write_record([sheet.title.get(lang)]);
        }
        let _ = w.write_record(sheet.columns.iter().map(|c| lang.pick(c.vi, c.en)));
        for row in &sheet.rows {
            let _ = w.write_record(row.iter().map(|c| c.csv(lang)));
        }
        if let Some(t) = &sheet.totals {
            let _ = w.write_record(totals_row(t, lang).iter().map(|c| c.csv(lang)));
        }
        let _ = w.flush();
    }
    if !report.notes.is_empty() {
        out.push(b'\n');
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        for note in &report.notes {
            let _ = w.write_record([note.get(lang)]);
        }
        let _ = w.flush();
    }
    out
}

/// A totals row with its label in `lang`.
pub fn totals_row(t: &[Cell], lang: Lang) -> Vec<Cell> {
    let mut t = t.to_vec();
    if let Some(Cell::Text(label)) = t.first_mut() {
        if label == "Tổng cộng" {
            *label = lang.pick("Tổng cộng", "Total").to_string();
        }
    }
    t
}

/// The report as an XLSX workbook, one worksheet per sheet: a bold header
/// row in `lang`, money as number cells formatted `#,##0`, days as date cells
/// formatted `dd/mm/yyyy`, moments `dd/mm/yyyy hh:mm` (Asia/Ho_Chi_Minh),
/// ratios as numbers formatted `0.00%`, and a bold totals row of values.
/// The report's notes are under each sheet's table, after a blank row, in
/// italics, so a sheet copied on its own still says how to read it.
pub fn to_xlsx(report: &Report, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let note = Format::new().set_italic();
    for sheet in &report.sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(sheet.title.get(lang)))?;
        let under = write_sheet(ws, sheet, lang)? + 1;
        for (r, n) in (under..).zip(&report.notes) {
            ws.write_string_with_format(r, 0, n.get(lang), &note)?;
        }
    }
    book.save_to_buffer()
}

/// Worksheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

struct Formats {
    header: Format,
    money: Format,
    count: Format,
    date: Format,
    datetime: Format,
    ratio: Format,
    text: Format,
}

impl Formats {
    fn new(bold: bool) -> Formats {
        let f = |num: &str| {
            let f = Format::new().set_num_format(num);
            if bold {
                f.set_bold()
            } else {
                f
            }
        };
        Formats {
            header: Format::new().set_bold().set_text_wrap(),
            money: f("#,##0"),
            count: f("0"),
            date: f("dd/mm/yyyy"),
            datetime: f("dd/mm/yyyy hh:mm"),
            ratio: f("0.00%"),
            text: f("@"),
        }
    }
}

/// Writes the sheet's table; returns the first row under it.
fn write_sheet(ws: &mut Worksheet, sheet: &Sheet, lang: Lang) -> Result<u32, XlsxError> {
    let plain = Formats::new(false);
    let bold = Formats::new(true);
    for (c, column) in sheet.columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, lang.pick(column.vi, column.en), &plain.header)?;
        let width = match column.kind {
            Kind::Text => 24.0,
            Kind::Money => 16.0,
            Kind::DateTime => 17.0,
            _ => 12.0,
        };
        ws.set_column_width(c, width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let mut r = 1u32;
    for row in &sheet.rows {
        write_row(ws, r, row, &plain, lang)?;
        r += 1;
    }
    if let Some(t) = &sheet.totals {
        write_row(ws, r, &totals_row(t, lang), &bold, lang)?;
        r += 1;
    }
    Ok(r)
}

/// A spreadsheet number is an IEEE double: whole đồng and counts are exact
/// in it up to 2^53 (9.007.199.254.740.992 ₫). A figure beyond that is
/// refused rather than written rounded.
fn spreadsheet_number(v: i64) -> Result<f64, XlsxError> {
    const EXACT: u64 = 1 << 53;
    if v.unsigned_abs() <= EXACT {
        Ok(v as f64)
    } else {
        Err(XlsxError::ParameterError(format!(
            "{v} is beyond the numbers a spreadsheet holds exactly (2^53)"
        )))
    }
}

fn write_row(
    ws: &mut Worksheet,
    r: u32,
    row: &[Cell],
    f: &Formats,
    lang: Lang,
) -> Result<(), XlsxError> {
    for (c, cell) in row.iter().enumerate() {
        let c = c as u16;
        match cell {
            Cell::Empty => {}
            Cell::Text(s) | Cell::Link(s, _) => {
                ws.write_string_with_format(r, c, s, &f.text)?;
            }
            Cell::Words(vi, en) => {
                let text = match lang {
                    Lang::Vi => vi,
                    Lang::En => en,
                };
                ws.write_string_with_format(r, c, text, &f.text)?;
            }
            Cell::Money(v) => {
                ws.write_number_with_format(r, c, spreadsheet_number(*v)?, &f.money)?;
            }
            Cell::Count(v) => {
                ws.write_number_with_format(r, c, spreadsheet_number(*v)?, &f.count)?;
            }
            Cell::BasisPoints(bp) => {
                ws.write_number_with_format(r, c, *bp as f64 / 10_000.0, &f.ratio)?;
            }
            Cell::Date(d) => {
                let x = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                ws.write_datetime_with_format(r, c, &x, &f.date)?;
            }
            Cell::DateTime(t) => {
                let t = t.with_timezone(&vn_offset());
                let x = ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?
                    .and_hms(t.hour() as u16, t.minute() as u8, t.second())?;
                ws.write_datetime_with_format(r, c, &x, &f.datetime)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod exact_numbers {
    use super::spreadsheet_number;

    #[test]
    fn whole_dong_up_to_2_pow_53_are_exact_and_beyond_refused() {
        assert_eq!(spreadsheet_number(1_500_000).unwrap(), 1_500_000.0);
        assert_eq!(spreadsheet_number(-(1 << 53)).unwrap() as i64, -(1 << 53));
        assert!(spreadsheet_number((1 << 53) + 1).is_err());
        assert!(spreadsheet_number(i64::MIN).is_err());
    }
}
