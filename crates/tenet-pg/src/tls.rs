//! TLS on rustls (ring; no OpenSSL): libpq's certificate checks, client certificates, and the
//! `tls-server-end-point` data SCRAM-SHA-256-PLUS binds to.
//!
//! A rustls configuration is built once per process for each combination of settings (files
//! are read once); the system trust store is loaded only for `sslrootcert=system`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use postgres::Socket;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// libpq's `sslmode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub(crate) fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// What the server's certificate is checked against.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Roots {
    File(PathBuf),
    /// The platform's trust store (`sslrootcert=system`).
    System,
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Verify {
    /// Nothing (libpq's `require` without a root certificate): encryption only.
    Nothing,
    /// The chain up to a trusted root (`verify-ca`, and `require` with a root certificate).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// Everything a rustls client configuration depends on.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct TlsSettings {
    pub(crate) verify: Verify,
    pub(crate) roots: Option<Roots>,
    /// Client certificate chain and private key.
    pub(crate) client: Option<(PathBuf, PathBuf)>,
    pub(crate) sni: bool,
    pub(crate) tls12: bool,
    pub(crate) tls13: bool,
}

/// TLS as one server's connections use it.
#[derive(Clone, Debug)]
pub(crate) struct Tls {
    pub(crate) mode: SslMode,
    /// `sslnegotiation=direct`: TLS from the first byte, no SSLRequest.
    pub(crate) direct: bool,
    /// Present when TLS may be tried (a TCP host and a mode other than disable).
    config: Option<Arc<ClientConfig>>,
    verify_name: bool,
}

impl Tls {
    /// No TLS (sslmode=disable, or Unix sockets only, where libpq never uses TLS).
    pub(crate) fn off() -> Tls {
        Tls {
            mode: SslMode::Disable,
            direct: false,
            config: None,
            verify_name: false,
        }
    }

    pub(crate) fn new(mode: SslMode, direct: bool, settings: &TlsSettings) -> Result<Tls, String> {
        Ok(Tls {
            mode,
            direct,
            config: Some(client_config(settings)?),
            verify_name: settings.verify == Verify::Full,
        })
    }

    /// The effective mode: disable when TLS is never tried.
    pub(crate) fn mode(&self) -> SslMode {
        if self.config.is_none() {
            SslMode::Disable
        } else {
            self.mode
        }
    }

    /// A connector for one connection attempt.
    pub(crate) fn connector(&self) -> Option<RustlsConnect> {
        self.config.as_ref().map(|config| RustlsConnect {
            config: config.clone(),
            verify_name: self.verify_name,
            handshake_started: Arc::new(AtomicBool::new(false)),
        })
    }
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The rustls configuration for these settings, built on first use and then shared.
fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, String> {
    static CACHE: OnceLock<Mutex<HashMap<TlsSettings, Arc<ClientConfig>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(config) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(settings)
    {
        return Ok(config.clone());
    }
    let config = Arc::new(build(settings)?);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(settings.clone(), config.clone());
    Ok(config)
}

fn build(settings: &TlsSettings) -> Result<ClientConfig, String> {
    let provider = provider();
    let mut versions = Vec::new();
    if settings.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if settings.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match (settings.verify, &settings.roots) {
        (Verify::Nothing, _) | (_, None) => Arc::new(AcceptAnyCertificate(provider.clone())),
        (Verify::Chain, Some(roots)) => Arc::new(ChainOnly(webpki(roots, &provider)?)),
        (Verify::Full, Some(roots)) => webpki(roots, &provider)?,
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &settings.client {
        Some((cert, key)) => builder
            .with_client_auth_cert(read_certificates(cert, "sslcert")?, read_key(key)?)
            .map_err(|e| {
                format!(
                    "sslcert {} and sslkey {} do not go together: {e}",
                    cert.display(),
                    key.display()
                )
            })?,
        None => builder.with_no_client_auth(),
    };
    config.enable_sni = settings.sni;
    // What libpq 17 sends; required by servers that accept sslnegotiation=direct.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(config)
}

fn webpki(
    roots: &Roots,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let (added, _) =
                store.add_parsable_certificates(read_certificates(path, "sslrootcert")?);
            if added == 0 {
                return Err(format!(
                    "sslrootcert {} holds no usable certificate",
                    path.display()
                ));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("sslrootcert=system: no trusted root certificates found on this system (install ca-certificates, or point SSL_CERT_FILE at a bundle)".to_owned());
            }
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| format!("cannot use the root certificates: {e}"))
}

fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        let encrypted = std::fs::read_to_string(path)
            .map(|t| t.contains("ENCRYPTED"))
            .unwrap_or(false);
        if encrypted {
            format!(
                "sslkey {} is encrypted, which is not supported: decrypt it (openssl pkey -in KEY -out KEY.plain)",
                path.display()
            )
        } else {
            format!("cannot read sslkey {}: {e}", path.display())
        }
    })
}

