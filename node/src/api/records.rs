//! Licences, evidence and their proofs: records, presentations, receipts, and `POST /v1/verify`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lichen_contracts::codec::Encode;
use lichen_contracts::presentation::{
    Desk, Document, Holder, Policy, ProofKind, Trust, verify_at_desk, verify_at_desk_if_cheap,
};
use lichen_contracts::state::StateKey;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::NodeError;
use crate::runtime::now_ms;
use lichen_views as views;
use lichen_views::api::{EvidenceResponse, LicenceHistoryView, LicenceRecordResponse, ListPage};

use super::*;

#[utoipa::path(
    get,
    path = "/v1/licences/{id}",
    tag = "records",
    summary = "A licence record and its status history",
    params(
        ("id" = String, Path, description = "The licence id"),
    ),
    responses(
        (status = 200, description = "The record, its status changes and the height it is read at", body = LicenceRecordResponse),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn get_licence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<LicenceRecordResponse>> {
    let chain = &state.node.chain;
    let tip = chain.tip()?;
    let licence: Option<lichen_contracts::model::Licence> =
        chain.entry(&StateKey::Licence(id.clone()))?;
    let licence = licence.ok_or(NodeError::NotFound {
        what: "licence",
        id: id.clone(),
    })?;
    let history = chain
        .licence_history(&id)?
        .into_iter()
        .map(|h| LicenceHistoryView {
            height: h.location.height,
            index: h.location.index,
            tx_id: h.tx_id.to_hex(),
            status: h.status.name().to_string(),
        })
        .collect();
    Ok(Json(LicenceRecordResponse {
        licence: views::LicenceView::from(&licence),
        history,
        as_of_height: tip.height,
    }))
}

/// `GET /v1/agencies/{id}/licences?limit=&cursor=`: the licences an agency issued, newest first,
/// each its record as `GET /v1/licences/{id}` gives it; the cursor is where the page's last one
/// was issued (`<height>.<index>`).
#[utoipa::path(
    get,
    path = "/v1/agencies/{id}/licences",
    tag = "records",
    summary = "The licences an agency issued, newest first, a page at a time",
    params(
        ("id" = String, Path, description = "The agency id"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "Licences per page (default 100)"),
        ("cursor" = Option<String>, Query, pattern = "^[0-9]{1,19}\\.[0-9]{1,9}$", description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of licence records", body = ListPage),
        (status = 404, description = "No such agency (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn agency_licences(
    State(state): State<AppState>,
    Path(agency): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ListPage>> {
    let (limit, cursor) = list_query(query)?;
    let before = cursor.as_deref().map(location_cursor).transpose()?;
    let chain = state.node.chain.clone();
    blocking(move || {
        let known: Option<lichen_contracts::model::Agency> =
            chain.entry(&StateKey::Agency(agency.clone()))?;
        if known.is_none() {
            return Err(NodeError::NotFound {
                what: "agency",
                id: agency,
            }
            .into());
        }
        // One more than the page, to learn whether another follows.
        let rows = chain.agency_licences(&agency, before, limit + 1)?;
        let mut items = Vec::with_capacity(limit.min(rows.len()));
        for (_, id) in rows.iter().take(limit) {
            let licence: Option<lichen_contracts::model::Licence> =
                chain.entry(&StateKey::Licence(id.clone()))?;
            if let Some(licence) = licence {
                items.push(views::licence_to_json(&licence));
            }
        }
        let next_cursor = (rows.len() > limit).then(|| {
            let at = rows[limit - 1].0;
            format!("{}.{}", at.height, at.index)
        });
        Ok(Json(ListPage { items, next_cursor }))
    })
    .await
}

/// A `<height>.<index>` cursor.
fn location_cursor(text: &str) -> ApiResult<lichen_storage::TxLocation> {
    text.split_once('.')
        .and_then(|(h, i)| {
            Some(lichen_storage::TxLocation {
                height: h.parse().ok()?,
                index: i.parse().ok()?,
            })
        })
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_cursor",
                format!(
                    "cursor must be <height>.<index> as a page's next_cursor gives it, got '{text}'"
                ),
            )
        })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AtHeight {
    /// Build the proof at this height (default: the latest), within the kept state window.
    height: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PresentationQuery {
    /// Build the proof at this height (default: the latest), within the kept state window.
    height: Option<u64>,
    /// A compact presentation at the latest trust package's checkpoint instead.
    #[serde(default)]
    compact: bool,
}

pub(super) fn at_height(
    query: Result<Query<AtHeight>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Option<u64>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    Ok(q.height)
}

#[utoipa::path(
    get,
    path = "/v1/licences/{id}/presentation",
    tag = "records",
    summary = "A presentation of a licence (record, state proof, certified header)",
    params(
        ("id" = String, Path, description = "The licence id"),
        ("height" = Option<u64>, Query, description = "Build the proof at this height (default: the latest), within the kept state window"),
        ("compact" = Option<bool>, Query, description = "A compact presentation at the latest trust package's checkpoint"),
    ),
    responses(
        (status = 200, description = "Binary by default; with `Accept: application/json`, `{presentation (hex), size, licence, height, status_as_of_ms, status_as_of, set_changes}`", content(
            (Binary = "application/octet-stream"),
            (Object = "application/json"),
        )),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        (status = 410, description = "The state at that height is no longer kept (`pruned`)", body = ErrorResponse),
        (status = 409, description = "Not in the checkpoint (`not_in_checkpoint`) or no certified block yet", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn get_presentation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PresentationQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let chain = state.node.chain.clone();
    if query.compact {
        if query.height.is_some() {
            return Err(ApiError::bad_request(
                "bad_query",
                "a compact presentation is always at the latest trust package's checkpoint: drop 'height'",
            ));
        }
        let (c, package) = blocking(move || Ok(chain.compact_presentation(&id, now_ms())?)).await?;
        let bytes = c.to_bytes();
        if wants_json(&headers) {
            return Ok(Json(json!({
                "presentation": views::hex_string(&bytes),
                "size": bytes.len(),
                "licence": views::licence_to_json(&c.licence),
                "checkpoint_height": c.checkpoint_height,
                "package_hash": package.state.package_hash.to_hex(),
            }))
            .into_response());
        }
        return Ok(binary(bytes));
    }
    let height = query.height;
    let p = blocking(move || Ok(chain.presentation(&id, height)?)).await?;
    let bytes = p.to_bytes();
    if wants_json(&headers) {
        let h = &p.certified.header;
        return Ok(Json(json!({
            "presentation": views::hex_string(&bytes),
            "size": bytes.len(),
            "licence": views::licence_to_json(&p.licence),
            "height": h.height,
            "status_as_of_ms": h.time_ms,
            "status_as_of": views::rfc3339_from_ms(h.time_ms),
            "set_changes": p.certified.set_changes.len(),
        }))
        .into_response());
    }
    Ok(binary(bytes))
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyQuery {
    document_hash: Option<String>,
    proof_age_max_ms: Option<u64>,
    /// `latest`: also check against this node's latest trust package.
    trust_package: Option<String>,
    /// `licence` or `evidence`: the kind of proof this desk accepts.
    expect: Option<String>,
    /// The presenting person's holder id and salt (64 hex digits), checked together.
    holder_id: Option<String>,
    holder_salt: Option<String>,
}

/// The fields of a JSON body other than `presentation`, as the query would give them.
fn verify_params(v: &Value) -> ApiResult<VerifyQuery> {
    let Some(obj) = v.as_object() else {
        return Err(ApiError::bad_request("bad_json", "expected a JSON object"));
    };
    let text = |field: &str| -> ApiResult<Option<String>> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(
                "bad_json",
                format!("field '{field}' must be a string"),
            )),
        }
    };
    if let Some(unknown) = obj.keys().find(|k| {
        ![
            "presentation",
            "document_hash",
            "proof_age_max_ms",
            "trust_package",
            "expect",
            "holder_id",
            "holder_salt",
        ]
        .contains(&k.as_str())
    }) {
        return Err(ApiError::bad_request(
            "bad_json",
            format!("unknown field '{unknown}'"),
        ));
    }
    Ok(VerifyQuery {
        document_hash: text("document_hash")?,
        proof_age_max_ms: obj.get("proof_age_max_ms").and_then(Value::as_u64),
        trust_package: text("trust_package")?,
        expect: text("expect")?,
        holder_id: text("holder_id")?,
        holder_salt: text("holder_salt")?,
    })
}

/// `POST /v1/verify`: a presentation, compact presentation or evidence receipt (binary with the
/// parameters in the query, or `{"presentation": hex, ...}` with them in the body) checked
/// against this chain's genesis anchor, and with `trust_package=latest` this node's latest
/// package; `expect` and `holder_id` + `holder_salt` as at a desk (`lichen verify`).
#[utoipa::path(
    post,
    path = "/v1/verify",
    tag = "records",
    summary = "Verify a presentation, compact presentation or evidence receipt",
    params(
        ("document_hash" = Option<String>, Query, pattern = "^[0-9a-fA-F]{64}$", description = "The chain hash of the document shown (64 hex digits)"),
        ("proof_age_max_ms" = Option<u64>, Query, description = "How old a certified header may be (default 24 h)"),
        ("trust_package" = Option<TrustPackageParam>, Query, description = "`latest`: also check against this node's latest trust package"),
        ("expect" = Option<ExpectParam>, Query, description = "`licence` or `evidence`: the kind of proof this desk accepts"),
        ("holder_id" = Option<String>, Query, description = "The presenting person's holder id (with holder_salt)"),
        ("holder_salt" = Option<String>, Query, pattern = "^[0-9a-fA-F]{64}$", description = "The holder salt, 64 hex digits (with holder_id)"),
    ),
    request_body(content((Binary = "application/octet-stream"), (VerifyJson = "application/json")), description = "The bytes (parameters in the query), or JSON with the parameters in the body"),
    responses(
        (status = 200, description = "The per-check report", body = views::VerifyReport),
        (status = 409, description = "`trust_package=latest` before any certified block", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn verify(
    State(state): State<AppState>,
    query: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<views::VerifyReport>> {
    let started = std::time::Instant::now();
    let status = state.node.status.clone();
    let result = verify_request(state, query, headers, body).await;
    let metrics = status.metrics();
    metrics
        .verify_latency
        .observe(started.elapsed().as_secs_f64());
    let verdict = match &result {
        Ok(Json(report)) => lichen_contracts::presentation::Verdict::ALL
            .iter()
            .map(|v| v.name())
            .find(|name| *name == report.verdict)
            .unwrap_or("other"),
        Err(_) => "error",
    };
    Metrics::inc(&metrics.verifications, "verdict", verdict);
    result
}

async fn verify_request(
    state: AppState,
    query: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<views::VerifyReport>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let body = read_body(body, state.body_bytes_max).await?;
    let (bytes, params) = if is_json_body(&headers) {
        if query != VerifyQuery::default() {
            return Err(ApiError::bad_request(
                "bad_query",
                "with a JSON body the parameters go in the body, not the query",
            ));
        }
        let v = json_body(&body)?;
        let params = verify_params(&v)?;
        let bytes = hex_field(&v, "presentation")?.ok_or_else(|| {
            ApiError::bad_request("bad_json", "missing field 'presentation' (hex bytes)")
        })?;
        (bytes, params)
    } else {
        (body.to_vec(), query)
    };
    let use_package = match params.trust_package.as_deref() {
        None => false,
        Some("latest") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_trust_package",
                format!(
                    "trust_package must be 'latest' (this node's newest package), not '{other}'"
                ),
            ));
        }
    };
    let expect = match params.expect.as_deref() {
        None => None,
        Some("licence") => Some(ProofKind::Licence),
        Some("evidence") => Some(ProofKind::Evidence),
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_expect",
                format!("expect must be 'licence' or 'evidence', not '{other}'"),
            ));
        }
    };
    let holder = match (params.holder_id, params.holder_salt.as_deref()) {
        (None, None) => None,
        (Some(id), Some(salt)) => {
            let salt = views::parse_hex(salt)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    ApiError::bad_request("bad_holder", "holder_salt must be 64 hex digits")
                })?;
            Some((id, salt))
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_holder",
                "holder_id and holder_salt go together",
            ));
        }
    };
    let (doc_hex, age) = (params.document_hash, params.proof_age_max_ms);
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "no presentation was sent",
        ));
    }
    let document = doc_hex
        .as_deref()
        .map(|h| parse_hash_param("document_hash", h))
        .transpose()?;
    let policy = Policy {
        now_ms: now_ms(),
        proof_age_max_ms: age.unwrap_or(PROOF_AGE_MAX_DEFAULT_MS),
    };
    let chain = state.node.chain.clone();
    let document = document.map(Document::Hash);
    fn desk(expect: Option<ProofKind>, holder: &Option<(String, [u8; 32])>) -> Desk<'_> {
        Desk {
            expect,
            holder: holder.as_ref().map(|(id, salt)| Holder {
                id: id.as_str(),
                salt: *salt,
            }),
        }
    }
    // A presentation of a recent height whose certificate was verified already costs a few
    // dozen hashes: verified here, on the async worker (handing it to the blocking pool costs
    // more than the work: two thread switches). Anything that may verify signatures or read a
    // trust package goes to the blocking pool, so that consensus and the network never wait
    // behind it.
    if !use_package {
        let trust = Trust::anchor(chain.trust_anchor());
        if let Some(report) =
            verify_at_desk_if_cheap(trust, &bytes, document, &policy, desk(expect, &holder))
        {
            return Ok(Json(views::VerifyReport::new(&report, &bytes)));
        }
    }
    let report = blocking(move || {
        let package = if use_package {
            Some(chain.trust_package(policy.now_ms)?)
        } else {
            None
        };
        let trust = Trust {
            anchor: chain.trust_anchor(),
            package: package.as_ref().map(|p| &p.state),
        };
        let report = verify_at_desk(trust, &bytes, document, &policy, desk(expect, &holder));
        Ok(views::VerifyReport::new(&report, &bytes))
    })
    .await?;
    Ok(Json(report))
}

