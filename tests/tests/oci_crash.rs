//! Crash safety of chunked OCI uploads on the embedded default (SQLite + files), issue
//! "container images": the server is killed (SIGKILL) while a `PATCH` is streaming, restarted
//! on the same data directory, and the same upload URL continues from what was acknowledged —
//! the half-received chunk is not counted, the blob is invisible until the final `PUT`, and the
//! completed blob has the right digest and bytes.

use std::time::Duration;

use arca_tests::Server;
use futures::SinkExt;
use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};

const MIB: usize = 1024 * 1024;

fn pattern(n: usize) -> Vec<u8> {
    (0..n as u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
        .collect()
}

fn absolute(server: &Server, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        format!("{}{location}", server.base_url())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_chunk_then_the_same_upload_url_completes() {
    let mut server = Server::start().await.expect("start server");
    let key = server.key().to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let blob = pattern(9 * MIB + 17);
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
    let first = 3 * MIB;

    let r = http
        .post(server.url("/v2/demo/crash/blobs/uploads/"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();

    let r = http
        .patch(absolute(&server, &location))
        .bearer_auth(&key)
        .header("content-type", "application/octet-stream")
        .header("content-range", format!("0-{}", first - 1))
        .body(blob[..first].to_vec())
        .send()
        .await
        .expect("PATCH 1");
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);

    // The second chunk streams 1 MiB, then stalls; the server is killed meanwhile.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let url = absolute(&server, &location);
    let req = http
        .patch(&url)
        .bearer_auth(&key)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(rx));
    let inflight = tokio::spawn(async move { req.send().await });
    tx.send(Ok(blob[first..first + MIB].to_vec()))
        .await
        .expect("feed");
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.sigkill().expect("SIGKILL");
    let _ = tokio::time::timeout(Duration::from_secs(30), inflight).await;
    drop(tx);

    server
        .restart()
        .await
        .expect("restart on the same data dir");

    // Nothing is visible yet, and the session stands where it was acknowledged.
    let r = http
        .head(server.url(&format!("/v2/demo/crash/blobs/{digest}")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "no partial blob is visible"
    );
    let r = http
        .get(absolute(&server, &location))
        .bearer_auth(&key)
        .send()
        .await
        .expect("status");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()["range"].to_str().expect("range"),
        format!("0-{}", first - 1),
        "only the acknowledged chunk counts"
    );

    // The same URL continues and completes.
    let r = http
        .patch(absolute(&server, &location))
        .bearer_auth(&key)
        .header("content-type", "application/octet-stream")
        .header("content-range", format!("{first}-{}", blob.len() - 1))
        .body(blob[first..].to_vec())
        .send()
        .await
        .expect("PATCH rest");
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let sep = if location.contains('?') { '&' } else { '?' };
    let r = http
        .put(format!(
            "{}{sep}digest={digest}",
            absolute(&server, &location)
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let r = http
        .get(server.url(&format!("/v2/demo/crash/blobs/{digest}")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.expect("body").as_ref(), blob.as_slice());
}
