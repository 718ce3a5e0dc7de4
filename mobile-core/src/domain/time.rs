//! Dates and times as Vietnamese users read them: Asia/Ho_Chi_Minh (UTC+7,
//! no daylight saving), `dd/mm/yyyy`, 24-hour clock.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// Asia/Ho_Chi_Minh.
pub fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The calendar day in Vietnam at instant `at`.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vn_offset()).date_naive()
}

/// `dd/mm/yyyy`
pub fn format_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `dd/mm/yyyy HH:MM` in Vietnam time.
pub fn format_datetime(at: DateTime<Utc>) -> String {
    at.with_timezone(&vn_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// How far a record's time may be ahead of the server's clock, and the
/// phone's clock off the server's, before the server (or the phone, from
/// what its last sync measured) refuses the record.
pub const CLOCK_TOLERANCE_MINUTES: i64 = 10;

/// How far a phone's clock may run slow against the server's before a
/// sync warns of it (its records carry a time that far in the past, maybe
/// the day before; the server takes them).
pub const CLOCK_SLOW_TOLERANCE_MINUTES: i64 = 60;

/// A phone clock `ahead` seconds ahead of the server's runs too fast to
/// record with: the server would refuse its records.
pub fn clock_too_fast(ahead: i64) -> bool {
    ahead > CLOCK_TOLERANCE_MINUTES * 60
}

/// How far ahead of the server's the phone's clock runs now, in seconds
/// (behind when negative), from what the last sync measured: `ahead` when
/// the phone's clock read `checked_ms` and its boot clock (which counts
/// time since the phone started, asleep or not, and which no one sets)
/// `checked_boot_ms`; `now_ms` and `now_boot_ms` the readings now. The
/// server's time now is its time then plus the time gone by on the boot
/// clock, so a clock put right since, or set wrong since, is seen without
/// a sync. Both boot-clock readings must be of the same start of the phone
/// (the caller checks its boot id); `None` when the boot clock reads less
/// than it did: unknown until the next sync.
pub fn clock_ahead_now(
    ahead: i64,
    checked_ms: i64,
    checked_boot_ms: i64,
    now_ms: i64,
    now_boot_ms: i64,
) -> Option<i64> {
    let elapsed = now_boot_ms
        .checked_sub(checked_boot_ms)
        .filter(|e| *e >= 0)?;
    let server_now_ms = checked_ms
        .checked_sub(ahead.checked_mul(1000)?)?
        .checked_add(elapsed)?;
    Some(now_ms.checked_sub(server_now_ms)?.div_euclid(1000))
}

/// A phone clock `ahead` seconds ahead of the server's (behind when
/// negative) is off enough to say so.
pub fn clock_off(ahead: i64) -> bool {
    clock_too_fast(ahead) || -ahead > CLOCK_SLOW_TOLERANCE_MINUTES * 60
}

/// A phone clock reading more than this behind the server's time at the
/// last sync was set back (a phone restarted with its clock lost reads 1970
/// or its maker's year): time does not run backwards.
pub const CLOCK_BEHIND_LAST_SYNC_DAYS: i64 = 1;

/// A phone clock reading more than this past the last sync, with no sync
/// since, is more likely set wrong than an officer this long without a
/// sync: a receipt dated months ahead is not printed.
pub const CLOCK_PAST_LAST_SYNC_DAYS: i64 = 31;

/// Why the phone's clock `now` cannot be right, judged against the
/// server's time `synced_at` at the last sync (Vietnamese, English), or
/// `None`. A clock only a little slow is let be (see
/// [`CLOCK_SLOW_TOLERANCE_MINUTES`]); one far past the last sync is
/// believed when `followed`: the boot clock, which no one sets, counted
/// the same time since the sync.
pub fn clock_unbelievable(
    now: DateTime<Utc>,
    synced_at: DateTime<Utc>,
    followed: bool,
) -> Option<(String, String)> {
    let (shown, last) = (format_datetime(now), format_datetime(synced_at));
    if now < synced_at - chrono::Duration::days(CLOCK_BEHIND_LAST_SYNC_DAYS) {
        return Some((
            format!("Đồng hồ điện thoại chỉ {shown}, trước cả lần đồng bộ cuối ({last}): đồng hồ đã bị đặt lùi (điện thoại khởi động lại mất giờ?). Hãy bật \"Ngày và giờ tự động\" trong Cài đặt (hoặc chỉnh lại ngày giờ) rồi ghi"),
            format!("the phone's clock reads {shown}, before even the last sync ({last}): it was set back (the phone restarted and lost the time?). Turn on automatic date and time in Settings (or set the date and time right), then record"),
        ));
    }
    if !followed && now > synced_at + chrono::Duration::days(CLOCK_PAST_LAST_SYNC_DAYS) {
        return Some((
            format!("Đồng hồ điện thoại chỉ {shown}, hơn {CLOCK_PAST_LAST_SYNC_DAYS} ngày sau lần đồng bộ cuối ({last}): hãy kiểm tra ngày giờ của điện thoại (bật \"Ngày và giờ tự động\"), rồi đồng bộ trước khi ghi"),
            format!("the phone's clock reads {shown}, more than {CLOCK_PAST_LAST_SYNC_DAYS} days after the last sync ({last}): check the phone's date and time (turn on automatic date and time), then sync before recording"),
        ));
    }
    None
}

/// A length of time in words, Vietnamese and English: `2 ngày 3 giờ`,
/// `3 giờ 20 phút`, `12 phút`.
pub fn duration_words(seconds: i64) -> (String, String) {
    let minutes = (seconds.abs() + 30) / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if d > 0 {
        let d = crate::domain::money::group_thousands(d);
        (format!("{d} ngày {h} giờ"), format!("{d} d {h} h"))
    } else if h > 0 {
        (format!("{h} giờ {m} phút"), format!("{h} h {m} min"))
    } else {
        (format!("{m} phút"), format!("{m} min"))
    }
}

/// Parses a date written `dd/mm/yyyy` (or `dd-mm-yyyy`, `dd.mm.yyyy`, as
/// bank and office files write it) or `yyyy-mm-dd`, the year in full
/// (1900–2199): `01/12/26` is refused, not read as the year 26.
pub fn parse_date(input: &str) -> Option<NaiveDate> {
    let t = input.trim();
    ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
        .iter()
        .find_map(|form| NaiveDate::parse_from_str(t, form).ok())
        .filter(|d| (1900..=2199).contains(&d.year()))
}

/// What to say of a date [`parse_date`] does not read, to put it right
/// (Vietnamese, English): the day the month does not have, a year not in
/// full, or the form to write.
pub fn date_hint(input: &str) -> (String, String) {
    const SHORT_YEAR_AHEAD: i32 = 20;
    // Day first, whichever of `/`, `-`, `.` separates it (ISO dates are
    // read or told the form to write).
    let t = input.trim();
    let sep = ['/', '-', '.']
        .into_iter()
        .find(|c| t.contains(*c))
        .unwrap_or('/');
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.first().is_some_and(|p| p.len() > 2) {
        return ("viết dd/mm/yyyy".into(), "write dd/mm/yyyy".into());
    }
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    if let [d, m, y] = parts[..] {
        if let (Some(d), Some(m), Some(year)) = (num(d), num(m), num(y)) {
            // Two digits read within the 80 years before this one and the
            // 19 after it: `95` is 1995 (a birth year), `27` 2027 (a
            // campaign's last day), `50` 1950.
            let full = (y.len() == 2).then(|| {
                let this_century = 2000 + year as i32;
                if this_century >= Utc::now().year() + SHORT_YEAR_AHEAD {
                    this_century - 100
                } else {
                    this_century
                }
            });
            if y.len() < 4 {
                if let Some(day) = full.and_then(|y| NaiveDate::from_ymd_opt(y, m, d)) {
                    let day = day.format("%d/%m/%Y");
                    return (
                        format!("ghi năm đủ 4 chữ số, ví dụ {day}"),
                        format!("write the year in full, e.g. {day}"),
                    );
                }
                if full.is_none() {
                    return (
                        "ghi năm đủ 4 chữ số (dd/mm/yyyy)".into(),
                        "write the year in full, 4 digits (dd/mm/yyyy)".into(),
                    );
                }
            }
            // A two-digit year whose day or month is wrong as well: those
            // are said, of the year in full.
            let year = full.map_or(year, |full| full as u32);
            if (1..=12).contains(&m) && d > 0 {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(year as i32 + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year as i32, m + 1, 1)
                };
                if let Some(days) = next.and_then(|n| n.pred_opt()).map(|last| last.day()) {
                    if d > days {
                        return (
                            format!("tháng {m} năm {year} chỉ có {days} ngày"),
                            format!("month {m} of {year} has {days} days"),
                        );
                    }
                }
            }
            // Month first, as American software writes it (12/31/2026).
            if let Some(day) = (m > 12)
                .then(|| NaiveDate::from_ymd_opt(year as i32, d, m))
                .flatten()
            {
                let day = day.format("%d/%m/%Y");
                return (
                    format!("có lẽ tháng được viết trước ngày, kiểu Mỹ; ngày này viết là {day}"),
                    format!("the month seems written before the day, as in the US; this day is written {day}"),
                );
            }
            if !(1..=12).contains(&m) {
                return (
                    "tháng phải từ 1 đến 12 (dd/mm/yyyy)".into(),
                    "the month must be 1 to 12 (dd/mm/yyyy)".into(),
                );
            }
        }
    }
    ("viết dd/mm/yyyy".into(), "write dd/mm/yyyy".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_date_written_month_first_is_said_so() {
        let (vi, en) = date_hint("12/31/2026");
        assert!(
            vi.contains("31/12/2026") && en.contains("as in the US"),
            "{vi} / {en}"
        );
        // Not when the day cannot be the month either.
        assert_eq!(
            date_hint("13/13/2026").1,
            "the month must be 1 to 12 (dd/mm/yyyy)"
        );
    }

    #[test]
    fn lengths_of_time_in_words() {
        assert_eq!(duration_words(12 * 60).0, "12 phút");
        assert_eq!(duration_words(3 * 3600 + 20 * 60).0, "3 giờ 20 phút");
        assert_eq!(duration_words(2 * 86_400 + 3 * 3600).1, "2 d 3 h");
        // A clock years off: the days grouped as numbers are.
        assert_eq!(duration_words(730_485 * 86_400).0, "730.485 ngày 0 giờ");
    }

    #[test]
    fn a_clock_set_back_or_far_ahead_of_the_last_sync_is_not_believed() {
        let synced = Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap();
        let at = |d: i64, h: i64| synced + chrono::Duration::days(d) + chrono::Duration::hours(h);
        // Two hours slow, or a fortnight without a sync: believed.
        assert_eq!(clock_unbelievable(at(0, -2), synced, false), None);
        assert_eq!(clock_unbelievable(at(14, 0), synced, false), None);
        let reset = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        let (vi, _) = clock_unbelievable(reset, synced, false).expect("set back");
        assert!(
            vi.contains("chỉ 01/01/1970 07:00, trước cả lần đồng bộ cuối (07/12/2026 09:00)"),
            "{vi}"
        );
        let (_, en) = clock_unbelievable(at(95, 0), synced, false).expect("far ahead");
        assert!(en.contains("more than 31 days after the last sync"), "{en}");
        // Five weeks of leave, the boot clock counting them too: believed.
        assert_eq!(clock_unbelievable(at(35, 0), synced, true), None);
        assert!(clock_unbelievable(reset, synced, true).is_some());
    }

    #[test]
    fn a_short_year_is_suggested_in_full_only_as_a_real_day() {
        assert_eq!(
            date_hint("7/12/26").0,
            "ghi năm đủ 4 chữ số, ví dụ 07/12/2026"
        );
        assert_eq!(date_hint("01/12/202").0, "ghi năm đủ 4 chữ số (dd/mm/yyyy)");
        assert_eq!(date_hint("31/02/26").0, "tháng 2 năm 2026 chỉ có 28 ngày");
        assert_eq!(
            date_hint("01/13/26").1,
            "the month seems written before the day, as in the US; this day is written 13/01/2026"
        );
        assert_eq!(
            date_hint("01/13/2026").1,
            "the month seems written before the day, as in the US; this day is written 13/01/2026"
        );
    }

    #[test]
    fn a_date_that_does_not_read_says_why() {
        assert_eq!(
            date_hint("31/11/2026").0,
            "tháng 11 năm 2026 chỉ có 30 ngày"
        );
        assert_eq!(date_hint("29/02/2027").1, "month 2 of 2027 has 28 days");
        assert_eq!(
            date_hint("01/12/26").0,
            "ghi năm đủ 4 chữ số, ví dụ 01/12/2026"
        );
        assert_eq!(
            date_hint("05/31/2027").0,
            "có lẽ tháng được viết trước ngày, kiểu Mỹ; ngày này viết là 31/05/2027"
        );
        assert_eq!(
            date_hint("31/31/2027").0,
            "tháng phải từ 1 đến 12 (dd/mm/yyyy)"
        );
        assert_eq!(date_hint("31-02-1995").0, "tháng 2 năm 1995 chỉ có 28 ngày");
        assert_eq!(
            date_hint("01.12.26").1,
            "write the year in full, e.g. 01/12/2026"
        );
        // Next year is next year (a campaign's last day); twenty years on,
        // last century's (a birth year).
        let now = Utc::now().year();
        let next = (now + 1) % 100;
        assert_eq!(
            date_hint(&format!("31/01/{next:02}")).0,
            format!("ghi năm đủ 4 chữ số, ví dụ 31/01/{}", now + 1)
        );
        let far = (now + 20) % 100;
        assert_eq!(
            date_hint(&format!("05/03/{far:02}")).0,
            format!("ghi năm đủ 4 chữ số, ví dụ 05/03/{}", now + 20 - 100)
        );
        assert_eq!(
            date_hint("05/03/95").0,
            "ghi năm đủ 4 chữ số, ví dụ 05/03/1995"
        );
        // An ISO day that does not read is told the form, not misread.
        assert_eq!(date_hint("2026-02-31").0, "viết dd/mm/yyyy");
        assert_eq!(date_hint("hôm qua").0, "viết dd/mm/yyyy");
        assert_eq!(date_hint("").0, "viết dd/mm/yyyy");
    }

    #[test]
    fn the_clock_is_followed_between_syncs_by_the_boot_clock() {
        const H: i64 = 3_600_000;
        // Measured 2 hours fast at 07:20 on the phone (05:20 on the
        // server), boot clock 1000 s.
        let (ahead, checked, boot) = (2 * 3_600, 7 * H + H / 3, 1_000_000);
        // Forty minutes on, left alone: still 2 hours fast.
        let later = boot + 40 * 60_000;
        assert_eq!(
            clock_ahead_now(ahead, checked, boot, checked + 40 * 60_000, later),
            Some(2 * 3_600)
        );
        // Put right (the phone reads the server's 06:00): right.
        assert_eq!(clock_ahead_now(ahead, checked, boot, 6 * H, later), Some(0));
        // A clock right at the sync set an hour fast since: seen.
        assert_eq!(
            clock_ahead_now(0, checked, boot, checked + H + 60_000, boot + 60_000),
            Some(3_600)
        );
        // Restarted since (the boot clock starts again): unknown.
        assert_eq!(clock_ahead_now(ahead, checked, boot, 6 * H, 5_000), None);
        assert!(clock_ahead_now(i64::MAX, checked, boot, 6 * H, later).is_none());
    }

    #[test]
    fn vietnamese_dates() {
        let at = Utc.with_ymd_and_hms(2026, 1, 31, 18, 5, 0).unwrap();
        assert_eq!(local_date(at), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(format_datetime(at), "01/02/2026 01:05");
        assert_eq!(format_date(local_date(at)), "01/02/2026");
        assert_eq!(
            parse_date("01/02/2026"),
            NaiveDate::from_ymd_opt(2026, 2, 1)
        );
        assert_eq!(
            parse_date("2026-02-01"),
            NaiveDate::from_ymd_opt(2026, 2, 1)
        );
        assert_eq!(parse_date("2026/02/01"), None);
        // Day first with dashes or dots, as bank and office files write it.
        for written in ["01-02-2026", "01.02.2026", "1-2-2026"] {
            assert_eq!(
                parse_date(written),
                NaiveDate::from_ymd_opt(2026, 2, 1),
                "{written}"
            );
        }
        assert_eq!(parse_date("31/02/2026"), None);
        // A year written short is not a year of the first century.
        for short in [
            "01/12/26",
            "01/12/026",
            "01/12/0026",
            "26-12-01",
            "0026-12-01",
        ] {
            assert_eq!(parse_date(short), None, "{short}");
        }
        assert_eq!(
            parse_date("01/01/1900"),
            NaiveDate::from_ymd_opt(1900, 1, 1)
        );
    }
}