/// libpq without a root certificate: any certificate, but the handshake signatures are still
/// checked (so the certificate hash channel binding relies on is the server's).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked. webpki
/// checks the name last, so "not valid for name" means everything else passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The `postgres` crate's hook for TLS: one per connection attempt.
#[derive(Clone)]
pub(crate) struct RustlsConnect {
    config: Arc<ClientConfig>,
    verify_name: bool,
    handshake_started: Arc<AtomicBool>,
}

impl RustlsConnect {
    /// Whether the server agreed to TLS and a handshake began (libpq's "SSL in use", for
    /// `prefer`'s retry without TLS when the server then rejects the connection).
    pub(crate) fn handshake_started(&self) -> bool {
        self.handshake_started.load(Ordering::Relaxed)
    }
}

impl MakeTlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type TlsConnect = RustlsHandshake;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsHandshake> {
        let name = match ServerName::try_from(domain.to_owned()) {
            Ok(name) => name,
            Err(_) if self.verify_name && !domain.is_empty() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the host name \"{domain}\" cannot be checked against a certificate (sslmode=verify-full)"),
                ))
            }
            // The name is not checked (or this is a Unix socket, where TLS is never used).
            Err(_) => ServerName::IpAddress(Ipv4Addr::UNSPECIFIED.into()),
        };
        Ok(RustlsHandshake {
            config: self.config.clone(),
            name,
            started: self.handshake_started.clone(),
        })
    }
}

pub(crate) struct RustlsHandshake {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    started: Arc<AtomicBool>,
}

impl TlsConnect<Socket> for RustlsHandshake {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            self.started.store(true, Ordering::Relaxed);
            let stream = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await?;
            Ok(RustlsStream(stream))
        })
    }
}

pub(crate) struct RustlsStream(tokio_rustls::client::TlsStream<Socket>);

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl TlsStream for RustlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|cert| server_end_point(cert))
            .map_or_else(ChannelBinding::none, ChannelBinding::tls_server_end_point)
    }
}

/// RFC 5929 `tls-server-end-point`: the server certificate hashed with the hash of its own
/// signature algorithm, SHA-256 in place of MD5 and SHA-1. `None` for algorithms without one
/// (Ed25519, RSA-PSS), which PostgreSQL cannot bind to either.
pub(crate) fn server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01]; // 1.2.840.113549.1.1
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04]; // 1.2.840.10045.4
    const DSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03]; // 1.2.840.10040.4.3
    const NIST_SIG: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03]; // 2.16.840.1.101.3.4.3
    enum Hash {
        Sha224,
        Sha256,
        Sha384,
        Sha512,
    }
    let oid = signature_algorithm(cert)?;
    let hash = if let Some(last) = oid.strip_prefix(RSA) {
        match last {
            [4] | [5] | [11] => Hash::Sha256, // md5, sha1, sha256 WithRSAEncryption
            [12] => Hash::Sha384,
            [13] => Hash::Sha512,
            [14] => Hash::Sha224,
            _ => return None,
        }
    } else if let Some(rest) = oid.strip_prefix(ECDSA) {
        match rest {
            [1] | [3, 2] => Hash::Sha256, // ecdsa-with-SHA1, -SHA256
            [3, 1] => Hash::Sha224,
            [3, 3] => Hash::Sha384,
            [3, 4] => Hash::Sha512,
            _ => return None,
        }
    } else if oid == DSA_SHA1 {
        Hash::Sha256
    } else if let Some(last) = oid.strip_prefix(NIST_SIG) {
        match last {
            [1] => Hash::Sha224, // dsa-with-sha224
            [2] => Hash::Sha256,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(match hash {
        Hash::Sha224 => sha2::Sha224::digest(cert).to_vec(),
        Hash::Sha256 => sha2::Sha256::digest(cert).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(cert).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(cert).to_vec(),
    })
}

/// The OID of `Certificate.signatureAlgorithm`: `SEQUENCE { tbsCertificate SEQUENCE,
/// signatureAlgorithm SEQUENCE { OID, ... }, signature BIT STRING }`.
fn signature_algorithm(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    let (certificate, _) = der_element(cert, SEQUENCE)?;
    let (_tbs, rest) = der_element(certificate, SEQUENCE)?;
    let (algorithm, _) = der_element(rest, SEQUENCE)?;
    let (oid, _) = der_element(algorithm, OID)?;
    Some(oid)
}

/// One DER element with the given tag: its contents and what follows it.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (&rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["db.test".to_owned()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn end_point_hash_follows_the_signature_algorithm() {
        let p256 = self_signed(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(
            server_end_point(&p256),
            Some(sha2::Sha256::digest(&p256).to_vec())
        );
        let p384 = self_signed(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(
            server_end_point(&p384),
            Some(sha2::Sha384::digest(&p384).to_vec())
        );
        let ed = self_signed(&rcgen::PKCS_ED25519);
        assert_eq!(server_end_point(&ed), None);
        assert_eq!(server_end_point(b"\x30\x03\x02\x01"), None);
        assert_eq!(server_end_point(&[]), None);
    }

    #[test]
    fn modes_round_trip() {
        for m in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            assert_eq!(SslMode::parse(m).unwrap().as_str(), m);
        }
        assert_eq!(SslMode::parse("verify_full"), None);
    }
}
