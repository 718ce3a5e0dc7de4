//! A simulated phone talking to the API: signs in, records, uploads.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::Value;
use sotay_core::wire::{
    ChangePage, PortfolioSnapshot, RecordBody, UploadBatch, UploadOutcome, UploadRecord,
    UploadResponse,
};
use uuid::Uuid;

use super::TestApp;

pub struct Phone {
    pub token: String,
    pub device: Uuid,
    pub code: String,
    pub seq: i64,
}

impl Phone {
    pub async fn sign_in(app: &TestApp, username: &str, password: &str) -> Phone {
        let device = Uuid::now_v7();
        let (s, body) = app.login_raw(username, password, &device.to_string()).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        Phone {
            token: body["access_token"].as_str().unwrap().to_string(),
            device,
            code: body["device"]["code"].as_str().unwrap().to_string(),
            seq: 0,
        }
    }

    pub fn record(&mut self, body: RecordBody) -> UploadRecord {
        self.seq += 1;
        UploadRecord {
            client_id: Uuid::now_v7(),
            device_id: self.device,
            device_seq: self.seq,
            recorded_at: Utc::now(),
            body,
        }
    }

    pub fn receipt(&self, n: i64) -> String {
        sotay_core::domain::rules::receipt_number(&self.code, n)
    }

    pub async fn snapshot(&self, app: &TestApp) -> PortfolioSnapshot {
        let (s, body) = app.get("/api/v1/sync/changes", &self.token).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    pub async fn changes(&self, app: &TestApp, since: &str) -> ChangePage {
        self.changes_up_to(app, since, 500).await
    }

    /// A change page of at most `limit` changes.
    pub async fn changes_up_to(&self, app: &TestApp, since: &str, limit: usize) -> ChangePage {
        let (s, body) = app
            .get(
                &format!("/api/v1/sync/changes?since={since}&limit={limit}"),
                &self.token,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// Uploads `records` as a new batch; returns the batch id and each outcome.
    pub async fn upload(
        &self,
        app: &TestApp,
        records: Vec<UploadRecord>,
    ) -> (Uuid, Vec<(UploadOutcome, Option<String>)>) {
        let batch = UploadBatch {
            batch_id: Uuid::now_v7(),
            device_id: self.device,
            records,
            approved_before: Vec::new(),
        };
        let (s, body): (StatusCode, Value) = app
            .post(
                "/api/v1/sync/batches",
                &self.token,
                &serde_json::to_value(&batch).unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let r: UploadResponse = serde_json::from_value(body).unwrap();
        (
            batch.batch_id,
            r.results.into_iter().map(|r| (r.outcome, r.code)).collect(),
        )
    }
}
