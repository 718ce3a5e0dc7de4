//! Tests of the CSV reader and writer.

use chrono::NaiveDate;

use super::fields::{format_percent, parse_percent_bp};
use super::*;
use crate::demo::demo_fund;
use crate::import::rows::Role;
use sotay_core::domain::gifts::{CampaignKind, Eligibility};

fn parse(kind: ImportKind, text: &str) -> Result<ImportSet, Vec<RowError>> {
    let mut set = ImportSet::default();
    parse_into(
        &mut set,
        kind,
        kind.file_name(),
        text.as_bytes(),
        &mut |_| {},
    )?;
    Ok(set)
}

fn errors(kind: ImportKind, text: &str) -> Vec<RowError> {
    parse(kind, text).expect_err("the file should be refused")
}

/// The only error of a file, checked for line and column.
fn only_error(kind: ImportKind, text: &str, line: u64, column: &str) -> RowError {
    let errs = errors(kind, text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = errs.into_iter().next().unwrap();
    assert_eq!((e.line, e.column.as_str()), (line, column), "{e:#?}");
    assert_eq!(e.file, kind.file_name());
    assert!(!e.message_vi.is_empty() && !e.message_en.is_empty());
    e
}

const LOANS_HEADER: &str = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\n";
const WORKERS_HEADER: &str = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\n";

fn worker_line(code: &str, name: &str, cccd: &str) -> String {
    format!(
        "{code},{name},{cccd},0912 345 678,15/08/1995,nữ,có,Công ty TNHH Pouyuen Việt Nam,KCN Tân Tạo,NT-BT-001,P.12,không,,CB-BT-01\n"
    )
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn demo_fund_round_trips_through_the_files() {
    let set = demo_fund(d(2026, 11, 22));
    let dir = tempfile::tempdir().unwrap();
    write_dir(&set, dir.path()).unwrap();
    let mut progress: Vec<(ImportKind, u64)> = Vec::new();
    let back = read_dir(dir.path(), &mut |k, n| progress.push((k, n))).unwrap();
    assert_eq!(back, set);
    // Progress ends with the row count of each file, in dependency order.
    let last: Vec<(ImportKind, u64)> = ImportKind::ALL
        .iter()
        .map(|k| {
            *progress
                .iter()
                .rev()
                .find(|(pk, _)| pk == k)
                .expect("each file reports progress")
        })
        .collect();
    assert_eq!(last[3], (ImportKind::Workers, set.workers.len() as u64));
    assert_eq!(last[5], (ImportKind::Loans, set.loans.len() as u64));
    let kinds: Vec<ImportKind> = progress.iter().map(|(k, _)| *k).collect();
    assert!(kinds.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn written_files_use_the_documented_formats() {
    let set = demo_fund(d(2026, 11, 22));
    let text = |kind| {
        let mut out = Vec::new();
        write_file(&set, kind, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let products = text(ImportKind::LoanProducts);
    assert!(products.starts_with(
        "code,name,annual_rate_percent,method,frequency,installments,min_principal,max_principal\n"
    ));
    assert!(
        products.contains(",7.8,declining,biweekly,24,5000000,20000000\n"),
        "{products}"
    );
    assert!(products.contains(",12,declining,weekly,26,3000000,30000000\n"));
    let loans = text(ImportKind::Loans);
    let first = loans.lines().nth(1).unwrap();
    let l = &set.loans[0];
    assert_eq!(
        first,
        format!(
            "{},{},{},{},{},{}",
            l.code,
            l.worker_code,
            l.product_code,
            l.principal,
            l.disbursed_on.format("%d/%m/%Y"),
            l.paid_to_date
        )
    );
    let campaigns = text(ImportKind::Campaigns);
    assert!(
        campaigns.contains(",500000,400,union_members,"),
        "{campaigns}"
    );
}

#[test]
fn percent_text_round_trips() {
    for bp in 0..=10_000 {
        assert_eq!(parse_percent_bp(&format_percent(bp)), Some(bp), "{bp}");
    }
    assert_eq!(parse_percent_bp("7.8"), Some(780));
    assert_eq!(parse_percent_bp("7.80"), Some(780));
    assert_eq!(parse_percent_bp("0.25"), Some(25));
    assert_eq!(parse_percent_bp("12%"), Some(1200));
    for bad in ["", "7,8", "7.825", "-1", "1e2", "7.", ".5", "abc", "12 %x"] {
        assert_eq!(parse_percent_bp(bad), None, "{bad}");
    }
}

/// A rate written with a decimal comma (Excel in a Vietnamese locale) is
/// read; two commas, or a comma and a point, are not.
#[test]
fn a_rate_with_a_decimal_comma_is_read() {
    let h =
        "code;name;annual_rate_percent;method;frequency;installments;min_principal;max_principal\n";
    let ok = format!("{h}VT;Vay tiêu dùng;9,5;flat;monthly;12;1000000;20000000\n");
    assert_eq!(
        parse(ImportKind::LoanProducts, &ok).unwrap().loan_products[0].annual_rate_bp,
        950
    );
    for bad in ["9,5,1", "9.5,1"] {
        let text = format!("{h}VT;Vay tiêu dùng;{bad};flat;monthly;12;1000000;20000000\n");
        only_error(ImportKind::LoanProducts, &text, 2, "annual_rate_percent");
    }
}

#[test]
fn decomposed_text_is_stored_composed() {
    let nfd_name = "Nguye\u{302}\u{303}n  Thi\u{323}   Lan";
    let nfd_zone = "KCN Ta\u{302}n Ta\u{323}o";
    let text = format!(
        "{WORKERS_HEADER}NLD-1,{nfd_name},079190012345,,,nu\u{31B},co\u{301},,{nfd_zone},,,Kho\u{302}ng,,CB-1\n"
    );
    let set = parse(ImportKind::Workers, &text).unwrap();
    let w = &set.workers[0];
    assert_eq!(w.full_name, "Nguyễn Thị Lan");
    assert_eq!(w.industrial_zone, "KCN Tân Tạo");
    assert_eq!(w.gender.as_deref(), Some("nu"));
    assert!(w.union_member);
    assert!(!w.hardship);
    assert_eq!((w.phone.clone(), w.date_of_birth), (None, None));
    assert_eq!(w.origin.line, 2);
}

#[test]
fn a_byte_order_mark_is_allowed() {
    let text = "\u{FEFF}code,name,district,industrial_zone,address\r\nCN-TD,Chi nhánh Thủ Đức,TP. Thủ Đức,KCX Linh Trung,Số 10 Đường số 8\r\n";
    let set = parse(ImportKind::Branches, text).unwrap();
    assert_eq!(set.branches[0].code, "CN-TD");
    assert_eq!(set.branches[0].address, "Số 10 Đường số 8");
}

#[test]
fn columns_are_matched_by_name_in_any_order_and_optional_ones_may_be_left_out() {
    let text = "Principal , CODE,disbursed_on,product_code,worker_code\n10000000,KV-1,2026-01-05,VT,NLD-1\n";
    let set = parse(ImportKind::Loans, text).unwrap();
    let l = &set.loans[0];
    assert_eq!(
        (
            l.code.as_str(),
            l.worker_code.as_str(),
            l.product_code.as_str()
        ),
        ("KV-1", "NLD-1", "VT")
    );
    assert_eq!((l.principal, l.paid_to_date), (10_000_000, 0));
    assert_eq!(l.disbursed_on, d(2026, 1, 5));
}

/// Amounts as Excel's Vietnamese formats save them: a zero decimal part
/// after a comma, the accounting dash for nothing; a part that is not zero
/// is still refused.
#[test]
fn excel_formatted_amounts_read_as_whole_dong() {
    let text = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,\"10.000.000,00\",05/01/2026,- ₫\n\
         KV-2,NLD-1,VT,\"5.000.000,00 ₫\",05/01/2026,\"1.500.000,0\"\n"
    );
    let set = parse(ImportKind::Loans, &text).unwrap();
    let got: Vec<(i64, i64)> = set
        .loans
        .iter()
        .map(|l| (l.principal, l.paid_to_date))
        .collect();
    assert_eq!(got, [(10_000_000, 0), (5_000_000, 1_500_000)]);
    for bad in ["\"10.000.000,50\"", "\"15,000,000\"", "-5"] {
        only_error(
            ImportKind::Loans,
            &format!("{LOANS_HEADER}KV-1,NLD-1,VT,{bad},05/01/2026,\n"),
            2,
            "principal",
        );
    }
}

/// Headers as a spreadsheet kept in Vietnamese has them: the labels the
/// guide gives, with or without diacritics, and the usual short ones.
#[test]
fn columns_are_found_by_their_vietnamese_labels() {
    let text = "STT,Mã,Tên đăng nhập,Họ và tên,Vai trò,Mã chi nhánh,Số điện thoại,Mật khẩu\n\
                1,CB-1,canbo.an,Nguyễn Văn An,officer,CN-TD,0912345678,mat-khau-dai-1\n";
    let set = parse(ImportKind::Users, text).unwrap();
    let u = &set.users[0];
    assert_eq!(
        (u.code.as_str(), u.username.as_str(), u.full_name.as_str()),
        ("CB-1", "canbo.an", "Nguyễn Văn An")
    );
    let text = "ma,ten chi nhanh,quan,khu cong nghiep,dia chi\nCN,Chi nhánh,Q1,KCX,1 Lê Lợi\n";
    assert_eq!(
        parse(ImportKind::Branches, text).unwrap().branches[0].code,
        "CN"
    );
    // Each column by its label as the guide and the console write it,
    // brackets and all (`Số tiền vay (đồng)`), or with its unit so.
    for kind in ImportKind::ALL {
        for c in kind.columns() {
            assert!(super::names_column(kind, c, c.vi), "{kind:?}: {}", c.vi);
        }
    }
    let text = "Mã,Tên sản phẩm vay,Lãi suất (%/năm),Cách tính lãi,Kỳ trả,Số kỳ trả,Mức vay tối thiểu (VNĐ),Mức vay tối đa (đồng)\n";
    let with_words = format!(
        "{text}VT;Vay tiêu dùng;12;Lãi tính trên dư nợ giảm dần;Hằng tháng;12;1.000.000;20.000.000\n"
    );
    let p = &parse(ImportKind::LoanProducts, &with_words.replace(',', ";"))
        .unwrap()
        .loan_products[0];
    assert_eq!(
        (p.method, p.frequency),
        (
            sotay_core::domain::schedule::InterestMethod::Declining,
            sotay_core::domain::schedule::Frequency::Monthly
        )
    );
    let header_only = parse(ImportKind::LoanProducts, text);
    assert!(
        header_only
            .as_ref()
            .is_ok_and(|s| s.loan_products.is_empty()),
        "{:?}",
        header_only.err()
    );
    // A column named twice over (its name and its label) is said so.
    let e = only_error(
        ImportKind::Branches,
        "code,mã,name,district,industrial_zone,address\nCN,CN,Chi nhánh,Q1,KCX,1 Lê Lợi\n",
        1,
        "code",
    );
    assert!(
        e.message_vi
            .starts_with("Cột \"code\" (cột A) và cột \"mã\" (cột B) cùng là cột code"),
        "{}",
        e.message_vi
    );
}

/// The names spreadsheets give these columns, and a header named in
/// errors as its reader writes it, lower case and all.
#[test]
fn common_header_names_are_known_and_unknown_ones_named_in_lower_case() {
    let workers = "STT,Mã NLĐ,Họ và tên,Số CMND/CCCD,Đoàn viên,Nam/Nữ,Hoàn cảnh khó khăn,Mã cán bộ phụ trách\n\
                   1,NLD-00098,Hà Thị Yến,079190000098,x,Nữ,,CB-TD-01\n";
    let w = &parse(ImportKind::Workers, workers).unwrap().workers[0];
    assert_eq!(
        (
            w.code.as_str(),
            w.cccd.as_str(),
            w.union_member,
            w.gender.as_deref()
        ),
        ("NLD-00098", "079190000098", true, Some("nu"))
    );
    for (code, cccd) in [
        ("Mã người lao động", "Số CMND"),
        ("mã nlđ", "CMND/CCCD"),
        ("MÃ NLĐ", "số cccd/cmnd"),
    ] {
        let text = format!(
            "{code},Họ và tên,{cccd},Đoàn viên,Hoàn cảnh khó khăn,Mã cán bộ phụ trách\nNLD-1,Hà Thị Yến,079190000098,x,,CB-TD-01\n"
        );
        let set =
            parse(ImportKind::Workers, &text).unwrap_or_else(|e| panic!("{code}, {cccd}: {e:#?}"));
        assert_eq!(set.workers[0].code, "NLD-1");
    }
    // In a file of loans, `Mã NLĐ` is the loan's worker.
    let loans = "Mã khoản vay,Mã NLĐ,Mã sản phẩm vay,Số tiền vay (đồng),Ngày giải ngân\nKV-1,NLD-1,VT,1000000,05/01/2026\n";
    let l = &parse(ImportKind::Loans, loans).unwrap().loans[0];
    assert_eq!((l.code.as_str(), l.worker_code.as_str()), ("KV-1", "NLD-1"));
    // A product's columns as offices head them.
    let products = "Mã sản phẩm,Tên sản phẩm,LS (%/tháng),Phương thức tính lãi,Kỳ hạn trả,Số kỳ,Mức vay tối thiểu (đồng),Mức vay tối đa (đồng)\n\
                    A,Vay,\"0,5\",Dư nợ giảm dần,Hằng tháng,12,1000000,2000000\n";
    let p = &parse(ImportKind::LoanProducts, products)
        .unwrap()
        .loan_products[0];
    assert_eq!(
        (p.code.as_str(), p.annual_rate_bp, p.installments),
        ("A", 600, 12)
    );
    let products = "Mã sản phẩm,Tên sản phẩm,Lãi suất cho vay (%/năm),Phương thức tính lãi,Kỳ hạn trả,Số kỳ,Mức vay tối thiểu (đồng),Mức vay tối đa (đồng)\n\
                    A,Vay,\"7,2\",Dư nợ giảm dần,Hằng tháng,12,1000000,2000000\n";
    assert_eq!(
        parse(ImportKind::LoanProducts, products)
            .unwrap()
            .loan_products[0]
            .annual_rate_bp,
        720
    );
    let loans = "Mã khoản vay,Mã NLĐ,Mã sản phẩm vay,Mức vay (đ),Ngày giải ngân\nKV-1,NLD-1,VT,1000000,05/01/2026\n";
    assert_eq!(
        parse(ImportKind::Loans, loans).unwrap().loans[0].principal,
        1_000_000
    );
    // A product's method as funds name it.
    let products = "code,name,annual_rate_percent,Cách tính lãi,frequency,installments,min_principal,max_principal\n\
                    A,Vay,12,Lãi cố định,monthly,12,1000000,2000000\nB,Vay,12,LÃI CỐ ĐỊNH,monthly,12,1000000,2000000\n\
                    C,Vay,12,Lãi phẳng,Tháng,12,1000000,2000000\nD,Vay,12,Dư nợ ban đầu,2 tuần,12,1000000,2000000\n";
    let set = parse(ImportKind::LoanProducts, products).unwrap();
    assert!(set
        .loan_products
        .iter()
        .all(|p| p.method == sotay_core::domain::schedule::InterestMethod::Flat));
    assert_eq!(
        set.loan_products[2].frequency,
        sotay_core::domain::schedule::Frequency::Monthly
    );
    assert_eq!(
        set.loan_products[3].frequency,
        sotay_core::domain::schedule::Frequency::Biweekly
    );
    // An unknown column, named lower case as Vietnamese write it.
    let e = only_error(
        ImportKind::BoardingHouses,
        "code,name,address,ward,district,industrial_zone,SĐT CHỦ TRỌ\n",
        1,
        "sđt chủ trọ",
    );
    assert!(
        e.message_vi
            .starts_with("Cột \"SĐT CHỦ TRỌ\" (cột G) không thuộc"),
        "{}",
        e.message_vi
    );
}

/// No header cell could name two columns of one kind.
#[test]
fn every_name_a_column_goes_by_is_its_own() {
    for kind in ImportKind::ALL {
        for a in kind.columns() {
            for b in kind.columns().iter().filter(|b| b.name != a.name) {
                let label = b.vi.split(" (").next().unwrap();
                let others = super::OTHER_NAMES
                    .iter()
                    .filter(|(n, _)| *n == b.name)
                    .flat_map(|(_, names)| names.iter().copied())
                    .chain(
                        super::KIND_NAMES
                            .iter()
                            .filter(|(k, n, _)| *k == kind && *n == b.name)
                            .flat_map(|(_, _, names)| names.iter().copied()),
                    );
                for name in [b.name, label, b.vi].into_iter().chain(others) {
                    assert!(
                        !super::names_column(kind, a, name),
                        "{kind:?}: \"{name}\" of {} also names {}",
                        b.name,
                        a.name
                    );
                }
            }
        }
    }
}

/// Excel saves the cells past the data as empty columns: those after the
/// last named column are no columns; one between named ones is refused.
#[test]
fn empty_columns_past_the_data_are_no_columns() {
    let text = "code;name;district;industrial_zone;address;;\nCN;Chi nhánh;Q1;KCX;1 Lê Lợi;;\n";
    let set = parse(ImportKind::Branches, text).unwrap();
    assert_eq!(set.branches[0].address, "1 Lê Lợi");
    let e = only_error(
        ImportKind::Branches,
        "code,,name,district,industrial_zone,address\nCN,,Chi nhánh,Q1,KCX,1 Lê Lợi\n",
        1,
        "",
    );
    assert!(
        e.message_vi
            .starts_with("Cột B (cột thứ 2) ở dòng tiêu đề không có tên"),
        "{}",
        e.message_vi
    );
    // A value past the named columns: a column whose name was forgotten.
    let e = only_error(
        ImportKind::Branches,
        "code;name;district;industrial_zone;address;;\nCN;Chi nhánh;Q1;KCX;1 Lê Lợi;0912345678;\n",
        2,
        "",
    );
    assert!(
        e.message_vi.contains("có giá trị ở cột F (cột thứ 6)"),
        "{}",
        e.message_vi
    );
}

/// A totals row is said to be one; a line of a semicolon file with a
/// field too many is told to look at its semicolons.
#[test]
fn a_totals_row_and_a_semicolon_too_many_are_named() {
    let text = "code;worker_code;product_code;principal;disbursed_on;paid_to_date\n;;;Tổng cộng;3.000.000;\n";
    let e = only_error(ImportKind::Loans, text, 2, "");
    assert!(
        e.message_vi.contains("là dòng tổng cộng của bảng tính"),
        "{}",
        e.message_vi
    );
    // The word where the code would be, or under a quota sheet with no code.
    for (kind, text) in [
        (
            ImportKind::Loans,
            "code;worker_code;product_code;principal;disbursed_on;paid_to_date\nTổng cộng;;;3.000.000;;0\n",
        ),
        (
            ImportKind::Allocations,
            "campaign_code;branch_code;officer_code;quota\n;;Tổng cộng;120\n",
        ),
    ] {
        let e = only_error(kind, text, 2, "");
        assert!(e.message_vi.contains("là dòng tổng cộng"), "{kind:?}: {}", e.message_vi);
    }
    // A branch coded TOTAL is a branch.
    let set = parse(
        ImportKind::Branches,
        "code,name,district,industrial_zone,address\nTOTAL,Chi nhánh Tổng,Q1,KCX,1 Lê Lợi\n",
    )
    .unwrap();
    assert_eq!(set.branches[0].code, "TOTAL");
    let text = "code;name;district;industrial_zone;address\nCN;Chi nhánh;Q1;KCX;1 Lê Lợi;x\n";
    let e = only_error(ImportKind::Branches, text, 2, "");
    assert!(
        e.message_vi
            .contains("kiểm tra dấu chấm phẩy thừa hoặc thiếu"),
        "{}",
        e.message_vi
    );
}

#[test]
fn unknown_and_missing_columns_are_named_on_line_one() {
    let e = only_error(
        ImportKind::Branches,
        "code,name,district,industrial_zone,address,ghi_chu\nCN,Chi nhánh,Q1,KCX,1 Lê Lợi,x\n",
        1,
        "ghi_chu",
    );
    assert!(e.message_vi.contains("\"ghi_chu\""), "{}", e.message_vi);
    // Each named with what it holds in Vietnamese.
    assert!(
        e.message_vi
            .contains("code (mã chi nhánh), name (tên chi nhánh), district ("),
        "{}",
        e.message_vi
    );
    assert!(e
        .message_en
        .contains("expected columns: code, name, district, industrial_zone, address"));
    // Quoted as the header writes it, with its letter.
    let e = only_error(
        ImportKind::Branches,
        "code,name,district,industrial_zone,address,GHI CHÚ\nCN,Chi nhánh,Q1,KCX,1 Lê Lợi,x\n",
        1,
        "ghi chú",
    );
    assert!(
        e.message_vi
            .starts_with("Cột \"GHI CHÚ\" (cột F) không thuộc branches.csv"),
        "{}",
        e.message_vi
    );
    // A spreadsheet's row numbers are left aside, in any column.
    for stt in ["STT", "No.", "#", "Số TT"] {
        let text = format!(
            "{stt},code,name,district,industrial_zone,address\n1,CN,Chi nhánh,Q1,KCX,1 Lê Lợi\n"
        );
        let set = parse(ImportKind::Branches, &text).unwrap();
        assert_eq!(set.branches[0].code, "CN", "{stt}");
    }
    // Numbered on past the data: those rows are blank ones.
    let text = "STT,code,name,district,industrial_zone,address\n1,CN,Chi nhánh,Q1,KCX,1 Lê Lợi\n2,,,,,\n3,,,,,\n";
    assert_eq!(parse(ImportKind::Branches, text).unwrap().branches.len(), 1);

    let e = only_error(
        ImportKind::Loans,
        "code,worker_code,principal,disbursed_on\nKV-1,NLD-1,1000000,05/01/2026\n",
        1,
        "product_code",
    );
    assert!(
        e.message_vi.contains("Thiếu cột bắt buộc \"product_code\""),
        "{}",
        e.message_vi
    );
    assert!(
        e.message_vi.contains("paid_to_date (") && e.message_vi.contains(", không bắt buộc)"),
        "{}",
        e.message_vi
    );

    let errs = errors(
        ImportKind::Loans,
        "code,code,worker_code,product_code,principal,disbursed_on\n",
    );
    assert_eq!(errs[0].column, "code");
    assert!(
        errs[0].message_en.contains("are both code"),
        "{}",
        errs[0].message_en
    );

    let e = only_error(ImportKind::Campaigns, "", 1, "");
    assert!(e.message_vi.contains("trống"));
    assert!(!e.message_vi.contains("optional"), "{}", e.message_vi);
}

/// A sheet saved with its title above the table: the header row is named
/// and the lines above it to delete, not taken past.
#[test]
fn a_header_row_under_a_title_is_named_with_the_lines_to_delete() {
    let table = "STT,Mã người lao động,Họ và tên,Số CCCD,Số điện thoại,Đoàn viên công đoàn,Hoàn cảnh khó khăn,Mã cán bộ phụ trách\n\
                 1,NLD-00060,Nguyễn Thị Hằng,079190000060,0912345660,x,,CB-TD-01\n";
    let titled = format!(
        "\u{FEFF}DANH SÁCH CÔNG NHÂN VAY VỐN - CHI NHÁNH THỦ ĐỨC,,,,,,,\n\
         (Kèm theo công văn số 12/CV-QTV ngày 05/03/2026),,,,,,,\n\
         ,,,,,,,\n{table}"
    );
    let e = only_error(ImportKind::Workers, &titled, 1, "");
    assert!(
        e.message_vi.starts_with(
            "Dòng 4 mới là dòng tên cột của workers.csv: hãy xoá các dòng 1–3 phía trên"
        ),
        "{}",
        e.message_vi
    );
    assert!(
        e.message_en.contains("delete lines 1–3 above it"),
        "{}",
        e.message_en
    );
    // One empty row above, in a file separated by semicolons whose title
    // has no separator at all.
    let e = only_error(ImportKind::Workers, &format!(",,,,,,,\n{table}"), 1, "");
    assert!(
        e.message_vi.contains("hãy xoá dòng 1 phía trên"),
        "{}",
        e.message_vi
    );
    let semicolons = format!("DANH SÁCH CÔNG NHÂN\n{}", table.replace(',', ";"));
    let e = only_error(ImportKind::Workers, &semicolons, 1, "");
    assert!(
        e.message_vi.starts_with("Dòng 2 mới là dòng tên cột"),
        "{}",
        e.message_vi
    );
    // Past the first ten lines, or no header at all: the columns of line 1
    // are said, as before.
    let far = format!("DANH SÁCH,,,,,,,\n{}{table}", ",,,,,,,\n".repeat(9));
    let errs = errors(ImportKind::Workers, &far);
    assert!(
        errs.iter()
            .all(|e| e.line == 1 && !e.message_vi.contains("mới là dòng tên cột")),
        "{errs:#?}"
    );
    // Blank lines above a header, which the reader passes by, still read.
    let set = parse(ImportKind::Workers, &format!("\n\n{table}")).unwrap();
    assert_eq!(set.workers[0].origin.line, 4);
}

#[test]
fn a_file_of_another_kind_or_a_workbook_is_named_as_such() {
    let text = format!(
        "{WORKERS_HEADER}{}",
        worker_line("NLD-1", "Lê Văn A", "079195000001")
    );
    let e = only_error(ImportKind::Loans, &text, 1, "");
    assert!(
        e.message_vi
            .contains("là của tệp workers.csv, không phải loans.csv"),
        "{}",
        e.message_vi
    );
    // Named for what it holds, chosen as another kind: said without
    // naming the same file twice as if it were two.
    let mut set = ImportSet::default();
    let errs = parse_into(
        &mut set,
        ImportKind::Loans,
        "workers.csv",
        text.as_bytes(),
        &mut |_| {},
    )
    .expect_err("refused");
    assert!(
        errs[0]
            .message_vi
            .starts_with("workers.csv đã được chọn nhập là loans.csv")
            && errs[0]
                .message_vi
                .contains("hãy chọn loại dữ liệu workers.csv"),
        "{}",
        errs[0].message_vi
    );
    let e = only_error(ImportKind::Workers, "PK\u{3}\u{4}\u{14}\u{0}", 1, "");
    assert!(e.message_vi.contains("là tệp Excel"), "{}", e.message_vi);
}

#[test]
fn a_line_with_the_wrong_number_of_fields_is_refused() {
    let text = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,1000000,05/01/2026,0\nKV-2,NLD-2,VT,1,500,000,05/01/2026,0\n"
    );
    let e = only_error(ImportKind::Loans, &text, 3, "");
    assert!(e.message_vi.contains("8 trường"), "{}", e.message_vi);
    assert!(e.message_vi.contains("6 cột"));
}

#[test]
fn money_is_whole_dong_in_plain_digits_or_grouped_in_threes() {
    for (value, hint) in [
        ("1,5", "dấu phẩy"),
        ("1,500,000", "dấu phẩy"),
        ("15.00.000", "ba chữ số"),
        ("1.5", "phần lẻ"),
        ("abc", "không phải số tiền"),
        ("-5", "số âm"),
        ("", "cần nhập số tiền"),
        ("0", "lớn hơn 0"),
        ("1500000.5", "phần lẻ"),
    ] {
        let quoted = format!("\"{value}\"");
        let text = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,05/01/2026,0\nKV-2,NLD-2,VT,{quoted},05/01/2026,0\n");
        let e = only_error(ImportKind::Loans, &text, 3, "principal");
        assert!(e.message_vi.contains("principal"), "{}", e.message_vi);
        assert!(e.message_vi.contains(value), "{}", e.message_vi);
        assert!(e.message_vi.contains(hint), "{value}: {}", e.message_vi);
        assert!(
            e.message_en.starts_with("principal (column D):"),
            "{}",
            e.message_en
        );
    }
    // Named as the header writes it, with its spreadsheet letter.
    let text = "Mã khoản vay,Mã người lao động,Mã sản phẩm vay,Số tiền vay (đồng),Ngày giải ngân,Số tiền đã trả (đồng)\nKV-2,NLD-2,VT,\"1,5\",05/01/2026,0\n";
    let e = only_error(ImportKind::Loans, text, 2, "principal");
    assert!(
        e.message_vi
            .starts_with("Cột \"Số tiền vay (đồng)\" (cột D, principal): "),
        "{}",
        e.message_vi
    );
    let empty = text.replace("\"1,5\"", "");
    let e = only_error(ImportKind::Loans, &empty, 2, "principal");
    assert!(
        e.message_vi
            .starts_with("Cột \"Số tiền vay (đồng)\" (cột D, principal): cần nhập"),
        "{}",
        e.message_vi
    );
    // An empty column's label is not said twice.
    let text = "Mã chi nhánh,Tên chi nhánh,Quận,Khu công nghiệp,Địa chỉ\nCN,,Q1,KCX,1 Lê Lợi\n";
    let e = only_error(ImportKind::Branches, text, 2, "name");
    assert!(
        e.message_vi
            .starts_with("Cột \"Tên chi nhánh\" (cột B, name) đang để trống"),
        "{}",
        e.message_vi
    );
    // As Vietnamese write it and Excel shows it, or as a program writes it.
    for (value, meant) in [
        ("1.500.000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("1.500.000 ₫", 1_500_000),
        ("1500000.00", 1_500_000),
        ("1.500", 1_500),
    ] {
        let text = format!("{LOANS_HEADER}KV-1,NLD-1,VT,\"{value}\",05/01/2026,0\n");
        let loans = parse(ImportKind::Loans, &text).unwrap().loans;
        assert_eq!(loans[0].principal, meant, "{value}");
    }
    // paid_to_date may be empty (0) but not negative.
    let ok = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,05/01/2026,\n");
    assert_eq!(
        parse(ImportKind::Loans, &ok).unwrap().loans[0].paid_to_date,
        0
    );
    let bad = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,05/01/2026,-5\n");
    only_error(ImportKind::Loans, &bad, 2, "paid_to_date");
}

#[test]
fn semicolon_or_tab_separated_files_read_like_comma_separated_ones() {
    let commas = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,05/01/2026,\"1000\"\n");
    let expected = parse(ImportKind::Loans, &commas).unwrap().loans;
    for d in [";", "\t"] {
        let text = commas.replace(',', d);
        let loans = parse(ImportKind::Loans, &text).unwrap().loans;
        assert_eq!(
            (
                loans[0].code.as_str(),
                loans[0].principal,
                loans[0].paid_to_date
            ),
            (
                expected[0].code.as_str(),
                expected[0].principal,
                expected[0].paid_to_date
            ),
            "{d:?}"
        );
    }
    // A comma inside a quoted name does not make the file comma-separated.
    let text = format!(
        "{}NLD-1;\"Nguyễn, Thị Lan\";079190012345;;;;1;;;;;0;;CB-1\n",
        WORKERS_HEADER.replace(',', ";")
    );
    assert_eq!(
        parse(ImportKind::Workers, &text).unwrap().workers[0].full_name,
        "Nguyễn, Thị Lan"
    );
    // Blank lines before the header are skipped, for the separator too.
    let text = format!("\n\r\n{}", commas.replace(',', ";"));
    assert_eq!(parse(ImportKind::Loans, &text).unwrap().loans.len(), 1);
}

#[test]
fn dates_are_day_month_year_or_iso() {
    let ok = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,1000000,05/01/2026,0\nKV-2,NLD-1,VT,1000000,2026-01-06,0\n"
    );
    let set = parse(ImportKind::Loans, &ok).unwrap();
    assert_eq!(set.loans[0].disbursed_on, d(2026, 1, 5));
    assert_eq!(set.loans[1].disbursed_on, d(2026, 1, 6));
    for bad in [
        "31/02/2026",
        "2026/01/05",
        "5 tháng 1",
        "",
        "01/12/26",
        "0026-12-01",
    ] {
        let text = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,{bad},0\n");
        let e = only_error(ImportKind::Loans, &text, 2, "disbursed_on");
        assert!(e.message_vi.contains("disbursed_on"), "{}", e.message_vi);
    }
    // A short year is named as the fault.
    let text = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,01/12/26,0\n");
    let e = only_error(ImportKind::Loans, &text, 2, "disbursed_on");
    assert!(e.message_vi.contains("năm đủ 4 chữ số"), "{}", e.message_vi);
    // A loan imported is one paid out already: not after today.
    let today = sotay_core::domain::time::local_date(chrono::Utc::now());
    let tomorrow = sotay_core::domain::time::format_date(today.succ_opt().unwrap());
    let text = format!("{LOANS_HEADER}KV-1,NLD-1,VT,1000000,{tomorrow},0\n");
    let e = only_error(ImportKind::Loans, &text, 2, "disbursed_on");
    assert!(e.message_vi.contains("sau hôm nay"), "{}", e.message_vi);
    let text = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,1000000,{},0\n",
        sotay_core::domain::time::format_date(today)
    );
    assert_eq!(parse(ImportKind::Loans, &text).unwrap().loans.len(), 1);
}

/// A column that shows itself written month first (US Excel: `3/25/2025`)
/// has its values whose day and month are both 12 or less refused too,
/// naming the line that shows it: read day first they would be other days.
#[test]
fn a_column_written_month_first_refuses_its_ambiguous_days_too() {
    let text = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,1000000,3/5/2025,0\n\
         KV-2,NLD-2,VT,1000000,3/25/2025,0\n\
         KV-3,NLD-3,VT,1000000,4/7/2025 00:00,0\n\
         KV-4,NLD-4,VT,1000000,11/30/2025,0\n\
         KV-5,NLD-5,VT,1000000,4/4/2025,0\n\
         KV-6,NLD-6,VT,1000000,2025-03-05,0\n"
    );
    let mut set = ImportSet::default();
    let errs = parse_into(
        &mut set,
        ImportKind::Loans,
        "loans.csv",
        text.as_bytes(),
        &mut |_| {},
    )
    .unwrap_err();
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        found,
        [
            (2, "disbursed_on"),
            (3, "disbursed_on"),
            (4, "disbursed_on"),
            (5, "disbursed_on")
        ],
        "{errs:#?}"
    );
    assert!(
        errs[0].message_vi.starts_with(
            "Cột disbursed_on (cột E): \"3/5/2025\" có thể là ngày 3 tháng 5 hoặc ngày 5 tháng 3: dòng 3 (\"3/25/2025\", cột disbursed_on) cho thấy tệp ghi tháng trước ngày"
        ),
        "{}",
        errs[0].message_vi
    );
    assert!(
        errs[0].message_vi.contains("05/03/2025"),
        "{}",
        errs[0].message_vi
    );
    assert!(
        errs[0]
            .message_en
            .contains("line 3 (\"3/25/2025\", column disbursed_on)"),
        "{}",
        errs[0].message_en
    );
    assert!(
        errs[2].message_vi.contains("\"4/7/2025 00:00\""),
        "{}",
        errs[2].message_vi
    );
    // The refused rows are not brought; the same day twice (4/4) and ISO
    // dates read either way alike.
    let codes: Vec<&str> = set.loans.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes, ["KV-5", "KV-6"]);
    assert!(set.unread.contains("KV-1") && set.unread.contains("KV-3"));
    // A file written day first with one slip (01/13 for 13/01): only the
    // slip is refused; its other days read day first.
    let text = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,1000000,3/5/2025,0\n\
         KV-2,NLD-2,VT,1000000,25/03/2025,0\n\
         KV-3,NLD-3,VT,1000000,01/13/2025,0\n\
         KV-4,NLD-4,VT,1000000,11/03/2025,0\n"
    );
    let mut set = ImportSet::default();
    let errs = parse_into(
        &mut set,
        ImportKind::Loans,
        "loans.csv",
        text.as_bytes(),
        &mut |_| {},
    )
    .unwrap_err();
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(found, [(4, "disbursed_on")], "{errs:#?}");
    assert_eq!(set.loans[0].disbursed_on, d(2025, 5, 3));
    // One date column shown month first speaks for the file's others.
    let campaigns = "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility\n\
                     A,Tết,gift,5/1/2027,5/31/2027,500000,10,all\n";
    let errs = errors(ImportKind::Campaigns, campaigns);
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert!(found.contains(&(2, "starts_on")), "{errs:#?}");
    // Without a value that shows it, a column reads day first, as
    // Vietnamese write it.
    let text = format!(
        "{LOANS_HEADER}KV-1,NLD-1,VT,1000000,3/5/2025,0\nKV-2,NLD-2,VT,1000000,25/03/2025,0\n"
    );
    assert_eq!(
        parse(ImportKind::Loans, &text).unwrap().loans[0].disbursed_on,
        d(2025, 5, 3)
    );
    let campaigns = "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility\n\
                     A,Tết,gift,12/20/2026,01/02/2027,500000,10,all\n\
                     B,Hè,gift,20/06/2027,03/07/2027,500000,10,all\n";
    let e = only_error(ImportKind::Campaigns, campaigns, 2, "starts_on");
    assert!(e.message_vi.contains("kiểu Mỹ"), "{}", e.message_vi);
    // Dates of birth the same.
    let workers = format!(
        "{WORKERS_HEADER}{}{}",
        worker_line("W-1", "Lan", "079190012345").replace("15/08/1995", "08/15/1995"),
        worker_line("W-2", "Hoa", "079190012346").replace("15/08/1995", "08/09/1995"),
    );
    let errs = errors(ImportKind::Workers, &workers);
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        found,
        [(2, "date_of_birth"), (3, "date_of_birth")],
        "{errs:#?}"
    );
}

