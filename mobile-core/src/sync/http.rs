//! [`Transport`] over HTTPS with `ureq` (rustls, webpki roots, gzip).

use std::time::Duration;

use super::{Response, Transport, TransportError};

/// Largest answer read (a portfolio snapshot of a big portfolio fits).
const MAX_BODY: u64 = 256 * 1024 * 1024;

pub struct HttpTransport {
    agent: ureq::Agent,
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl HttpTransport {
    /// `wait` is how long the server has to start answering once the
    /// request is sent, and how long a transfer may stall: a slow network
    /// that keeps moving (a big first download on 2G) is given the time it
    /// needs, a server that hangs or a connection that stops is not.
    pub fn new(wait: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_recv_response(Some(wait))
            .timeout_per_read(Some(wait))
            .timeout_per_write(Some(wait))
            .timeout_connect(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            .user_agent(concat!("sotay-core/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpTransport {
            agent: config.into(),
        }
    }
}

fn failed(e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_) => TransportError::NotSent(e.to_string()),
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            TransportError::NotSent(e.to_string())
        }
        ureq::Error::Timeout(_) => TransportError::TimedOut(e.to_string()),
        ureq::Error::Io(ref io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::HostUnreachable
            ) =>
        {
            TransportError::NotSent(e.to_string())
        }
        other => TransportError::NoAnswer(other.to_string()),
    }
}

fn answer(mut r: ureq::http::Response<ureq::Body>) -> Result<Response, TransportError> {
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => TransportError::TimedOut(e.to_string()),
            // The answer had begun: whatever broke, the request was sent.
            other => TransportError::NoAnswer(other.to_string()),
        })?;
    Ok(Response { status, body })
}

impl Transport for HttpTransport {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.call().map_err(failed)?)
    }

    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let mut req = self
            .agent
            .post(url)
            .header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send(body).map_err(failed)?)
    }

    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let mut req = self.agent.put(url).header("Content-Type", content_type);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send(body).map_err(failed)?)
    }
}
