//! HTTPS: load a certificate and key from PEM files, or generate (once) a private CA and a
//! server certificate signed by it with rcgen, kept in `<data-dir>/tls/` so that clients that
//! trust the CA keep working across restarts.

use anyhow::{anyhow, Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};

/// Paths of generated TLS material.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// The CA certificate clients must trust (e.g. `REQUESTS_CA_BUNDLE`, `--ca-file`).
    pub ca_cert: PathBuf,
    /// The server certificate chain (server cert, then CA).
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
}

/// Builds a rustls server configuration from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).with_context(|| format!("open {}", cert.display()))?,
    ))
    .collect::<Result<_, _>>()
    .with_context(|| format!("read certificates from {}", cert.display()))?;
    if certs.is_empty() {
        return Err(anyhow!("no certificate found in {}", cert.display()));
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).with_context(|| format!("open {}", key.display()))?,
    ))
    .with_context(|| format!("read private key from {}", key.display()))?
    .ok_or_else(|| anyhow!("no private key found in {}", key.display()))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("TLS certificate and key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Returns the self-signed material in `dir`, generating it if absent. `hosts` are the DNS
/// names and IP addresses the server certificate is valid for.
pub fn ensure_self_signed(dir: &Path, hosts: &[String]) -> Result<SelfSigned> {
    let out = SelfSigned {
        ca_cert: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
    };
    if out.ca_cert.exists() && out.cert.exists() && out.key.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Arca local CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let ca = ca_params.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "Arca server");
    params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    names.extend(hosts.iter().cloned());
    names.sort();
    names.dedup();
    for h in names {
        let san = match h.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(h.clone().try_into()?),
        };
        params.subject_alt_names.push(san);
    }
    let cert = params.signed_by(&server_key, &ca, &ca_key)?;

    std::fs::write(&out.ca_cert, ca.pem())?;
    std::fs::write(&out.cert, format!("{}{}", cert.pem(), ca.pem()))?;
    write_private(&out.key, &server_key.serialize_pem())?;
    write_private(&dir.join("ca-key.pem"), &ca_key.serialize_pem())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_loads_and_is_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = ensure_self_signed(dir.path(), &["registry.test".into()]).expect("generate");
        let pem = std::fs::read_to_string(&a.ca_cert).expect("read");
        assert!(pem.contains("BEGIN CERTIFICATE"));
        server_config(&a.cert, &a.key).expect("rustls accepts the generated pair");
        let b = ensure_self_signed(dir.path(), &[]).expect("reuse");
        assert_eq!(
            pem,
            std::fs::read_to_string(&b.ca_cert).expect("read"),
            "CA kept"
        );
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        let err = server_config(&empty, &empty).unwrap_err().to_string();
        assert!(err.contains("no certificate"), "{err}");
        let err = server_config(&dir.path().join("missing.pem"), &empty)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.pem"), "{err}");
    }
}