/// Names typed in TCVN3 or VNI, or damaged by a save (`Nguy?n`), are
/// refused saying to convert the file to Unicode; the same names in
/// Unicode read.
#[test]
fn names_in_an_old_font_or_damaged_by_a_save_are_refused() {
    let h = "code,full_name,cccd,phone,union_member,hardship,officer_code,employer\n";
    let text = format!(
        "{h}NLD-40,Nguy?n Th? Lan,079190000040,0912345640,1,0,CB-TD-01,Cong ty TNHH Gi?y H?ng Phat\n\
         NLD-50,NguyÔn ThÞ Lan,079190000050,0912345650,x,,CB-TD-01,C«ng ty TNHH GiÇy H\u{AD}ng Ph¸t\n\
         NLD-52,§ç V¨n Th\u{AD}ëng,079190000052,0912345652,x,,CB-TD-01,Samsung Electronics Việt Nam\n\
         NLD-53,Nguyeãn Thò Lan,079190000053,0912345653,x,,CB-TD-01,Coâng ty\n\
         NLD-54,Đỗ Văn Thưởng,079190000054,0912345654,x,,CB-TD-01,Công ty TNHH Bühler Việt Nam\n"
    );
    let errs = errors(ImportKind::Workers, &text);
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        found,
        [
            (2, "full_name"),
            (2, "employer"),
            (3, "full_name"),
            (3, "employer"),
            (4, "full_name"),
            (5, "full_name"),
            (5, "employer"),
        ],
        "{errs:#?}"
    );
    assert!(
        errs[2]
            .message_vi
            .starts_with("Cột full_name (cột B): \"NguyÔn ThÞ Lan\""),
        "{}",
        errs[2].message_vi
    );
    for e in &errs {
        assert!(
            e.message_vi.contains("TCVN3") && e.message_vi.contains("Unikey"),
            "{}",
            e.message_vi
        );
        assert!(
            e.message_en.contains("convert it to Unicode"),
            "{}",
            e.message_en
        );
    }
    assert!(
        errs[0].message_vi.contains("\"?\""),
        "{}",
        errs[0].message_vi
    );
    // Users, boarding houses and their landlords alike.
    let users =
        "code,username,full_name,role,branch_code\nCB-1,canbo.lan,TrÇn V¨n Hïng,officer,CN-TD\n";
    only_error(ImportKind::Users, users, 2, "full_name");
    let houses = "code,name,address,ward,district,industrial_zone,landlord_name\n\
                  NT-1,Nhµ trä C« Ba,45/3 Đường số 8,P. Linh Trung,TP. Thủ Đức,KCX Linh Trung,Trần Thị Ba\n\
                  NT-2,Nhà trọ Cô Ba,45/3 Đường số 8,P. Linh Trung,TP. Thủ Đức,KCX Linh Trung,TrÇn ThÞ Ba\n";
    let errs = errors(ImportKind::BoardingHouses, houses);
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(found, [(2, "name"), (3, "landlord_name")], "{errs:#?}");
}

