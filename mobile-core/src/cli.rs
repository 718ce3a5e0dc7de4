//! The command lines' usage errors in Vietnamese: clap says them in
//! English (what was typed, the usage); the line before says the same for
//! a person who reads Vietnamese.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// What is wrong with a command line, in Vietnamese; `None` for help or a
/// version asked for (not an error).
pub fn usage_error_vi(e: &clap::Error) -> Option<String> {
    let said = |kind: ContextKind| -> Option<String> {
        match e.get(kind)? {
            ContextValue::String(s) => Some(s.clone()),
            ContextValue::Strings(v) => Some(v.join(", ")),
            ContextValue::StyledStr(s) => Some(s.to_string()),
            ContextValue::StyledStrs(v) => Some(
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        }
    };
    let arg = said(ContextKind::InvalidArg).unwrap_or_default();
    Some(match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        ErrorKind::MissingRequiredArgument => {
            format!("thiếu {arg} (bắt buộc); xem --help")
        }
        ErrorKind::MissingSubcommand => "thiếu lệnh cần chạy; xem --help".to_string(),
        ErrorKind::InvalidSubcommand | ErrorKind::UnknownArgument => {
            let typed = said(ContextKind::InvalidSubcommand).unwrap_or(arg);
            match said(ContextKind::SuggestedSubcommand).or_else(|| said(ContextKind::SuggestedArg))
            {
                Some(s) => format!("không có \"{typed}\"; có phải ý là \"{s}\"? xem --help"),
                None => format!("không có \"{typed}\"; xem --help"),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = said(ContextKind::InvalidValue).unwrap_or_default();
            match said(ContextKind::ValidValue) {
                Some(valid) => {
                    format!("\"{value}\" không dùng được cho {arg}; hãy chọn một trong: {valid}")
                }
                None => format!("\"{value}\" không dùng được cho {arg}"),
            }
        }
        ErrorKind::ArgumentConflict => {
            let other = said(ContextKind::PriorArg).unwrap_or_default();
            format!("{arg} không dùng cùng {other} được")
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("số giá trị cho {arg} không đúng; xem --help")
        }
        _ => "lệnh chưa đúng; xem --help".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::usage_error_vi;
    use clap::{Parser, Subcommand};

    #[derive(Parser, Debug)]
    struct Cli {
        #[arg(long)]
        device_id: String,
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand, Debug)]
    enum Command {
        Sync {
            #[arg(long, value_parser = ["a", "b"])]
            mode: Option<String>,
        },
    }

    fn vi(args: &[&str]) -> Option<String> {
        usage_error_vi(&Cli::try_parse_from(args).unwrap_err())
    }

    #[test]
    fn each_usage_error_is_said_in_vietnamese() {
        let missing = vi(&["x", "sync"]).unwrap();
        assert!(missing.starts_with("thiếu --device-id"), "{missing}");
        let unknown = vi(&["x", "--device-id", "1", "synk"]).unwrap();
        assert!(
            unknown.contains("\"synk\"") && unknown.contains("\"sync\""),
            "{unknown}"
        );
        let value = vi(&["x", "--device-id", "1", "sync", "--mode", "c"]).unwrap();
        assert!(value.contains("\"c\"") && value.contains("a, b"), "{value}");
        assert_eq!(vi(&["x", "--help"]), None);
    }
}
