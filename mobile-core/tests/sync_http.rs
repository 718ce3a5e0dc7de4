//! The HTTPS transport's plumbing over a real socket: a loopback HTTP/1.1
//! server in front of the in-memory fake, answering gzip when asked.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use flate2::write::GzEncoder;
use sotay_core::sync::fake::FakeServer;
use sotay_core::sync::{HttpTransport, Transport, TransportError};
use sotay_core::wire::PortfolioSnapshot;
use sotay_core::{FieldBook, OutboxFilter, SyncOptions, VisitInput, VisitPurpose};

struct Loopback {
    url: String,
    gzipped: Arc<AtomicUsize>,
}

/// Serves `fake` on 127.0.0.1 until the test ends (one thread per
/// connection; each handles requests until the client closes).
fn serve(fake: Arc<FakeServer>) -> Loopback {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let gzipped = Arc::new(AtomicUsize::new(0));
    let g = gzipped.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (fake, g) = (fake.clone(), g.clone());
            std::thread::spawn(move || handle(stream, &fake, &g));
        }
    });
    Loopback { url, gzipped }
}

fn handle(stream: TcpStream, fake: &FakeServer, gzipped: &AtomicUsize) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("accept-language").as_deref(), Some("vi"));
        let len: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = format!("{}{target}", FakeServer::URL);
        let r = if method == "POST" {
            assert_eq!(header("content-type").as_deref(), Some("application/json"));
            fake.post_json(&url, &pairs, &body)
        } else {
            fake.get(&url, &pairs)
        }
        .unwrap();
        let gzip = header("accept-encoding").is_some_and(|v| v.contains("gzip"));
        let payload = if gzip {
            gzipped.fetch_add(1, Ordering::SeqCst);
            let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&r.body).unwrap();
            e.finish().unwrap()
        } else {
            r.body
        };
        let head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n",
            r.status,
            payload.len(),
            if gzip {
                "Content-Encoding: gzip\r\n"
            } else {
                ""
            }
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(&payload).is_err() {
            return;
        }
    }
}

#[test]
fn signs_in_and_syncs_over_http_with_gzip_answers() {
    let snapshot: PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let fake = Arc::new(FakeServer::new("binh.tv", "mk-1", "A7K2", snapshot, vec![]));
    let server = serve(fake.clone());
    let http = HttpTransport::new(Duration::from_secs(20));

    let dir = tempfile::tempdir().unwrap();
    let book = FieldBook::open(dir.path().join("a.db").display().to_string(), device()).unwrap();
    let s = book
        .login_with(&http, &server.url, "binh.tv", "mk-1", "Điện thoại")
        .unwrap();
    assert_eq!(s.server_url, server.url);
    assert_eq!(s.user_id.as_deref(), Some("42"));
    let r = book.sync_with(&http, SyncOptions::default(), None).unwrap();
    assert!(r.received_changes > 0);
    assert_eq!(book.search("nguyen lan".into(), 5).unwrap().len(), 1);

    book.record_visit(VisitInput {
        worker_id: id(LAN),
        purpose: VisitPurpose::HardshipVisit,
        outcome: "Đã thăm".into(),
        notes: String::new(),
        location: None,
        recorded_at: at(8, 0),
    })
    .unwrap();
    fake.expire_access_tokens();
    let r = book.sync_with(&http, SyncOptions::default(), None).unwrap();
    assert_eq!(r.accepted, 1);
    assert_eq!(book.outbox(OutboxFilter::Accepted, 10).unwrap().len(), 1);
    assert!(server.gzipped.load(Ordering::SeqCst) >= 5);
}

#[test]
fn a_closed_port_is_reported_as_not_sent() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let http = HttpTransport::new(Duration::from_secs(5));
    match http.get(&format!("http://127.0.0.1:{port}/api/v1/sync/changes"), &[]) {
        Err(TransportError::NotSent(_)) => {}
        other => panic!("{other:?}"),
    }
}

/// A slow answer that keeps moving (a big first download on a poor
/// network) is read to its end, however long it takes in all.
#[test]
fn a_slow_answer_that_keeps_coming_is_read_whole() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
            .unwrap();
        for b in b"chunked!" {
            std::thread::sleep(Duration::from_millis(300));
            conn.write_all(&[*b]).unwrap();
            conn.flush().unwrap();
        }
    });
    // 2.4 s in all, never 1 s without a byte.
    let http = HttpTransport::new(Duration::from_secs(1));
    let r = http
        .get(&format!("http://127.0.0.1:{port}/api/v1/sync/changes"), &[])
        .unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, b"chunked!".as_slice()));
}

/// Sends what was meant for `from` to `to`.
struct Moved {
    from: String,
    to: String,
    http: HttpTransport,
}

impl Transport for Moved {
    fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<sotay_core::sync::Response, TransportError> {
        self.http.get(&url.replace(&self.from, &self.to), headers)
    }
    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, TransportError> {
        self.http
            .post_json(&url.replace(&self.from, &self.to), headers, body)
    }
    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, TransportError> {
        self.http.put(
            &url.replace(&self.from, &self.to),
            headers,
            content_type,
            body,
        )
    }
}