#[test]
fn yes_no_columns_accept_the_usual_spellings() {
    let cases = [
        ("1", true),
        ("true", true),
        ("Yes", true),
        ("có", true),
        ("CÓ", true),
        ("co", true),
        ("x", true),
        ("X", true),
        ("0", false),
        ("FALSE", false),
        ("no", false),
        ("không", false),
        ("Khong", false),
        ("", false),
    ];
    let mut text = WORKERS_HEADER.to_string();
    for (i, (v, _)) in cases.iter().enumerate() {
        text.push_str(&format!(
            "NLD-{i},Lê Văn A,0791900123{i:02},,,,{v},,,,,{v},,CB-1\n"
        ));
    }
    let set = parse(ImportKind::Workers, &text).unwrap();
    for (w, (v, expected)) in set.workers.iter().zip(cases) {
        assert_eq!((w.union_member, w.hardship), (expected, expected), "{v}");
    }
    let bad = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,,,,maybe,,,,,0,,CB-1\n");
    let e = only_error(ImportKind::Workers, &bad, 2, "union_member");
    assert!(e.message_vi.contains("\"maybe\""));
    assert!(e.message_vi.contains("có/không"));
}

#[test]
fn codes_are_trimmed_and_refused_with_spaces_or_empty() {
    let text = "code,name,district,industrial_zone,address\n  CN-TD  ,Chi nhánh,Q1,KCX,1 Lê Lợi\n";
    assert_eq!(
        parse(ImportKind::Branches, text).unwrap().branches[0].code,
        "CN-TD"
    );
    let text = "code,name,district,industrial_zone,address\nCN TD,Chi nhánh,Q1,KCX,1 Lê Lợi\n";
    let e = only_error(ImportKind::Branches, text, 2, "code");
    assert!(e.message_vi.contains("\"CN TD\""));
    let text = "code,name,district,industrial_zone,address\n ,Chi nhánh,Q1,KCX,1 Lê Lợi\n";
    let e = only_error(ImportKind::Branches, text, 2, "code");
    assert!(e.message_vi.contains("để trống"));
    let text = format!("{LOANS_HEADER}KV-1,NLD 1,VT,1000000,05/01/2026,0\n");
    only_error(ImportKind::Loans, &text, 2, "worker_code");
}

