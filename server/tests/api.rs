//! The API, story by story, on SQLite and on PostgreSQL.

mod common;

use common::{device, Backend, TestApp, BACKENDS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_server::db::Db;

const LAN: (&str, &str) = ("canbo.lan", "officer-pass-1");
const HUNG: (&str, &str) = ("canbo.hung", "officer-pass-2");
const MAI: (&str, &str) = ("canbo.mai", "officer-pass-3");
const SUP_TD: (&str, &str) = ("giamsat.td", "super-pass-1");
const SUP_BT: (&str, &str) = ("giamsat.bt", "super-pass-2");
const ADMIN: (&str, &str) = ("admin", "admin-pass-1");

async fn each_backend<F, Fut>(story: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in BACKENDS {
        story(TestApp::start(backend).await).await;
    }
}

fn codes(items: &Value) -> Vec<String> {
    let mut v: Vec<String> = items
        .as_array()
        .expect("array")
        .iter()
        .map(|w| w["code"].as_str().expect("code").to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn officer_sees_only_their_own_workers_and_loans() {
    each_backend(|app| async move {
        let lan = app.token(LAN.0, LAN.1, &device(1)).await;
        let (s, page) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert_eq!(
            codes(&page["items"]),
            ["W-001", "W-002"],
            "{:?}",
            app.backend
        );
        assert_eq!(page["total"], 2);

        // Another officer's worker, in the same branch and in another: 404.
        for code in ["W-003", "W-004"] {
            let id = app.id_of("workers", code).await;
            let (s, body) = app.get(&format!("/api/v1/workers/{id}"), &lan).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{code}: {body}");
            assert_eq!(body["code"], "not_found");
        }
        let own = app.id_of("workers", "W-001").await;
        let (s, detail) = app.get(&format!("/api/v1/workers/{own}"), &lan).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(detail["worker"]["full_name"], "Nguyễn Thị Lan");
        assert_eq!(detail["worker"]["phone"], "0987654321");
        assert_eq!(codes(&detail["loans"]), ["L-001"]);

        let (_, loans) = app.get("/api/v1/loans", &lan).await;
        assert_eq!(codes(&loans), ["L-001", "L-002"]);
        let other_loan = app.id_of("loans", "L-003").await;
        let (s, _) = app.get(&format!("/api/v1/loans/{other_loan}"), &lan).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, loans) = app
            .get(
                &format!(
                    "/api/v1/loans?worker_id={}",
                    app.id_of("workers", "W-003").await
                ),
                &lan,
            )
            .await;
        assert_eq!(codes(&loans), Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn supervisor_sees_their_branch_and_admin_the_fund() {
    each_backend(|app| async move {
        let sup = app.token(SUP_TD.0, SUP_TD.1, &device(2)).await;
        let (_, page) = app.get("/api/v1/workers", &sup).await;
        assert_eq!(codes(&page["items"]), ["W-001", "W-002", "W-003"]);
        let other = app.id_of("workers", "W-004").await;
        let (s, _) = app.get(&format!("/api/v1/workers/{other}"), &sup).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, branches) = app.get("/api/v1/branches", &sup).await;
        assert_eq!(codes(&branches), ["CN-TD"]);
        let (_, users) = app.get("/api/v1/users", &sup).await;
        assert_eq!(codes(&users), ["CB-TD-01", "CB-TD-02", "GS-TD"]);

        let admin = app.token(ADMIN.0, ADMIN.1, &device(3)).await;
        let (_, page) = app.get("/api/v1/workers", &admin).await;
        assert_eq!(page["total"], 4);
        let (_, branches) = app.get("/api/v1/branches", &admin).await;
        assert_eq!(codes(&branches), ["CN-BT", "CN-TD"]);
        let (_, loans) = app.get("/api/v1/loans", &admin).await;
        assert_eq!(codes(&loans).len(), 4);
    })
    .await;
}

#[tokio::test]
async fn every_endpoint_refuses_the_wrong_role() {
    each_backend(|app| async move {
        let officer = app.token(LAN.0, LAN.1, &device(1)).await;
        let sup = app.token(SUP_TD.0, SUP_TD.1, &device(2)).await;
        for path in [
            "/api/v1/users",
            "/api/v1/devices",
            "/api/v1/imports",
            "/api/v1/disbursements",
            "/api/v1/capital-receipts",
        ] {
            let (s, body) = app.get(path, &officer).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {body}");
            assert_eq!(body["code"], "forbidden");
        }
        let (s, _) = app.get("/api/v1/imports", &sup).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        for token in [&officer, &sup] {
            let (s, _) = app
                .post_csv(
                    "/api/v1/imports/branches",
                    token,
                    "code,name,district,industrial_zone,address\n",
                )
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN);
        }
        let (s, _) = app
            .post(
                "/api/v1/devices/test-device-0002/revoke",
                &officer,
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // No token at all.
        for path in [
            "/api/v1/workers",
            "/api/v1/loans",
            "/api/v1/me",
            "/api/v1/campaigns",
            "/api/v1/loan-products",
        ] {
            let resp = app.http.get(app.url(path)).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
        // A forged token.
        let (s, body) = app
            .get("/api/v1/workers", "eyJhbGciOiJIUzI1NiJ9.e30.x")
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "unauthenticated");
    })
    .await;
}

#[tokio::test]
async fn campaigns_show_each_role_its_quotas() {
    each_backend(|app| async move {
        let lan = app.token(LAN.0, LAN.1, &device(1)).await;
        let (s, list) = app.get("/api/v1/campaigns", &lan).await;
        assert_eq!(s, StatusCode::OK);
        let tet = &list[0];
        assert_eq!(tet["code"], "TET-2027");
        assert_eq!(tet["gift_value"], "500000");
        let quotas: Vec<i64> = tet["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["quota"].as_i64().unwrap())
            .collect();
        assert_eq!(quotas.iter().sum::<i64>(), 90, "branch 60 + own 30: {tet}");
        let mai = app.token(MAI.0, MAI.1, &device(4)).await;
        let (_, list) = app.get("/api/v1/campaigns", &mai).await;
        let quotas = list[0]["quotas"].as_array().unwrap();
        assert_eq!(quotas.len(), 1);
        assert_eq!(quotas[0]["quota"], 40);
    })
    .await;
}

/// One address trying many usernames is stopped after
/// `MAX_ADDRESS_FAILURES`, whatever the usernames; behind a trusted proxy
/// the address is the client's that the proxy names, a forged hop does not
/// escape the count, and other clients behind the same proxy are not
/// affected. Without a trusted proxy the header is not believed.
#[tokio::test]
async fn sign_ins_are_throttled_per_client_address() {
    use sotay_server::auth::{MAX_ADDRESS_FAILURES, MAX_FAILURES};
    let per_name = MAX_FAILURES - 1;
    for backend in BACKENDS {
        let app = TestApp::start_behind(backend, "127.0.0.1, ::1").await;
        let attacker = Some("203.0.113.7");
        for i in 0..MAX_ADDRESS_FAILURES {
            // Never enough failures on one username to lock it.
            let name = format!("khong.co.{}", i / per_name);
            let (s, body, _) = app
                .login_via(&name, "doan-bua", &device(40), attacker)
                .await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}: {body}");
        }
        // The address is locked: the right password is refused unchecked.
        let (s, body, retry) = app.login_via(HUNG.0, HUNG.1, &device(41), attacker).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{backend:?}: {body}");
        assert_eq!(body["code"], "too_many_attempts_from_address");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("từ địa chỉ mạng này"),
            "{body}"
        );
        let retry: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=15 * 60).contains(&retry), "{retry}");
        // A hop the attacker writes in front does not make another client.
        let (s, _, _) = app
            .login_via(
                HUNG.0,
                HUNG.1,
                &device(41),
                Some("198.51.100.20, 203.0.113.7"),
            )
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        // Another client behind the same proxy signs in.
        let (s, body, _) = app
            .login_via(HUNG.0, HUNG.1, &device(42), Some("198.51.100.20"))
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        // The audit log names the client, not the proxy.
        let ips: Vec<Option<String>> = match &app.db {
            Db::Sqlite(p) => sqlx::query_scalar(
                "SELECT DISTINCT ip FROM audit_log WHERE action = 'login_failed'",
            )
            .fetch_all(p)
            .await
            .unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(
                "SELECT DISTINCT ip FROM audit_log WHERE action = 'login_failed'",
            )
            .fetch_all(p)
            .await
            .unwrap(),
        };
        assert_eq!(ips, vec![Some("203.0.113.7".to_string())]);

        // No proxy trusted: the header is the client's own words, ignored;
        // every attempt counts against the peer.
        let app = TestApp::start(backend).await;
        for i in 0..MAX_ADDRESS_FAILURES {
            let name = format!("khong.co.{}", i / per_name);
            let forged = format!("198.51.100.{i}");
            app.login_via(&name, "doan-bua", &device(43), Some(&forged))
                .await;
        }
        let (s, body, _) = app
            .login_via(LAN.0, LAN.1, &device(44), Some("198.51.100.200"))
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{backend:?}: {body}");
        assert_eq!(body["code"], "too_many_attempts_from_address");
    }
}

/// Wrong passwords sent at the same instant each count, and are checked
/// one after the other: a wave of guesses neither passes for one failure
/// nor gets more than [`MAX_FAILURES`] passwords checked before the lock.
/// Guesses sent at once from one address, each at another username, meet
/// the address's lock as guesses sent in turn do: no more are checked than
/// the lock allows, but for those already checking when it fell.
#[tokio::test]
async fn guesses_from_one_address_sent_together_meet_its_lock() {
    use sotay_server::auth::MAX_ADDRESS_FAILURES;
    for backend in BACKENDS {
        let app = TestApp::start_behind(backend, "127.0.0.1, ::1").await;
        let mut wave = tokio::task::JoinSet::new();
        for i in 0..2 * MAX_ADDRESS_FAILURES {
            let req = app
                .http
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", "203.0.113.9")
                .json(&json!({
                    "username": format!("khong.co.{i}"), "password": "doan-bua",
                    "device_id": device(50), "device_name": "Máy đoán"
                }));
            wave.spawn(async move { req.send().await.expect("login request").status() });
        }
        let answers = wave.join_all().await;
        let checked = answers
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count() as i64;
        // Those already checking when the lock fell: one a core, the
        // server checks no more at once (at most 4 counted here).
        let cores = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4) as i64;
        assert!(
            (MAX_ADDRESS_FAILURES..=MAX_ADDRESS_FAILURES + cores).contains(&checked),
            "{backend:?}: {checked} checked: {answers:?}"
        );
    }
}

#[tokio::test]
async fn guesses_sent_together_each_count() {
    use sotay_server::auth::MAX_FAILURES;
    each_backend(|app| async move {
        let mut wave = tokio::task::JoinSet::new();
        for i in 0..3 * MAX_FAILURES {
            let req = app.http.post(app.url("/api/v1/auth/login")).json(&json!({
                "username": HUNG.0, "password": format!("doan-bua-{i}"),
                "device_id": device(7), "device_name": "Máy đoán"
            }));
            wave.spawn(async move { req.send().await.expect("login request").status() });
        }
        let answers = wave.join_all().await;
        for s in &answers {
            assert!(
                matches!(*s, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
                "{s}"
            );
        }
        let checked = answers
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        assert_eq!(checked as i64, MAX_FAILURES, "{answers:?}");
        let (s, body) = app.login_raw(HUNG.0, HUNG.1, &device(7)).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "too_many_attempts");
    })
    .await;
}

#[tokio::test]
async fn login_throttles_refresh_rotates_and_reuse_revokes_the_chain() {
    each_backend(|app| async move {
        let (s, body) = app.login_raw(HUNG.0, "wrong-password", &device(5)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "invalid_credentials");
        assert_eq!(body["detail"], "Sai tên đăng nhập hoặc mật khẩu");
        let (s, _) = app
            .login_raw("no.such.user", "whatever-1", &device(5))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        for _ in 0..4 {
            app.login_raw(HUNG.0, "wrong-password", &device(5)).await;
        }
        // Locked now, even with the right password.
        let (s, body) = app.login_raw(HUNG.0, HUNG.1, &device(5)).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "too_many_attempts");
        // Other users are not affected.
        let (s, first) = app.login_raw(LAN.0, LAN.1, &device(6)).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(first["expires_in"], 900);
        assert!(sotay_core::domain::rules::is_device_code(
            first["device"]["code"].as_str().unwrap()
        ));

        let refresh = |token: Value, dev: String| {
            let app = &app;
            async move { app.refresh(&token, &dev).await }
        };
        // Bound to the device.
        let (s, _) = refresh(first["refresh_token"].clone(), device(7)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, second) = refresh(first["refresh_token"].clone(), device(6)).await;
        assert_eq!(s, StatusCode::OK, "{second}");
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        let (s, me) = app
            .get("/api/v1/me", second["access_token"].as_str().unwrap())
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(me["username"], "canbo.lan");
        // The answer to a refresh got lost: the same token again, soon, is a retry.
        let (s, retry) = refresh(first["refresh_token"].clone(), device(6)).await;
        assert_eq!(s, StatusCode::OK, "{retry}");
        let (s, _) = refresh(second["refresh_token"].clone(), device(6)).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "the lost successor is replaced"
        );
        let (s, third) = refresh(retry["refresh_token"].clone(), device(6)).await;
        assert_eq!(s, StatusCode::OK, "{third}");
        // Once a successor was used, the old token again is theft: the whole
        // chain is revoked, the newest token too.
        let second = third;
        let (s, body) = refresh(first["refresh_token"].clone(), device(6)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "refresh_token_reused");
        let (s, body) = refresh(second["refresh_token"].clone(), device(6)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        assert!(app.db.audit_count("refresh_reused").await.unwrap() >= 1);
        assert!(app.db.audit_count("login_failed").await.unwrap() >= 6);
    })
    .await;
}

