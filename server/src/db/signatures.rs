// Gift signature images. Included into each backend's review module (see
// `mod.rs`).

/// The SHA-256 a gift record names for its signature image, if any.
pub fn expected_signature(kind: &str, body: &str) -> Option<String> {
    if kind != "gift_handout" {
        return None;
    }
    crate::review::gift_payload(body)?.signature_sha256
}

#[derive(sqlx::FromRow)]
struct SignedRecord {
    id: i64,
    officer_id: i64,
    branch_id: Option<i64>,
    kind: String,
    body: String,
}

async fn signed_record(c: &mut Conn, client_id: uuid::Uuid) -> DbResult<Option<SignedRecord>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.officer_id, b.branch_id, s.kind, s.body
         FROM sync_records s JOIN sync_batches b ON b.batch_id = s.batch_id WHERE s.client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&mut *c)
    .await?)
}

/// Stores the signature image of one of the uploader's gift records, once
/// per image and officer: `sha256` and `media_type` are the image's, worked
/// out by the caller. A record of another officer is not found.
pub async fn signature_receive(
    c: &mut Conn,
    who: &crate::db::Uploader,
    client_id: uuid::Uuid,
    image: &[u8],
    sha256: &str,
    media_type: Option<&'static str>,
    now: DateTime<Utc>,
) -> DbResult<rv::SignatureReceipt> {
    let rec = signed_record(c, client_id).await?.filter(|r| r.officer_id == who.officer_id).ok_or_else(|| {
        refused(
            404,
            "record_not_found",
            format!("Máy chủ chưa có bản ghi {client_id} của bạn; ảnh chữ ký sẽ được gửi sau khi bản ghi được đồng bộ"),
            format!("the server has no record {client_id} of yours; the signature is sent after its record"),
        )
    })?;
    let expected = expected_signature(&rec.kind, &rec.body).ok_or_else(|| {
        refused(
            422,
            "no_signature_expected",
            format!("Bản ghi {client_id} không phải phiếu trao quà có chữ ký"),
            format!("record {client_id} is not a gift handout with a signature"),
        )
    })?;
    if expected != sha256 {
        return Err(refused(
            422,
            "signature_mismatch",
            format!("Ảnh chữ ký gửi lên không khớp với mã SHA-256 ghi trong bản ghi {client_id}"),
            format!("the image's SHA-256 is not the one record {client_id} names"),
        ));
    }
    let media_type = media_type.ok_or_else(|| {
        refused(
            422,
            "signature_not_image",
            "Ảnh chữ ký phải là ảnh PNG, JPEG hoặc WebP".into(),
            "the signature must be a PNG, JPEG or WebP image".into(),
        )
    })?;
    let inserted = sqlx::query(
        "INSERT INTO signatures (sha256, image, bytes, media_type, record_id, uploaded_by, device_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sha256, uploaded_by) DO NOTHING",
    )
    .bind(sha256)
    .bind(image)
    .bind(image.len() as i64)
    .bind(media_type)
    .bind(rec.id)
    .bind(who.officer_id)
    .bind(&who.device_id)
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        audit_append(
            c,
            &AuditEntry {
                actor_user_id: Some(who.officer_id),
                actor_username: who.username.clone(),
                action: "signature.receive",
                object_type: "sync_record",
                object_id: client_id.to_string(),
                device_id: Some(who.device_id.clone()),
                ip: who.ip.clone(),
                detail: serde_json::json!({
                    "sha256": sha256, "bytes": image.len(), "media_type": media_type,
                    // Kept like the records a revoked device brings (quarantined).
                    "device_revoked": who.device_revoked,
                }),
            },
            now,
        )
        .await?;
    }
    Ok(rv::SignatureReceipt {
        record_id: client_id,
        sha256: sha256.to_string(),
        bytes: image.len() as i64,
        media_type: media_type.to_string(),
        duplicate: !inserted,
    })
}

/// A record's signature as the people who may see it get it: whose record
/// it is, the image's hash if the record names one, and the image if the
/// server holds it.
pub async fn record_signature(c: &mut Conn, client_id: uuid::Uuid) -> DbResult<Option<rv::RecordSignature>> {
    let Some(rec) = signed_record(c, client_id).await? else {
        return Ok(None);
    };
    let sha256 = expected_signature(&rec.kind, &rec.body);
    let image = match &sha256 {
        Some(h) => {
            sqlx::query_as::<DB, (Vec<u8>, String)>(
                "SELECT image, media_type FROM signatures WHERE sha256 = $1 AND uploaded_by = $2",
            )
            .bind(h)
            .bind(rec.officer_id)
            .fetch_optional(&mut *c)
            .await?
        }
        None => None,
    };
    Ok(Some(rv::RecordSignature {
        officer_id: rec.officer_id,
        branch_id: rec.branch_id,
        sha256,
        image,
    }))
}

/// Fills in each gift's signature: the hash its record names and whether
/// the server holds the image.
async fn signatures_of(c: &mut Conn, records: &mut [rv::ReviewRecordRow]) -> DbResult<()> {
    let mut hashes: Vec<String> = Vec::new();
    for r in records.iter_mut() {
        r.signature_sha256 = expected_signature(&r.kind, &r.body);
        hashes.extend(r.signature_sha256.clone());
    }
    // An image counts for a record when the record's own officer sent it.
    let mut held: HashSet<(String, i64)> = HashSet::new();
    for chunk in hashes.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT sha256, uploaded_by FROM signatures WHERE ");
        <DB as Lists>::texts(&mut qb, "sha256", chunk);
        held.extend(qb.build_query_as::<(String, i64)>().fetch_all(&mut *c).await?);
    }
    for r in records.iter_mut() {
        r.signature_received =
            r.signature_sha256.as_ref().is_some_and(|h| held.contains(&(h.clone(), r.officer_id)));
    }
    Ok(())
}