#[test]
fn duplicates_name_both_lines() {
    let text = "code,name,district,industrial_zone,address\nCN-1,A,Q1,KCX,1 Lê Lợi\nCN-2,B,Q1,KCX,2 Lê Lợi\nCN-1,C,Q1,KCX,3 Lê Lợi\n";
    let e = only_error(ImportKind::Branches, text, 4, "code");
    assert!(e.message_vi.contains("\"CN-1\""));
    assert!(e.message_vi.contains("dòng 2"), "{}", e.message_vi);
    assert!(e.message_en.contains("line 2"));

    let text = format!(
        "{WORKERS_HEADER}{}{}",
        worker_line("NLD-1", "Nguyễn Thị Lan", "079 190 012 345"),
        worker_line("NLD-2", "Nguyễn Thị Lan", "079190012345")
    );
    let e = only_error(ImportKind::Workers, &text, 3, "cccd");
    assert!(e.message_vi.contains("079190012345") && e.message_vi.contains("dòng 2"));

    let users = "code,username,full_name,role,branch_code\nU1,canbo.lan,Võ Thị Lan,officer,CN\nU2,CanBo.Lan,Lê Thị Lan,officer,CN\n";
    only_error(ImportKind::Users, users, 3, "username");

    let alloc = "campaign_code,branch_code,officer_code,quota\nTET,CN,,200\nTET,CN,CB-1,60\nTET,CN,CB-1,50\nTET,CN,,10\n";
    let errs = errors(ImportKind::Allocations, alloc);
    let at: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(at, [(4, "officer_code"), (5, "branch_code")]);
}