#[tokio::test]
async fn supervisor_revokes_a_device_of_their_branch() {
    each_backend(|app| async move {
        let lan = app.token(LAN.0, LAN.1, &device(10)).await;
        let mai = app.token(MAI.0, MAI.1, &device(11)).await;
        let sup = app.token(SUP_TD.0, SUP_TD.1, &device(12)).await;
        let (_, devices) = app.get("/api/v1/devices", &sup).await;
        let ids: Vec<&str> = devices
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&device(10).as_str()) && !ids.contains(&device(11).as_str()),
            "{ids:?}"
        );
        // Another branch's device: not found.
        let (s, _) = app
            .post(
                &format!("/api/v1/devices/{}/revoke", device(11)),
                &sup,
                &json!({"reason": "mất máy"}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, body) = app
            .post(
                &format!("/api/v1/devices/{}/revoke", device(10)),
                &sup,
                &json!({"reason": " "}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/devices/{}/revoke", device(10)),
                &sup,
                &json!({"reason": "Mất điện thoại"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["revoked_at"].is_string());
        // The officer's token stops working at once; signing in again on it is refused.
        let (s, body) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "device_revoked");
        let (s, body) = app.login_raw(LAN.0, LAN.1, &device(10)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        let (s, _) = app
            .post(
                &format!("/api/v1/devices/{}/revoke", device(10)),
                &sup,
                &json!({"reason": "lần nữa"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // Mai is untouched; a device cannot change hands silently.
        let (s, _) = app.get("/api/v1/workers", &mai).await;
        assert_eq!(s, StatusCode::OK);
        let (s, body) = app.login_raw(HUNG.0, HUNG.1, &device(11)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        // The other supervisor cannot, an admin can.
        let sup_bt = app.token(SUP_BT.0, SUP_BT.1, &device(13)).await;
        let (s, _) = app
            .post(
                &format!("/api/v1/devices/{}/revoke", device(12)),
                &sup_bt,
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let admin = app.token(ADMIN.0, ADMIN.1, &device(14)).await;
        let (s, _) = app
            .post(
                &format!("/api/v1/devices/{}/revoke", device(11)),
                &admin,
                &json!({"reason": "Nghỉ việc"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(app.db.audit_count("device_revoke").await.unwrap(), 2);
        // A fellow supervisor's and an admin's devices, in the same branch,
        // are not the supervisor's to see or revoke: only an admin's.
        let moved = app
            .exec(
                "UPDATE users SET branch_id = (SELECT branch_id FROM users WHERE username = 'giamsat.td')
                 WHERE username IN ('giamsat.bt', 'admin')",
            )
            .await;
        assert_eq!(moved, 2);
        let (_, devices) = app.get("/api/v1/devices", &sup).await;
        let ids: Vec<&str> = devices
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert!(
            !ids.contains(&device(13).as_str())
                && !ids.contains(&device(14).as_str())
                && ids.contains(&device(12).as_str()),
            "their own, not theirs: {ids:?}"
        );
        for other in [13, 14] {
            let (s, body) = app
                .post(
                    &format!("/api/v1/devices/{}/revoke", device(other)),
                    &sup,
                    &json!({"reason": "x"}),
                )
                .await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        }
        let (s, _) = app.get("/api/v1/workers", &admin).await;
        assert_eq!(s, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_device_in_use_shows_when_it_last_connected() {
    each_backend(|app| async move {
        let lan = app.token(LAN.0, LAN.1, &device(30)).await;
        let sup = app.token(SUP_TD.0, SUP_TD.1, &device(31)).await;
        // Signed in a week ago; it has synced every day since.
        let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).to_rfc3339();
        let day = &week_ago[..10];
        let moved = app
            .exec(&format!(
                "UPDATE devices SET last_seen_at = '{week_ago}' WHERE id = '{}'",
                device(30)
            ))
            .await;
        assert_eq!(moved, 1);
        let last_seen = || async {
            let (_, devices) = app.get("/api/v1/devices", &sup).await;
            devices
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["id"] == device(30))
                .map(|d| d["last_seen_at"].as_str().unwrap().to_string())
                .unwrap()
        };
        assert!(last_seen().await.starts_with(day));
        let (s, _) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::OK);
        // Noted beside the request, not in its way: written with the
        // others (every minute on a server).
        assert!(last_seen().await.starts_with(day));
        app.seen.write(&app.db).await;
        let seen = last_seen().await;
        let seen: chrono::DateTime<chrono::Utc> = seen.parse().unwrap();
        assert!(
            chrono::Utc::now() - seen < chrono::Duration::minutes(1),
            "{seen}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_admin_deactivates_an_account_and_sets_a_new_password() {
    each_backend(|app| async move {
        let admin = app.token(ADMIN.0, ADMIN.1, &device(40)).await;
        let sup = app.token(SUP_TD.0, SUP_TD.1, &device(41)).await;
        let lan = app.token(LAN.0, LAN.1, &device(42)).await;
        let id_of = |name: &'static str| {
            let app = &app;
            let admin = admin.clone();
            async move {
                let (_, users) = app.get("/api/v1/users", &admin).await;
                users
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["username"] == name)
                    .unwrap()["id"]
                    .as_i64()
                    .unwrap()
            }
        };
        let lan_id = id_of(LAN.0).await;
        let admin_id = id_of(ADMIN.0).await;
        let path = format!("/api/v1/users/{lan_id}/deactivate");
        // Administrators only, a reason, not oneself.
        let (s, _) = app.post(&path, &sup, &json!({"reason": "Nghỉ việc"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, body) = app.post(&path, &admin, &json!({"reason": " "})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/users/{admin_id}/deactivate"),
                &admin,
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("cannot_deactivate_self"))
        );
        let (s, body) = app
            .post(
                "/api/v1/users/999999/deactivate",
                &admin,
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");

        let (s, body) = app
            .post(&path, &admin, &json!({"reason": "Nghỉ việc"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false);
        // Her token stops at once, her phone is revoked with the reason, and
        // signing in again tells her why (once the password is right).
        let (s, _) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (_, devices) = app.get("/api/v1/devices", &admin).await;
        let phone = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == device(42))
            .unwrap()
            .clone();
        assert!(phone["revoked_at"].is_string(), "{phone}");
        assert_eq!(
            phone["revoke_reason"], "Tài khoản bị khóa: Nghỉ việc",
            "{phone}"
        );
        let (s, body) = app.login_raw(LAN.0, LAN.1, &device(43)).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("account_inactive")),
            "{body}"
        );
        let (s, body) = app.login_raw(LAN.0, "wrong-password", &device(43)).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials")),
            "{body}"
        );
        let (s, body) = app.post(&path, &admin, &json!({"reason": "lần nữa"})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_inactive"))
        );
        // Her workers stay hers until moved (a file from before changes
        // nothing), but an import gives her no new one.
        let header = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\n";
        let kept = std::fs::read_to_string(common::fixture_dir().join("workers.csv")).unwrap();
        let (s, body) = app.post_csv("/api/v1/imports/workers", &admin, &kept).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/workers",
                &admin,
                &format!("{header}W-880,Lý Thị Mai,079196000880,,02/02/1996,nu,1,,,NT-01,,0,,CB-TD-01\n"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["column"], "officer_code", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Tài khoản của cán bộ \"CB-TD-01\" đã bị khóa"),
            "{body}"
        );
        // Nor more gifts to hand out; her quota may go down.
        let alloc = "campaign_code,branch_code,officer_code,quota\n";
        let (s, body) = app
            .post_csv("/api/v1/imports/allocations", &admin, &format!("{alloc}TET-2027,CN-TD,CB-TD-01,35\n"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["errors"][0]["message"].as_str().unwrap().contains("không giao thêm suất quà"),
            "{body}"
        );
        let (s, body) = app
            .post_csv("/api/v1/imports/allocations", &admin, &format!("{alloc}TET-2027,CN-TD,CB-TD-01,0\n"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // Back at work, with a new password: the old one no longer works.
        let password = format!("/api/v1/users/{lan_id}/password");
        let (s, body) = app
            .post(&password, &sup, &json!({"password": "mat-khau-moi-2026"}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        let (s, body) = app
            .post(&password, &admin, &json!({"password": "ngan"}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["column"], "password");
        let (s, body) = app
            .post(&password, &admin, &json!({"password": "mat-khau-moi-2026"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let activate = format!("/api/v1/users/{lan_id}/activate");
        let (s, body) = app.post(&activate, &admin, &json!({})).await;
        assert_eq!(
            (s, body["active"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{body}"
        );
        let (s, body) = app.post(&activate, &admin, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_active"))
        );
        let (s, _) = app.login_raw(LAN.0, LAN.1, &device(44)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let lan = app.token(LAN.0, "mat-khau-moi-2026", &device(44)).await;
        let (s, _) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::OK);
        // A password set again ends the sessions signed in with the old one.
        let (_, signed) = app.login_raw(LAN.0, "mat-khau-moi-2026", &device(45)).await;
        let (s, body) = app
            .post(
                &password,
                &admin,
                &json!({"password": "mat-khau-thu-ba-2026"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                "/api/v1/auth/refresh",
                "",
                &json!({"refresh_token": signed["refresh_token"], "device_id": device(45)}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        // Its access token too, though it has not expired: whoever had the
        // old password is out at once.
        let old = signed["access_token"].as_str().unwrap();
        let (s, body) = app.get("/api/v1/workers", old).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        let (s, body) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        let lan = app.token(LAN.0, "mat-khau-thu-ba-2026", &device(45)).await;
        let (s, body) = app.get("/api/v1/workers", &lan).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Not one's own password here.
        let (s, body) = app
            .post(
                &format!("/api/v1/users/{admin_id}/password"),
                &admin,
                &json!({"password": "mat-khau-admin-moi"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("own_password")),
            "{body}"
        );
        for (action, n) in [
            ("user_deactivate", 1),
            ("user_activate", 1),
            ("user_set_password", 2),
        ] {
            assert_eq!(app.db.audit_count(action).await.unwrap(), n, "{action}");
        }
    })
    .await;
}

#[tokio::test]
async fn search_is_accent_and_case_insensitive_and_knows_phones() {
    each_backend(|app| async move {
        let admin = app.token(ADMIN.0, ADMIN.1, &device(20)).await;
        let find = |q: &'static str| {
            let app = &app;
            let admin = admin.clone();
            async move {
                let url = format!("/api/v1/workers?q={}", urlencode(q));
                let (s, page) = app.get(&url, &admin).await;
                assert_eq!(s, StatusCode::OK, "{q}: {page}");
                codes(&page["items"])
            }
        };
        assert_eq!(find("nguyen thi lan").await, ["W-001"]);
        assert_eq!(find("NGUYỄN").await, ["W-001"]);
        assert_eq!(find("lan thi").await, ["W-001"]);
        assert_eq!(find("Dang").await, ["W-002"]);
        assert_eq!(find("đặng thu").await, ["W-002"]);
        assert_eq!(find("thi").await, ["W-001", "W-002", "W-004"]);
        assert_eq!(find("+84 987 654 321").await, ["W-001"]);
        assert_eq!(find("0978.111.222").await, ["W-002"]);
        assert_eq!(find("079093000003").await, ["W-003"]);
        assert_eq!(find("an").await, Vec::<String>::new());
        // A worker's code, or a loan's (the borrower), as written or not.
        assert_eq!(find("W-002").await, ["W-002"]);
        assert_eq!(find("w-002").await, ["W-002"]);
        assert_eq!(find("L-003").await, ["W-003"]);
        assert_eq!(find("l-001").await, ["W-001"]);
        assert_eq!(find("W-999").await, Vec::<String>::new());
        // Typed without its hyphen or zeros, or with another dash.
        assert_eq!(find("w002").await, ["W-002"]);
        assert_eq!(find("w 2").await, ["W-002"]);
        assert_eq!(find("W\u{2011}002").await, ["W-002"]);
        assert_eq!(find("l3").await, ["W-003"]);
        // An officer's search stays in their portfolio.
        let lan = app.token(LAN.0, LAN.1, &device(21)).await;
        let (_, page) = app.get("/api/v1/workers?q=tam", &lan).await;
        assert_eq!(page["total"], 0);
        let (_, page) = app.get("/api/v1/workers?q=W-003", &lan).await;
        assert_eq!(page["total"], 0, "{page}");
        let (_, page) = app.get("/api/v1/workers?q=L-003", &lan).await;
        assert_eq!(page["total"], 0, "{page}");
        // An id that does not read is not found, as problem details.
        for path in [
            "/api/v1/workers/abc",
            "/api/v1/loans/1x",
            "/api/v1/batches/not-a-uuid",
        ] {
            let (s, body) = app.get(path, &admin).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("not_found")),
                "{path}: {body}"
            );
        }
    })
    .await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_bad_row_refuses_the_whole_file_with_its_line() {
    each_backend(|app| async move {
        let admin = app.token(ADMIN.0, ADMIN.1, &device(30)).await;
        let csv = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\n\
            W-101,Trần Thị Bích,079196000101,0901000101,02/02/1996,nu,1,Công ty A,KCX Linh Trung,NT-01,P.1,0,,CB-TD-01\n\
            W-102,Huỳnh Văn Nam,079196000102,0901000102,03/03/1996,nam,1,Công ty A,KCX Linh Trung,NT-01,P.2,0,,CB-TD-01\n\
            W-103,Hồ Thị Mận,07919600010,0901000103,04/04/1996,nu,0,Công ty A,KCX Linh Trung,NT-01,P.3,0,,CB-TD-01\n";
        let (s, body) = app.post_csv("/api/v1/imports/workers?file_name=cong_nhan.csv", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "import_rejected");
        let err = &body["errors"][0];
        assert_eq!(err["file"], "cong_nhan.csv");
        assert_eq!(err["line"], 4, "{body}");
        assert_eq!(err["column"], "cccd");
        let (_, page) = app.get("/api/v1/workers", &admin).await;
        assert_eq!(page["total"], 4, "nothing imported");

        // Every problem in one answer: a row naming an unknown officer and
        // an unknown boarding house with a CCCD already another worker's,
        // beside a row that does not read. A loan file whose row does not
        // read beside one naming an unknown worker and one above its
        // product's limit. Rows referring to a row that did not read are not
        // also "not found".
        let csv = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\n\
            W-201,Trần Thị Bích,079195000001,0901000201,02/02/1996,nu,1,Công ty A,KCX Linh Trung,NT-99,P.1,0,,CB-XX-09\n\
            W-202,Huỳnh Văn Nam,0791960002,0901000202,30/02/1996,nam,1,Công ty A,KCX Linh Trung,NT-01,P.2,0,,CB-TD-01\n";
        let (s, body) = app.post_csv("/api/v1/imports/workers", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let found: Vec<(i64, String)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_str().unwrap().to_string()))
            .collect();
        for want in [(2, "officer_code"), (2, "boarding_house_code"), (2, "cccd"), (3, "cccd"), (3, "date_of_birth")] {
            assert!(found.contains(&(want.0, want.1.to_string())), "{want:?} in {body}");
        }
        let csv = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\n\
            L-910,W-001,SP-TUAN,1.500.00,01/10/2026,0\n\
            L-911,W-404,SP-TUAN,5000000,01/10/2026,0\n\
            L-912,W-001,SP-TUAN,90000000,01/10/2026,0\n";
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let found: Vec<(i64, String)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(
            found,
            [(2, "principal".to_string()), (3, "worker_code".into()), (4, "principal".into())],
            "{body}"
        );
        let (_, page) = app.get("/api/v1/workers", &admin).await;
        assert_eq!(page["total"], 4, "nothing imported");

        // A reference to nothing is refused too, naming the column.
        let csv = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\nL-900,W-404,SP-TUAN,5000000,01/10/2026,0\n";
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["column"], "worker_code");
        assert_eq!(body["errors"][0]["line"], 2);
        // A code in the wrong case is named as it is.
        let csv = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\nL-900,W-001,sp-tuan,5000000,01/10/2026,0\n";
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("có mã \"SP-TUAN\": mã phân biệt chữ hoa và chữ thường"),
            "{body}"
        );
        // A row's own code in another case than a stored one, or than an
        // earlier row's, is not a second worker: refused, naming it.
        let csv = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\n\
            w-001,Trần Thị Bích,079196000301,0901000301,02/02/1996,nu,1,Công ty A,KCX Linh Trung,NT-01,P.1,0,,CB-TD-01\n\
            W-777,Huỳnh Văn Nam,079196000302,0901000302,03/03/1996,nam,1,Công ty A,KCX Linh Trung,NT-01,P.2,0,,CB-TD-01\n\
            w-777,Hồ Thị Mận,079196000303,0901000303,04/04/1996,nu,0,Công ty A,KCX Linh Trung,NT-01,P.3,0,,CB-TD-01\n";
        let (s, body) = app.post_csv("/api/v1/imports/workers", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let twins: Vec<(i64, &str, &str)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_str().unwrap(), e["message"].as_str().unwrap()))
            .collect();
        assert_eq!(twins.len(), 2, "{body}");
        assert_eq!((twins[0].0, twins[0].1), (2, "code"), "{body}");
        assert!(twins[0].2.contains("Mã \"w-001\" chỉ khác mã \"W-001\" (đã có)"), "{body}");
        assert_eq!((twins[1].0, twins[1].1), (4, "code"), "{body}");
        assert!(twins[1].2.contains("chỉ khác mã \"W-777\" (ở dòng 3)"), "{body}");
        // Its own error only: not also a new worker lacking columns.
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, "code,phone\nw-001,0909000999\n")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
        let (_, page) = app.get("/api/v1/workers", &admin).await;
        assert_eq!(page["total"], 4, "nothing imported");
        // So is a worker's, with no workers file read whole.
        let csv = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\nL-900,w-001,SP-TUAN,5000000,01/10/2026,0\n";
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("có mã \"W-001\": mã phân biệt chữ hoa và chữ thường"),
            "{body}"
        );

        // Money grouped with commas, the English way: refused, in English.
        let csv = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\nL-901,W-001,SP-TUAN,\"5,000,000\",01/10/2026,0\n";
        let resp = app
            .http
            .post(app.url("/api/v1/imports/loans"))
            .bearer_auth(&admin)
            .header("accept-language", "en")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["column"], "principal");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("principal"), "{body}");
        assert!(body["detail"].as_str().unwrap().contains("nothing was imported"));

        // A form upload is told to send the file as the body; a kind not
        // there names those that are.
        let resp = app
            .http
            .post(app.url("/api/v1/imports/loans"))
            .bearer_auth(&admin)
            .multipart(reqwest::multipart::Form::new().text("file", csv.to_string()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "import_not_csv_body", "{body}");
        let (s, body) = app.post_csv("/api/v1/imports/worker", &admin, "code\n").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body["detail"].as_str().unwrap().contains("workers, loan-products"), "{body}");

        // Past 200 errors the answer says how many more it left out.
        let mut csv = String::from("code,worker_code,product_code,principal,disbursed_on,paid_to_date\n");
        for n in 0..205 {
            csv.push_str(&format!("L-5{n:03},W-404,SP-TUAN,5000000,01/10/2026,0\n"));
        }
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, &csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 201, "{body}");
        let last = errors[200]["message"].as_str().unwrap();
        assert!(last.contains("còn 5 lỗi nữa sau dòng 201"), "{last}");
        // With a value that does not read among them, the same.
        let csv = csv.replacen(",5000000,", ",5.000.00,", 1);
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, &csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 201, "{body}");
        let last = errors[200]["message"].as_str().unwrap();
        assert!(last.contains("còn 5 lỗi nữa không được liệt kê"), "{last}");
        assert!(
            body["detail"].as_str().unwrap().contains("205 lỗi"),
            "every error counted: {body}"
        );

        // An officer's quota under a branch row that did not read is not
        // also told the branch has none.
        let camp = "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n\
            QT-2027,Quà thử,gift,01/12/2026,31/12/2026,200000,10,all,\n";
        let (s, body) = app.post_csv("/api/v1/imports/campaigns", &admin, camp).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let alloc = "campaign_code,branch_code,officer_code,quota\nQT-2027,CN-BT,CB-BT-01,5\nQT-2027,CN-BT,,abc\n";
        let (s, body) = app.post_csv("/api/v1/imports/campaign-allocations", &admin, alloc).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let lines: Vec<i64> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_i64().unwrap())
            .collect();
        assert_eq!(lines, [3], "only the branch's row: {body}");
        // Without a branch row at all, the officer's row is told.
        let alloc = "campaign_code,branch_code,officer_code,quota\nQT-2027,CN-BT,CB-BT-01,5\n";
        let (s, body) = app.post_csv("/api/v1/imports/campaign-allocations", &admin, alloc).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("chưa có chỉ tiêu"), "{body}");

        // A file of its header alone is the wrong sheet, not "0 created".
        let header = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\r\n,,,,,,,,,,,,,\r\n";
        let (s, body) = app.post_csv("/api/v1/imports/workers", &admin, header).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("chỉ có dòng tiêu đề"), "{body}");
        // Each error in English too, as the detail is.
        let message_en = body["errors"][0]["message_en"].as_str().unwrap();
        assert!(message_en.contains("has its header row and no data rows"), "{body}");

        // A good file goes in, and again changes nothing.
        let good = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code\n\
            W-101,Trần Thị Bích,079196000101,0901000101,02/02/1996,nu,1,Công ty A,KCX Linh Trung,NT-01,P.1,0,,CB-TD-01\n";
        let (s, report) = app.post_csv("/api/v1/imports/workers", &admin, good).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["workers"]["created"], 1);
        let (_, report) = app.post_csv("/api/v1/imports/workers", &admin, good).await;
        assert_eq!(report["workers"], json!({"created": 0, "updated": 0, "unchanged": 1}));
        // A file without the optional columns keeps what they hold: a
        // file of codes and officers does not erase phones and rooms; an
        // empty cell does clear.
        let slim = "code,full_name,cccd,union_member,hardship,officer_code\n\
            W-101,Trần Thị Bích,079196000101,1,0,CB-TD-01\n";
        let (s, report) = app.post_csv("/api/v1/imports/workers", &admin, slim).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["workers"], json!({"created": 0, "updated": 0, "unchanged": 1}));
        let (_, page) = app.get("/api/v1/workers?q=W-101", &admin).await;
        assert_eq!(page["items"][0]["phone"], "0901000101", "{page}");
        assert_eq!(page["items"][0]["room"], "P.1", "{page}");
        let cleared = "code,full_name,cccd,phone,union_member,hardship,officer_code\n\
            W-101,Trần Thị Bích,079196000101,,1,0,CB-TD-01\n";
        let (_, report) = app.post_csv("/api/v1/imports/workers", &admin, cleared).await;
        assert_eq!(report["workers"]["updated"], 1, "{report}");
        let (_, page) = app.get("/api/v1/workers?q=W-101", &admin).await;
        assert_eq!(page["items"][0]["phone"], Value::Null, "{page}");
        assert_eq!(page["items"][0]["room"], "P.1", "{page}");
        // A password in a re-imported users.csv changes nothing: said so.
        let users = "code,username,full_name,role,branch_code,phone,password\n\
            GS-TD,giamsat.td,Lê Thị Hồng,supervisor,CN-TD,0903111222,mat-khau-moi-2027\n";
        let (s, report) = app.post_csv("/api/v1/imports/users", &admin, users).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["passwords_kept"], json!(["giamsat.td"]), "{report}");
        // Codes and officers alone move workers, keeping the rest; a new
        // code there is refused, naming what a new worker needs.
        let moves = "code,officer_code\nW-101,CB-TD-02\n";
        let (s, report) = app.post_csv("/api/v1/imports/workers", &admin, moves).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["workers"]["updated"], 1, "{report}");
        let (_, page) = app.get("/api/v1/workers?q=W-101", &admin).await;
        let w = &page["items"][0];
        assert_eq!(
            (&w["full_name"], &w["cccd"], &w["room"]),
            (&json!("Trần Thị Bích"), &json!("079196000101"), &json!("P.1")),
            "{page}"
        );
        // Moved to another house without a room column: the old house's
        // room number does not follow.
        let (s, report) = app
            .post_csv(
                "/api/v1/imports/workers",
                &admin,
                "code,boarding_house_code,officer_code\nW-101,NT-02,CB-TD-02\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{report}");
        let (_, page) = app.get("/api/v1/workers?q=W-101", &admin).await;
        assert_eq!(page["items"][0]["room"], "", "{page}");
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, "code,officer_code\nW-999,CB-TD-02\n")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("Người lao động mới \"W-999\": tệp thiếu cột full_name, cccd, union_member, hardship"),
            "{body}"
        );
        // A correction of one phone number keeps the worker's officer.
        let (s, report) = app
            .post_csv("/api/v1/imports/workers", &admin, "code,phone\nW-101,0909 000 111\n")
            .await;
        assert_eq!(s, StatusCode::OK, "{report}");
        // The report says which columns of which worker it changed.
        assert_eq!(
            report["workers_changed"],
            json!([{"worker_code": "W-101", "columns": ["phone"]}]),
            "{report}"
        );
        let (_, page) = app.get("/api/v1/workers?q=W-101", &admin).await;
        let w = &page["items"][0];
        assert_eq!(w["phone"], "0909000111", "{page}");
        assert_eq!(w["officer_name"], "Đặng Văn Hùng", "{page}");
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, "code,phone\nW-998,0909 000 112\n")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["errors"][0]["message"].as_str().unwrap().contains("officer_code"),
            "{body}"
        );
        let (s, history) = app.get("/api/v1/imports", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(history.as_array().unwrap().len() >= 3);
        let (s, _) = app.post_csv("/api/v1/imports/nonsense", &admin, good).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn errors_are_problem_details_in_the_callers_language() {
    each_backend(|app| async move {
        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "malformed_json");
        assert_eq!(body["status"], 400);

        // JSON that does not fit: the field named, in words to act on,
        // never the parser's own text.
        let sup = app.token("giamsat.td", "super-pass-1", &common::device(1)).await;
        let loan = app.id_of("loans", "L-001").await;
        for (path, token, sent, field, said) in [
            (
                format!("/api/v1/loans/{loan}/repayments"),
                sup.as_str(),
                json!({"client_id": "quay-0001", "amount": "100000"}),
                "client_id",
                "\"client_id\" phải là một mã UUID",
            ),
            (
                "/api/v1/auth/login".to_string(),
                "",
                json!({"username": "canbo.lan", "password": "x", "device_id": "may-tinh-01"}),
                "device_name",
                "Thiếu trường \"device_name\"",
            ),
        ] {
            let (s, body) = app.post(&path, token, &sent).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["code"], "invalid_body", "{body}");
            assert_eq!(body["errors"][0]["column"], field, "{body}");
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.starts_with(said), "{body}");
            assert!(!detail.contains("deserialize"), "{body}");
        }

        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("accept-language", "en-GB,en;q=0.9")
            .json(&json!({"username": "canbo.lan", "password": "nope-nope", "device_id": "short", "device_name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["column"], "device_id");
        assert!(body["detail"].as_str().unwrap().starts_with("device_id must be"), "{body}");

        let big = "x".repeat(3 * 1024 * 1024);
        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large");

        let resp = app.http.get(app.url("/api/v1/nowhere")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "no_such_endpoint");
        // A mistyped console address is a page, not the API's JSON.
        let resp = app.http.get(app.url("/gift-stock")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{:?}",
            resp.headers()
        );
        let page = resp.text().await.unwrap();
        assert!(page.contains("Không có trang này"), "{page}");
        // A real address with a method it does not take: problem details
        // too, and what it does take.
        let resp = app
            .http
            .get(app.url("/api/v1/loans/1/repayments"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        let allow = resp.headers().get("allow").cloned();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{body}");
        assert!(body["detail"].as_str().unwrap().contains("GET"), "{body}");
        assert_eq!(allow.as_ref().and_then(|v| v.to_str().ok()), Some("POST"));
    })
    .await;
}

#[tokio::test]
async fn health_and_openapi() {
    each_backend(|app| async move {
        let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        let expected = if app.backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        };
        assert_eq!(body["database"], expected);
        let resp = app
            .http
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        let doc: Value = resp.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/v1/auth/login",
            "/api/v1/auth/refresh",
            "/api/v1/workers/{id}",
            "/api/v1/imports/{kind}",
            "/api/v1/devices/{id}/revoke",
            "/api/v1/bank-statements",
            "/api/v1/bank-statements/{id}",
            "/api/v1/bank-statements/{id}/lines/{line_no}",
        ] {
            assert!(
                doc["paths"][path].is_object(),
                "{path} missing from the OpenAPI document"
            );
        }
        // Each request body is its own: a batch's approval is not shown with
        // a disbursement's (two types of one name would share a schema).
        for (path, field) in [
            ("/api/v1/batches/{id}/approve", "cash_received"),
            ("/api/v1/disbursements/{id}/approve", "transfer_ref"),
        ] {
            let schema =
                &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
            // Optional bodies are one of null or the type.
            let name = schema["$ref"]
                .as_str()
                .or_else(|| {
                    schema["oneOf"]
                        .as_array()?
                        .iter()
                        .find_map(|s| s["$ref"].as_str())
                })
                .unwrap_or_else(|| panic!("{path}: {schema}"))
                .rsplit('/')
                .next()
                .unwrap();
            assert!(
                doc["components"]["schemas"][name]["properties"][field].is_object(),
                "{path}: {name} has no {field}"
            );
        }
        // Each operation's path parameters are its path's placeholders, no
        // more, no fewer: a client generated from it builds real addresses.
        let mut wrong = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let mut wanted: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            wanted.sort_unstable();
            for (method, op) in item.as_object().unwrap() {
                let mut declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .filter_map(|p| p["name"].as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                declared.sort_unstable();
                if declared != wanted {
                    wrong.push(format!("{method} {path}: {declared:?}"));
                }
            }
        }
        assert!(wrong.is_empty(), "path parameters:\n{}", wrong.join("\n"));
        assert!(doc["components"]["schemas"]["TokenResponse"].is_object());
        assert_eq!(
            doc["components"]["schemas"]["BankDirection"]["enum"],
            serde_json::json!(["deposit", "withdrawal", "charge", "interest"]),
            "{}",
            doc["components"]["schemas"]["BankDirection"]
        );
        for schema in [
            "StatementView",
            "ReconciledLine",
            "CounterRequest",
            "LinePostRequest",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} missing from the OpenAPI document"
            );
        }
        // The database gone: the health check says it is the database.
        app.db.close().await;
        let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "database_unavailable", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("cơ sở dữ liệu"),
            "{body}"
        );
    })
    .await;
}

/// A database that is gone for good under a running server (dropped, a
/// password changed, a host with no route) is said to be the database's
/// trouble at once: not a server error, nor "busy" after the pool's wait.
#[tokio::test]
async fn a_database_gone_for_good_is_said_at_once() {
    use sqlx::Connection;
    let app = TestApp::start(Backend::Postgres).await;
    let name = app
        .database_url()
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_string();
    let admin = std::env::var("SOTAY_TEST_POSTGRES").expect("the test cluster");
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(
            &json!({"username": "canbo.lan", "password": "x", "device_id": device(7),
                      "device_name": "Máy thử"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
}

/// A SQLite file moved, deleted or replaced under a running server: the
/// health check says the database is unavailable (not 200), naming the
/// file and what happened; a new connection finds no file rather than
/// creating an empty one in its place; the file put back, all is well.
#[tokio::test]
async fn a_sqlite_file_moved_under_the_server_is_said() {
    let app = TestApp::start(Backend::Sqlite).await;
    let path = std::path::PathBuf::from(app.database_url().trim_start_matches("sqlite://"));
    let moved = path.with_file_name("moved.db");
    let health = || async {
        let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
        let status = resp.status();
        (status, resp.json::<Value>().await.unwrap())
    };
    assert_eq!(health().await.0, StatusCode::OK);

    std::fs::rename(&path, &moved).unwrap();
    let (status, body) = health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "database_unavailable", "{body}");
    let e = app.db.ping().await.unwrap_err().to_string();
    assert!(
        e.contains(&format!("{} is gone", path.display())) && e.contains("Put it back"),
        "{e}"
    );
    // A new connection (the upload writer's first) finds no file and says
    // so; no empty database appears at the path.
    let writer = app.db.upload_writer();
    let e = writer.count("users").await.unwrap_err();
    assert!(
        matches!(e, sotay_server::db::DbError::Unreachable(_)),
        "{e:?}"
    );
    assert!(!path.exists(), "an empty database was created in its place");

    std::fs::rename(&moved, &path).unwrap();
    assert_eq!(health().await.0, StatusCode::OK);
    assert_eq!(
        writer.count("users").await.unwrap(),
        app.db.count("users").await.unwrap()
    );

    // Another file put in its place (a copy: the same content, another file).
    std::fs::rename(&path, &moved).unwrap();
    std::fs::copy(&moved, &path).unwrap();
    let (status, body) = health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let e = app.db.ping().await.unwrap_err().to_string();
    assert!(e.contains("is not the one the server opened"), "{e}");
    std::fs::remove_file(&path).unwrap();
    std::fs::rename(&moved, &path).unwrap();
    assert_eq!(health().await.0, StatusCode::OK);
}

/// Instances of one database that sign with different secrets refuse each
/// other's tokens: a start that would is warned of (the database keeps a
/// fingerprint of the last `SOTAY_JWT_SECRET`, never the secret).
#[tokio::test]
async fn a_start_with_another_signing_secret_is_warned_of() {
    use sotay_server::auth::load_secret;
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let a = "Vq3s9LxP0mZt7RkW2bYd5HfJ8nCe4GuA";
        let b = "Zr8Tn2Kd6Wq0YhP4cLm9Xs1Fb7Jg3VeN";
        load_secret(&app.db, Some(a)).await.unwrap();
        let (secret, warning) = load_secret(&app.db, Some(a)).await.unwrap();
        assert_eq!((secret.as_slice(), warning), (a.as_bytes(), None));
        let stored = app.db.setting("jwt_secret_env_fingerprint").await.unwrap();
        assert!(stored.is_some_and(|f| !f.contains(a) && f.len() == 16));
        let (_, warning) = load_secret(&app.db, None).await.unwrap();
        assert!(
            warning.is_some_and(|w| w.contains("SOTAY_JWT_SECRET is not set")),
            "{backend:?}: {warning:?}"
        );
        // Said once: the next start the same way is quiet.
        let (_, warning) = load_secret(&app.db, None).await.unwrap();
        assert_eq!(warning, None);
        assert!(app.db.setting("jwt_secret").await.unwrap().is_some());
        let (_, warning) = load_secret(&app.db, Some(b)).await.unwrap();
        assert!(
            warning.is_some_and(|w| w.contains("signed with the secret kept in the database")),
            "{backend:?}: {warning:?}"
        );
        // Signed with SOTAY_JWT_SECRET now: the generated one is not kept
        // (a backup of the database holds no secret).
        assert_eq!(app.db.setting("jwt_secret").await.unwrap(), None);
        let (_, warning) = load_secret(&app.db, Some(a)).await.unwrap();
        assert!(
            warning.is_some_and(|w| w.contains("differs from the last start")),
            "{backend:?}: {warning:?}"
        );
    }
}

/// Every answer names its request (the client's `x-request-id`, or a new
/// one), as the log lines of that request do.
#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let app = TestApp::start(BACKENDS[0]).await;
    let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let resp = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "dien-thoai-lan-0905")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "dien-thoai-lan-0905");
    // One that could write fields into a log line is replaced.
    let resp = app
        .http
        .get(app.url("/healthz"))
        .header(
            "x-request-id",
            "x method=POST path=/api/v1/disbursements/7/approve",
        )
        .send()
        .await
        .unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}