#[utoipa::path(
    get,
    path = "/v1/evidence/{hash}",
    tag = "records",
    summary = "An anchored evidence entry",
    params(
        ("hash" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The document hash, 64 hex digits"),
    ),
    responses(
        (status = 200, description = "The anchored entry", body = EvidenceResponse),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn get_evidence(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> ApiResult<Json<EvidenceResponse>> {
    let hash = parse_hash_param("evidence hash", &hash)?;
    let chain = &state.node.chain;
    let evidence: Option<lichen_contracts::model::Evidence> =
        chain.entry(&StateKey::Evidence(hash))?;
    let evidence = evidence.ok_or(NodeError::NotFound {
        what: "evidence",
        id: hash.to_hex(),
    })?;
    Ok(Json(EvidenceResponse {
        evidence: views::EvidenceView::from(&evidence),
    }))
}

#[utoipa::path(
    get,
    path = "/v1/evidence/{hash}/receipt",
    tag = "records",
    summary = "An evidence receipt (entry, state proof, certified header)",
    params(
        ("hash" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The document hash, 64 hex digits"),
        ("height" = Option<u64>, Query, description = "Build the proof at this height (default: the latest), within the kept state window"),
    ),
    responses(
        (status = 200, description = "Binary by default; with `Accept: application/json`, `{receipt (hex), size, evidence, height}`", content(
            (Binary = "application/octet-stream"),
            (Object = "application/json"),
        )),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        (status = 410, description = "The state at that height is no longer kept (`pruned`)", body = ErrorResponse),
        (status = 409, description = "No certified block yet (`no_certified_block`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn get_receipt(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    query: Result<Query<AtHeight>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let hash = parse_hash_param("evidence hash", &hash)?;
    let height = at_height(query)?;
    let chain = state.node.chain.clone();
    let r = blocking(move || Ok(chain.receipt(&hash, height)?)).await?;
    let bytes = r.to_bytes();
    if wants_json(&headers) {
        let h = &r.certified.header;
        return Ok(Json(json!({
            "receipt": views::hex_string(&bytes),
            "size": bytes.len(),
            "evidence": views::evidence_to_json(&r.evidence),
            "height": h.height,
        }))
        .into_response());
    }
    Ok(binary(bytes))
}