#[test]
fn a_day_the_month_has_not_is_said_so() {
    let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,,31/02/1995,,1,,,,,0,,CB-1\n");
    let e = only_error(ImportKind::Workers, &text, 2, "date_of_birth");
    assert!(
        e.message_vi.contains("(tháng 2 năm 1995 chỉ có 28 ngày)"),
        "{}",
        e.message_vi
    );
}

#[test]
fn a_day_excel_wrote_as_a_number_says_which_day_it_was() {
    let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,,34763,,1,,,,,0,,CB-1\n");
    let e = only_error(ImportKind::Workers, &text, 2, "date_of_birth");
    assert!(
        e.message_vi.contains("có lẽ là 05/03/1995") && e.message_vi.contains("Văn bản"),
        "{}",
        e.message_vi
    );
    // The same day written with dashes or dots, as office files do, or
    // with a date cell's midnight after it, reads.
    for written in [
        "05-03-1995",
        "05.03.1995",
        "05/03/1995 00:00",
        "1995-03-05T00:00:00",
        "05/03/1995 12:00:00 SA",
        "05/03/1995 12:00 AM",
    ] {
        let text =
            format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,,{written},,1,,,,,0,,CB-1\n");
        assert!(parse(ImportKind::Workers, &text).is_ok(), "{written}");
    }
}

#[test]
fn a_worker_under_the_working_age_is_refused() {
    // Ten years old today, whatever year the test runs in.
    let born =
        sotay_core::domain::time::local_date(chrono::Utc::now()) - chrono::Days::new(10 * 366);
    let born = born.format("%d/%m/%Y");
    let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,,{born},,1,,,,,0,,CB-1\n");
    let e = only_error(ImportKind::Workers, &text, 2, "date_of_birth");
    assert!(e.message_vi.contains("chưa đủ 15 tuổi"), "{}", e.message_vi);
    let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,,01/01/1990,,1,,,,,0,,CB-1\n");
    assert!(parse(ImportKind::Workers, &text).is_ok());
}