/// A server that takes the connection and never answers: the sync gives up
/// after one request's time, not after every retry's.
#[test]
fn a_server_that_never_answers_is_given_one_request_time() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    let http = HttpTransport::new(Duration::from_secs(1));
    match http.get(&format!("http://127.0.0.1:{port}/api/v1/sync/changes"), &[]) {
        Err(TransportError::TimedOut(_)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // Signed in while the server answered; then it hangs.
    let snapshot: PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let fake = Arc::new(FakeServer::new("binh.tv", "mk-1", "A7K2", snapshot, vec![]));
    let answering = serve(fake);
    let dir = tempfile::tempdir().unwrap();
    let book = FieldBook::open(dir.path().join("b.db").display().to_string(), device()).unwrap();
    book.login_with(
        &HttpTransport::new(Duration::from_secs(20)),
        &answering.url,
        "binh.tv",
        "mk-1",
        "Máy",
    )
    .unwrap();
    let hanging = Moved {
        from: answering.url.clone(),
        to: format!("http://127.0.0.1:{port}"),
        http,
    };
    let started = std::time::Instant::now();
    let err = book
        .sync_with(&hanging, SyncOptions::default(), None)
        .unwrap_err();
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "one request, not tried again"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let text = format!("{err:?}");
    assert!(text.contains("không trả lời kịp"), "{text}");
}

fn officer(db: &str, envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sotay-officer"));
    c.env("SOTAY_DB", db)
        .env("SOTAY_DEVICE_ID", "0193a000-0000-7000-8000-0000000000e1")
        .env("SOTAY_DEVICE_CODE", "ZZ99")
        .env_remove("SOTAY_PASSWORD")
        .stdin(std::process::Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn the_officer_cli_signs_in_syncs_and_shows_refusals_with_reasons() {
    let snapshot: PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let fake = Arc::new(FakeServer::new("binh.tv", "mk-1", "A7K2", snapshot, vec![]));
    fake.gift_given(id(TET), id(LAM));
    let server = serve(fake.clone());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sotay.db").display().to_string();

    let o = officer(&db, &[], &["sync"]);
    assert_eq!(o.status.code(), Some(3), "not signed in is an auth failure");
    assert!(String::from_utf8_lossy(&o.stderr).contains("Chưa đăng nhập"));

    let wrong = officer(
        &db,
        &[("SOTAY_PASSWORD", "sai")],
        &["login", "--server", &server.url, "--username", "binh.tv"],
    );
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("Sai tên đăng nhập hoặc mật khẩu"));

    let out = text(&officer(
        &db,
        &[("SOTAY_PASSWORD", "mk-1")],
        &[
            "login",
            "--server",
            &server.url,
            "--username",
            "binh.tv",
            "--device-name",
            "Điện thoại của Bình",
        ],
    ));
    assert!(out.contains("mã A7K2"), "{out}");
    // Signing in again keeps the name the supervisors know the phone by.
    let out = text(&officer(
        &db,
        &[("SOTAY_PASSWORD", "mk-1")],
        &["login", "--server", &server.url, "--username", "binh.tv"],
    ));
    assert!(out.contains("thiết bị Điện thoại của Bình"), "{out}");
    let out = text(&officer(&db, &[], &["sync"]));
    assert!(out.contains("gửi 0 bản ghi"), "{out}");

    let loan = "0193a000-0000-7000-8000-0000000000c1";
    let out = text(&officer(
        &db,
        &[],
        &["repay", "--loan", loan, "--amount", "100000"],
    ));
    assert!(out.contains("A7K2-000001"), "{out}");
    text(&officer(
        &db,
        &[],
        &["gift", "--campaign", TET, "--worker", LAM, "--name", "Lâm"],
    ));
    let out = text(&officer(&db, &[], &["sync"]));
    assert!(
        out.contains("1 được nhận") && out.contains("1 bị từ chối"),
        "{out}"
    );
    assert!(out.contains("nhận     #1"), "{out}");
    assert!(
        out.contains("TỪ CHỐI  #2")
            && out.contains("đã nhận quà")
            && out.contains("already_received"),
        "{out}"
    );
    let out = text(&officer(&db, &[], &["outbox", "--state", "rejected"]));
    assert!(out.contains("đã nhận quà"), "{out}");

    // A long day: the records taken are counted, not listed one by one.
    for _ in 0..21 {
        text(&officer(
            &db,
            &[],
            &[
                "visit",
                "--worker",
                LAM,
                "--purpose",
                "repayment-follow-up",
                "--outcome",
                "Đã gặp",
            ],
        ));
    }
    let out = text(&officer(&db, &[], &["sync"]));
    assert!(out.contains("21 được nhận"), "{out}");
    assert!(out.contains("21 bản ghi được nhận: xem `outbox`"), "{out}");
    assert!(!out.contains("nhận     #"), "{out}");
}