#[test]
fn a_number_excel_took_for_a_number_says_how_to_keep_its_zero() {
    for (cccd, phone) in [("79190012345", "912345678"), ("7.9019E+10", "9.12346E+08")] {
        let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,{cccd},{phone},,,1,,,,,0,,CB-1\n");
        let errs = errors(ImportKind::Workers, &text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        for e in &errs {
            assert!(
                e.message_vi.contains("định dạng cột là Text"),
                "{}",
                e.message_vi
            );
        }
    }
    let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,0791900123,,,,1,,,,,0,,CB-1\n");
    let e = only_error(ImportKind::Workers, &text, 2, "cccd");
    assert!(!e.message_vi.contains("Excel"), "{}", e.message_vi);
}

#[test]
fn a_negative_count_is_said_to_be_negative() {
    let alloc = "campaign_code,branch_code,officer_code,quota\nTET,CN,,-1\n";
    let e = only_error(ImportKind::Allocations, alloc, 2, "quota");
    assert!(
        e.message_vi.contains("Cột quota (cột D): -1 là số âm"),
        "{}",
        e.message_vi
    );
}

#[test]
fn phones_and_cccd_are_normalised_and_checked() {
    let text =
        format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079.190.012.345,+84 912 345 678,,,1,,,,,0,,CB-1\n");
    let w = &parse(ImportKind::Workers, &text).unwrap().workers[0];
    assert_eq!(
        (w.cccd.as_str(), w.phone.as_deref()),
        ("079190012345", Some("0912345678"))
    );

    let text = format!(
        "{WORKERS_HEADER}{}",
        worker_line("NLD-1", "Lê Văn A", "07919001234")
    );
    let e = only_error(ImportKind::Workers, &text, 2, "cccd");
    assert!(e.message_vi.contains("12 chữ số"));
    let text = format!("{WORKERS_HEADER}NLD-1,Lê Văn A,079190012345,12345,,,1,,,,,0,,CB-1\n");
    only_error(ImportKind::Workers, &text, 2, "phone");
}

#[test]
fn every_problem_of_a_line_and_of_a_file_is_reported() {
    let text = format!(
        "{WORKERS_HEADER}{}NLD 2,,123,abc,31/02/1990,khác,maybe,,,,,0,,\n{}",
        worker_line("NLD-1", "Lê Văn A", "079190012345"),
        worker_line("NLD-3", "Lê Văn B", "079190012399")
    );
    let errs = errors(ImportKind::Workers, &text);
    let cols: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        cols,
        [
            (3, "code"),
            (3, "full_name"),
            (3, "cccd"),
            (3, "phone"),
            (3, "date_of_birth"),
            (3, "gender"),
            (3, "union_member"),
            (3, "officer_code"),
        ]
    );
    // The rows that read reach the set, to be checked against the database
    // (the import writes nothing); the one that did not is named by its code.
    let mut set = ImportSet::default();
    assert!(parse_into(
        &mut set,
        ImportKind::Workers,
        "workers.csv",
        text.as_bytes(),
        &mut |_| {}
    )
    .is_err());
    let read: Vec<&str> = set.workers.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(read, ["NLD-1", "NLD-3"]);
    assert_eq!(set.unread, ["NLD 2".to_string()].into_iter().collect());
}

#[test]
fn errors_past_the_cap_are_counted_to_the_end_of_the_file() {
    let mut text = LOANS_HEADER.to_string();
    for i in 0..500 {
        text.push_str(&format!("KV-{i},NLD-1,VT,abc,05/01/2026,0\n"));
    }
    let errs = errors(ImportKind::Loans, &text);
    assert_eq!(errs.len(), MAX_ERRORS);
    assert_eq!(errs[MAX_ERRORS - 2].line, MAX_ERRORS as u64);
    let last = &errs[MAX_ERRORS - 1];
    assert!(
        last.message_en.contains("too many errors: 301 more in")
            && last.message_en.contains("from line 201 to line 501"),
        "{}",
        last.message_en
    );
    assert!(
        last.message_vi.contains("còn 301 lỗi nữa"),
        "{}",
        last.message_vi
    );
    // A line that is not UTF-8 after 300 errors stops the reading: said
    // first, with the errors before it counted.
    let mut bytes = LOANS_HEADER.as_bytes().to_vec();
    for i in 0..300 {
        bytes.extend(format!("KV-{i},NLD-1,VT,abc,05/01/2026,0\n").bytes());
    }
    bytes.extend(b"KV-X,NLD-1,VT,1000000,05/01/2026,\xC3\x28\n");
    let mut set = ImportSet::default();
    let errs = parse_into(
        &mut set,
        ImportKind::Loans,
        "loans.csv",
        bytes.as_slice(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(errs.len(), MAX_ERRORS);
    assert!(
        errs[0].message_en.contains("is not UTF-8: line 302"),
        "{}",
        errs[0].message_en
    );
    let last = &errs[MAX_ERRORS - 1];
    assert!(
        last.message_en
            .contains("too many errors: 102 more in loans.csv from line 200 to line 301"),
        "{}",
        last.message_en
    );
    // Exactly as many as are listed: no line about more.
    let mut text = LOANS_HEADER.to_string();
    for i in 0..MAX_ERRORS {
        text.push_str(&format!("KV-{i},NLD-1,VT,abc,05/01/2026,0\n"));
    }
    let errs = errors(ImportKind::Loans, &text);
    assert_eq!(errs.len(), MAX_ERRORS);
    assert!(!errs.iter().any(|e| e.message_en.contains("too many")));
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_the_line_where_it_breaks() {
    let mut bytes = LOANS_HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"KV-1,NLD-1,VT,1000000,05/01/2026,0\n");
    bytes.extend_from_slice(b"KV-2,Nguy\xE1n,VT,1000000,05/01/2026,0\n");
    let mut set = ImportSet::default();
    let errs = parse_into(
        &mut set,
        ImportKind::Loans,
        "loans.csv",
        &bytes[..],
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].line, errs[0].column.as_str()), (3, "worker_code"));
    assert!(errs[0].message_vi.contains("UTF-8"));

    // Inside a quoted field that spans lines, the line of the bad byte.
    let mut bytes = b"code,name,district,industrial_zone,address\n".to_vec();
    bytes.extend_from_slice(b"CN,A,Q1,KCX,\"12 L\xEA L\xE1i\nP. B\xE9n Th\xE0nh\"\n");
    let errs = parse_into(
        &mut set,
        ImportKind::Branches,
        "b.csv",
        &bytes[..],
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(errs[0].line, 2);
    let mut bytes = b"code,name,district,industrial_zone,address\n".to_vec();
    bytes.extend_from_slice(b"CN,A,Q1,KCX,\"12 Le Loi\nP. B\xE9n Th\xE0nh\"\n");
    let errs = parse_into(
        &mut set,
        ImportKind::Branches,
        "b.csv",
        &bytes[..],
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(errs[0].line, 3);
}

#[test]
fn line_numbers_follow_quoted_multi_line_values() {
    let text = "code,name,district,industrial_zone,address\nCN-1,A,Q1,KCX,\"12 Lê Lợi\nP. Bến Thành\"\n\nCN-2,,Q1,KCX,3 Lê Lợi\n";
    let e = only_error(ImportKind::Branches, text, 5, "name");
    assert!(e.message_vi.contains("tên chi nhánh"));
    let ok =
        "code,name,district,industrial_zone,address\nCN-1,A,Q1,KCX,\"12 Lê Lợi\nP. Bến Thành\"\n";
    assert_eq!(
        parse(ImportKind::Branches, ok).unwrap().branches[0].address,
        "12 Lê Lợi P. Bến Thành"
    );
}

#[test]
fn users_roles_branches_and_passwords() {
    let h = "code,username,full_name,role,branch_code,phone,password\n";
    let ok = format!("{h}AD,admin,Trương Minh Quân,admin,,,\nCB,CanBo.Lan,Võ Thị Lan,Officer,CN-TD,0912 345 678,  mat khau dai  \n");
    let set = parse(ImportKind::Users, &ok).unwrap();
    assert_eq!(set.users[0].role, Role::Admin);
    assert_eq!(set.users[0].branch_code, None);
    assert_eq!(set.users[1].username, "canbo.lan");
    assert_eq!(set.users[1].phone.as_deref(), Some("0912345678"));
    assert_eq!(
        set.users[1].initial_password.as_deref(),
        Some("  mat khau dai  ")
    );

    only_error(
        ImportKind::Users,
        &format!("{h}CB,canbo,Lan,boss,CN,,\n"),
        2,
        "role",
    );
    // In Vietnamese, as the console names roles.
    let set = parse(
        ImportKind::Users,
        &format!("{h}CB,canbo,Lan,Cán bộ tín dụng,CN,,\nGS,giamsat,Hồng,GIÁM SÁT,CN,,\nTQ,thuquy,Quỹ,thu quy,CN,,\n"),
    )
    .unwrap();
    let roles: Vec<Role> = set.users.iter().map(|u| u.role).collect();
    assert_eq!(roles, [Role::Officer, Role::Supervisor, Role::Cashier]);
    let e = only_error(
        ImportKind::Users,
        &format!("{h}CB,canbo,Lan,officer,,,\n"),
        2,
        "branch_code",
    );
    assert!(e.message_vi.contains("officer"));
    only_error(
        ImportKind::Users,
        &format!("{h}AD,admin,Quân,admin,CN,,\n"),
        2,
        "branch_code",
    );
    let e = only_error(
        ImportKind::Users,
        &format!("{h}CB,canbo,Lan,officer,CN,,1234567\n"),
        2,
        "password",
    );
    assert!(e.message_vi.contains("8 ký tự"));
    only_error(
        ImportKind::Users,
        &format!("{h}CB,cán bộ,Lan,officer,CN,,\n"),
        2,
        "username",
    );
}

#[test]
fn loan_products_rates_counts_and_limits() {
    let h =
        "code,name,annual_rate_percent,method,frequency,installments,min_principal,max_principal\n";
    let ok = format!("{h}A,Vay tuần,7.8,declining,weekly,26,3000000,30000000\nB,Tương trợ,0,flat,biweekly,12,3000000,3000000\n");
    let set = parse(ImportKind::LoanProducts, &ok).unwrap();
    assert_eq!(set.loan_products[0].annual_rate_bp, 780);
    assert_eq!(set.loan_products[1].annual_rate_bp, 0);
    assert_eq!(set.loan_products[1].installments, 12);

    for (line, column) in [
        (
            "A,V,7.825,flat,weekly,26,3000000,30000000",
            "annual_rate_percent",
        ),
        (
            "A,V,\"7,8,5\",flat,weekly,26,3000000,30000000",
            "annual_rate_percent",
        ),
        (
            "A,V,101,flat,weekly,26,3000000,30000000",
            "annual_rate_percent",
        ),
        ("A,V,12,simple,weekly,26,3000000,30000000", "method"),
        ("A,V,12,flat,daily,26,3000000,30000000", "frequency"),
        ("A,V,12,flat,weekly,0,3000000,30000000", "installments"),
        ("A,V,12,flat,weekly,2.5,3000000,30000000", "installments"),
        ("A,V,12,flat,weekly,26,0,30000000", "min_principal"),
        ("A,V,12,flat,weekly,26,30000000,3000000", "max_principal"),
    ] {
        only_error(ImportKind::LoanProducts, &format!("{h}{line}\n"), 2, column);
    }
}

/// Funds quote rates per month: a bare `Lãi suất` of 0,75 is 9 %/year
/// written as 0,75 %/month, and is refused with the yearly figure; a
/// column headed per month is made yearly, exactly.
#[test]
fn a_monthly_rate_is_refused_under_a_bare_header_and_made_yearly_under_a_monthly_one() {
    let rest = "Cách tính lãi,Kỳ trả,Số kỳ trả,Mức vay tối thiểu (đồng),Mức vay tối đa (đồng)\n";
    let file = |rate_header: &str, rate: &str| {
        format!("Mã,Tên sản phẩm vay,{rate_header},{rest}VT,Vay tháng,\"{rate}\",Dư nợ giảm dần,Hằng tháng,12,5.000.000,30.000.000\n")
    };
    let rate = |rate_header: &str, rate: &str| {
        parse(ImportKind::LoanProducts, &file(rate_header, rate))
            .unwrap_or_else(|e| panic!("{rate_header} {rate}: {e:#?}"))
            .loan_products[0]
            .annual_rate_bp
    };
    for header in ["Lãi suất", "Lãi suất (%)", "lai suat"] {
        let e = only_error(
            ImportKind::LoanProducts,
            &file(header, "0,75"),
            2,
            "annual_rate_percent",
        );
        assert!(
            e.message_vi
                .contains("0,75 %/tháng là 9 %/năm: cột này là lãi suất năm; hãy ghi 9"),
            "{}",
            e.message_vi
        );
        assert!(
            e.message_vi
                .starts_with(&format!("Cột \"{header}\" (cột C")),
            "{}",
            e.message_vi
        );
        assert!(
            e.message_en.contains("0.75 %/month is 9 %/year"),
            "{}",
            e.message_en
        );
        let e = only_error(
            ImportKind::LoanProducts,
            &file(header, "0,6%"),
            2,
            "annual_rate_percent",
        );
        assert!(
            e.message_vi.contains("0,6 %/tháng là 7,2 %/năm"),
            "{}",
            e.message_vi
        );
        // Interest-free, and a yearly rate, stay as they are.
        assert_eq!(rate(header, "0"), 0);
        assert_eq!(rate(header, "9"), 900);
        assert_eq!(rate(header, "3"), 300);
        // A cell that says its period.
        assert_eq!(rate(header, "6 %/năm"), 600);
        assert_eq!(rate(header, "7,2%/năm"), 720);
        assert_eq!(rate(header, "0,5 %/tháng"), 600);
        assert_eq!(rate(header, "0,6%/ tháng"), 720);
    }
    // A rate of another period is no column of the file.
    let errs = errors(ImportKind::LoanProducts, &file("Lãi suất (%/quý)", "3"));
    assert!(
        errs.iter()
            .any(|e| e.column == "lãi suất (%/quý)" && e.message_vi.contains("không thuộc")),
        "{errs:#?}"
    );
    // A header that says yearly is taken at its word.
    for header in ["Lãi suất (%/năm)", "lãi suất năm", "annual_rate_percent"] {
        assert_eq!(rate(header, "0,75"), 75, "{header}");
    }
    // Per month: ×12, exactly.
    for header in ["Lãi suất (%/tháng)", "lãi suất tháng", "Lãi suất %/tháng"] {
        assert_eq!(rate(header, "0,75"), 900, "{header}");
        assert_eq!(rate(header, "0,6%"), 720, "{header}");
        assert_eq!(rate(header, "0,625"), 750, "{header}");
        assert_eq!(rate(header, "0"), 0, "{header}");
        // 0,333 × 12 = 3,996: not a rate the books can hold.
        let e = only_error(
            ImportKind::LoanProducts,
            &file(header, "0,333"),
            2,
            "annual_rate_percent",
        );
        assert!(
            e.message_vi.contains("0,333 %/tháng là 3,996 %/năm"),
            "{}",
            e.message_vi
        );
        let e = only_error(
            ImportKind::LoanProducts,
            &file(header, "9"),
            2,
            "annual_rate_percent",
        );
        assert!(
            e.message_vi.contains("108 %/năm, vượt quá 100%"),
            "{}",
            e.message_vi
        );
    }
}

/// An amount column headed in thousands or millions of đồng would be read
/// 1000× off as đồng: the column is refused, saying to write đồng.
#[test]
fn an_amount_column_in_thousands_or_millions_is_refused() {
    let loans = "STT,Mã khoản vay,Mã người lao động,Mã sản phẩm vay,Số tiền vay (nghìn đồng),Ngày giải ngân,Số tiền đã trả (nghìn đồng)\n\
                 1,KV-0101,NLD-00010,VT-THANG-9,15.000,05/03/2026,2.500\n";
    let errs = errors(ImportKind::Loans, loans);
    let found: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(found, [(1, "principal"), (1, "paid_to_date")], "{errs:#?}");
    assert!(
        errs[0].message_vi.starts_with(
            "Cột \"Số tiền vay (nghìn đồng)\" (cột E, principal) ghi số tiền theo nghìn đồng: số tiền trong tệp phải là đồng"
        ),
        "{}",
        errs[0].message_vi
    );
    assert!(errs[0].message_vi.contains("nhân mỗi số với 1.000"));
    assert!(errs[0].message_vi.contains("\"Số tiền vay (đồng)\""));
    assert!(errs[0].message_en.contains("amounts must be in đồng"));
    let product = |unit: &str| {
        format!(
            "code,name,annual_rate_percent,method,frequency,installments,Mức vay tối thiểu ({unit}),max_principal\n\
             A,Vay,12,flat,weekly,26,3000,30000000\n"
        )
    };
    for (unit, says) in [
        ("ngàn đồng", "nghìn đồng"),
        ("1.000 đ", "nghìn đồng"),
        ("1000đ", "nghìn đồng"),
        ("ĐVT: 1.000 đồng", "nghìn đồng"),
        ("triệu đồng", "triệu đồng"),
        ("tr.đ", "triệu đồng"),
        ("Tr.VNĐ", "triệu đồng"),
        ("USD", "ngoại tệ"),
        ("US$", "ngoại tệ"),
        ("đô la", "ngoại tệ"),
    ] {
        let e = only_error(ImportKind::LoanProducts, &product(unit), 1, "min_principal");
        assert!(
            e.message_vi.contains(&format!("theo {says}:")),
            "{unit}: {}",
            e.message_vi
        );
    }
    for unit in [
        "đồng",
        "VNĐ",
        "₫",
        "đ",
        "đơn vị: đồng",
        "nội tệ",
        "VNĐ - đợt 1",
        "đồng) (5",
    ] {
        let set = parse(ImportKind::LoanProducts, &product(unit))
            .unwrap_or_else(|e| panic!("{unit}: {e:#?}"));
        assert_eq!(set.loan_products[0].min_principal, 3000, "{unit}");
    }
    let campaigns =
        "code,name,kind,starts_on,ends_on,Giá trị mỗi suất (nghìn đồng),target_count,eligibility\n\
                     TET,Tết,gift,01/12/2026,31/01/2027,500,10,all\n";
    only_error(ImportKind::Campaigns, campaigns, 1, "gift_value");
}

#[test]
fn campaigns_and_allocations() {
    let h = "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n";
    let ok =
        format!("{h}TET,Tết Sum vầy 2027,gift,01/12/2026,2027-02-05,500000,400,union_members,\n");
    let c = &parse(ImportKind::Campaigns, &ok).unwrap().campaigns[0];
    assert_eq!((c.starts_on, c.ends_on), (d(2026, 12, 1), d(2027, 2, 5)));
    assert_eq!((c.gift_value, c.target_count), (500_000, 400));

    let e = only_error(
        ImportKind::Campaigns,
        &format!("{h}TET,Tết,gift,01/12/2026,30/11/2026,500000,400,all,\n"),
        2,
        "ends_on",
    );
    assert!(e.message_vi.contains("30/11/2026") && e.message_vi.contains("01/12/2026"));
    only_error(
        ImportKind::Campaigns,
        &format!("{h}TET,Tết,present,01/12/2026,31/12/2026,500000,400,all,\n"),
        2,
        "kind",
    );
    let e = only_error(
        ImportKind::Campaigns,
        &format!("{h}TET,Tết,gift,01/12/2026,31/12/2026,500000,400,everyone,\n"),
        2,
        "eligibility",
    );
    assert!(e.message_vi.contains("union_members_in_hardship"));
    assert!(e.message_vi.contains("Đoàn viên có hoàn cảnh khó khăn"));
    // Written as the console and the phone name them, in any case, with or
    // without diacritics.
    let vi = format!(
        "{h}TET,Tết,Tặng quà,01/12/2026,31/12/2026,500000,400,Đoàn viên có hoàn cảnh khó khăn,\n\
         MAI,Mái ấm,ho tro,01/12/2026,31/12/2026,500000,40,nguoi lao dong o nha tro,\n"
    );
    let c = &parse(ImportKind::Campaigns, &vi).unwrap().campaigns;
    assert_eq!(
        (c[0].kind, c[0].eligibility),
        (CampaignKind::Gift, Eligibility::UnionMembersInHardship)
    );
    assert_eq!(
        (c[1].kind, c[1].eligibility),
        (CampaignKind::Welfare, Eligibility::BoardingHouseResidents)
    );
    only_error(
        ImportKind::Campaigns,
        &format!("{h}TET,Tết,gift,01/12/2026,31/12/2026,500.5,400,all,\n"),
        2,
        "gift_value",
    );
    // Grouped in threes, as an admin's spreadsheet shows them.
    let grouped = format!("{h}TET,Tết,gift,01/12/2026,31/12/2026,500.000,6.000,all,\n");
    let c = &parse(ImportKind::Campaigns, &grouped).unwrap().campaigns[0];
    assert_eq!((c.gift_value, c.target_count), (500_000, 6_000));
    // A no-break space between the groups, as Excel writes them in some
    // locales, as the money columns take it.
    let nbsp = format!("{h}TET,Tết,gift,01/12/2026,31/12/2026,500\u{a0}000,6\u{a0}000,all,\n");
    let c = &parse(ImportKind::Campaigns, &nbsp).unwrap().campaigns[0];
    assert_eq!((c.gift_value, c.target_count), (500_000, 6_000));
    for bad in ["6,000", "60.00", "6.0000"] {
        let e = only_error(
            ImportKind::Campaigns,
            &format!("{h}TET,Tết,gift,01/12/2026,31/12/2026,500000,\"{bad}\",all,\n"),
            2,
            "target_count",
        );
        assert!(
            e.message_vi.contains("không phải số nguyên"),
            "{bad}: {}",
            e.message_vi
        );
    }

    let a = "campaign_code,branch_code,quota\nTET,CN,200\n";
    let set = parse(ImportKind::Allocations, a).unwrap();
    assert_eq!(
        (
            set.allocations[0].officer_code.clone(),
            set.allocations[0].quota
        ),
        (None, 200)
    );
    only_error(
        ImportKind::Allocations,
        "campaign_code,branch_code,quota\nTET,CN,-1\n",
        2,
        "quota",
    );
}

#[test]
fn boarding_house_positions() {
    let h = "code,name,address,ward,district,industrial_zone,landlord_name,landlord_phone,latitude,longitude\n";
    let ok = format!("{h}NT-1,Nhà trọ Cô Ba,45/3 Đường số 8,P. Linh Trung,TP. Thủ Đức,KCX Linh Trung,Trần Thị Ba,0903 123 456,10.8702,106.774\n");
    let b = &parse(ImportKind::BoardingHouses, &ok)
        .unwrap()
        .boarding_houses[0];
    assert_eq!((b.latitude, b.longitude), (Some(10.8702), Some(106.774)));
    assert_eq!(b.landlord_phone.as_deref(), Some("0903123456"));
    let no_gps = "code,name,address,ward,district,industrial_zone\nNT-1,Nhà trọ,1 A,P,Q,KCX\n";
    let b = &parse(ImportKind::BoardingHouses, no_gps)
        .unwrap()
        .boarding_houses[0];
    assert_eq!((b.latitude, b.landlord_phone.as_deref()), (None, None));

    let e = only_error(
        ImportKind::BoardingHouses,
        &format!("{h}NT-1,N,A,W,D,Z,,,106.774,10.87\n"),
        2,
        "latitude",
    );
    assert!(e.message_vi.contains("đổi chỗ"));
    // A decimal comma, as Excel writes it in a Vietnamese locale (a
    // semicolon-separated file): read.
    let semi = "code;name;address;ward;district;industrial_zone;latitude;longitude\nNT-1;N;A;W;D;Z;10,87;106,774\n";
    let b = &parse(ImportKind::BoardingHouses, semi)
        .unwrap()
        .boarding_houses[0];
    assert_eq!((b.latitude, b.longitude), (Some(10.87), Some(106.774)));
    only_error(
        ImportKind::BoardingHouses,
        &format!("{h}NT-1,N,A,W,D,Z,,,\"10,87,1\",106.77\n"),
        2,
        "latitude",
    );
    only_error(
        ImportKind::BoardingHouses,
        &format!("{h}NT-1,N,A,W,D,Z,,,NaN,106.77\n"),
        2,
        "latitude",
    );
    only_error(
        ImportKind::BoardingHouses,
        &format!("{h}NT-1,N,A,W,D,Z,,,10.87,\n"),
        2,
        "longitude",
    );
    only_error(
        ImportKind::BoardingHouses,
        &format!("{h}NT-1,N,A,,D,Z,,,,\n"),
        2,
        "ward",
    );
}

#[test]
fn kinds_are_found_by_file_name_or_path_segment() {
    for k in ImportKind::ALL {
        assert_eq!(ImportKind::from_name(k.file_name()), Some(k));
        assert_eq!(ImportKind::from_name(k.slug()), Some(k));
        assert_eq!(
            ImportKind::from_name(k.file_name().trim_end_matches(".csv")),
            Some(k)
        );
    }
    assert_eq!(
        ImportKind::from_name("Loan-Products.CSV"),
        Some(ImportKind::LoanProducts)
    );
    assert_eq!(
        ImportKind::from_name("workers (1).csv"),
        Some(ImportKind::Workers)
    );
    assert_eq!(ImportKind::from_name("workers (x).csv"), None);
    assert_eq!(
        ImportKind::from_name("allocations"),
        Some(ImportKind::Allocations)
    );
    assert_eq!(ImportKind::from_name("worker.csv"), None);
    let mut sorted = ImportKind::ALL;
    sorted.sort();
    assert_eq!(sorted, ImportKind::ALL);
}

#[test]
fn a_directory_needs_known_import_files() {
    let dir = tempfile::tempdir().unwrap();
    let errs = read_dir(dir.path(), &mut |_, _| {}).unwrap_err();
    assert!(errs[0].message_vi.contains("branches.csv"));

    std::fs::write(dir.path().join("notes.txt"), "not an import file").unwrap();
    std::fs::write(
        dir.path().join("loan-products.csv"),
        "code,name,annual_rate_percent,method,frequency,installments,min_principal,max_principal\nA,V,12,flat,weekly,26,3000000,30000000\n",
    )
    .unwrap();
    let set = read_dir(dir.path(), &mut |_, _| {}).unwrap();
    assert_eq!(set.loan_products[0].origin.file, "loan-products.csv");

    std::fs::write(dir.path().join("worker.csv"), WORKERS_HEADER).unwrap();
    let errs = read_dir(dir.path(), &mut |_, _| {}).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].file, "worker.csv");
    assert!(errs[0].message_vi.contains("workers.csv"));
}

#[test]
fn blank_lines_count_as_lines() {
    let text = "\ncode,name,district,industrial_zone,address\r\n\r\nCN-1,A,Q1,KCX,1\n\n\nCN-2,B,Q1,KCX,\nCN-3,C,Q1,KCX,3";
    let e = only_error(ImportKind::Branches, text, 7, "address");
    assert!(e.message_vi.contains("địa chỉ"));
    let set = parse(ImportKind::Branches, &text.replace("KCX,\n", "KCX,2\n")).unwrap();
    let lines: Vec<u64> = set.branches.iter().map(|b| b.origin.line).collect();
    assert_eq!(lines, [4, 7, 8]);
    // A header after blank lines: its errors carry its own line.
    let errs = errors(ImportKind::Branches, "\n\ncode,ten\n");
    let at: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        at,
        [
            (3, "ten"),
            (3, "name"),
            (3, "district"),
            (3, "industrial_zone"),
            (3, "address")
        ]
    );
}
