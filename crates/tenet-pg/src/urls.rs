//! Building libpq-compatible URLs from connection settings (for child processes).

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use postgres::config::{ChannelBinding, Host, LoadBalanceHosts, TargetSessionAttrs};
use postgres::Config;

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(bytes: &[u8]) -> String {
    percent_encode(bytes, COMPONENT).to_string()
}

/// A `postgresql://` URL with the settings of `config`, the TLS parameters `pass_on` and the
/// given database, password included. Unix-socket hosts go into the `host=` query parameter
/// (percent-encoded), TCP hosts into the authority; libpq and Tenet understand the result.
pub(crate) fn to_url(
    config: &Config,
    pass_on: &[(&'static str, String)],
    database: &str,
) -> String {
    let mut url = String::from("postgresql://");
    let user = config.get_user();
    let password = config.get_password();
    if user.is_some() || password.is_some() {
        if let Some(user) = user {
            url.push_str(&enc(user.as_bytes()));
        }
        if let Some(password) = password {
            url.push(':');
            url.push_str(&enc(password));
        }
        url.push('@');
    }

    let hosts = config.get_hosts();
    let ports = config.get_ports();
    let hostaddrs = config.get_hostaddrs();
    let any_socket = hosts.iter().any(|h| !matches!(h, Host::Tcp(_)));
    let mut params: Vec<(&str, String)> = Vec::new();

    if !any_socket && hostaddrs.is_empty() && !hosts.is_empty() {
        let parts: Vec<String> = hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let name = match host {
                    Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
                    Host::Tcp(name) => enc(name.as_bytes()),
                    #[allow(unreachable_patterns)]
                    _ => String::new(),
                };
                match ports.get(i).or(if ports.len() == 1 {
                    ports.first()
                } else {
                    None
                }) {
                    Some(port) => format!("{name}:{port}"),
                    None => name,
                }
            })
            .collect();
        url.push_str(&parts.join(","));
    } else {
        if !hosts.is_empty() {
            let joined = hosts.iter().map(host_text).collect::<Vec<_>>().join(",");
            params.push(("host", enc(joined.as_bytes())));
        }
        if !hostaddrs.is_empty() {
            let joined = hostaddrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",");
            params.push(("hostaddr", enc(joined.as_bytes())));
        }
        if !ports.is_empty() {
            let joined = ports
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",");
            params.push(("port", enc(joined.as_bytes())));
        }
    }

    url.push('/');
    url.push_str(&enc(database.as_bytes()));

    for (key, value) in pass_on {
        params.push((key, enc(value.as_bytes())));
    }
    if let Some(timeout) = config.get_connect_timeout() {
        params.push(("connect_timeout", timeout.as_secs().max(1).to_string()));
    }
    if let Some(name) = config.get_application_name() {
        params.push(("application_name", enc(name.as_bytes())));
    }
    if let Some(options) = config.get_options() {
        params.push(("options", enc(options.as_bytes())));
    }
    match config.get_target_session_attrs() {
        TargetSessionAttrs::ReadWrite => params.push(("target_session_attrs", "read-write".into())),
        TargetSessionAttrs::ReadOnly => params.push(("target_session_attrs", "read-only".into())),
        _ => {}
    }
    if config.get_load_balance_hosts() == LoadBalanceHosts::Random {
        params.push(("load_balance_hosts", "random".into()));
    }
    match config.get_channel_binding() {
        ChannelBinding::Disable => params.push(("channel_binding", "disable".into())),
        ChannelBinding::Require => params.push(("channel_binding", "require".into())),
        _ => {}
    }
    for (i, (key, value)) in params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(key);
        url.push('=');
        url.push_str(value);
    }
    url
}

/// A host as libpq would write it in `host=`.
pub(crate) fn host_text(host: &Host) -> String {
    match host {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(path) => path.to_string_lossy().into_owned(),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::to_url;
    use postgres::config::Host;
    use postgres::Config;
    use std::str::FromStr;
    use std::time::Duration;

    fn round_trip(config: &Config, db: &str) -> Config {
        let url = to_url(config, &[], db);
        Config::from_str(&url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn tcp_hosts_with_awkward_credentials() {
        let mut c = Config::new();
        c.host("db.example.com")
            .port(6543)
            .user("al ice@corp")
            .password("p@ss:w/o?rd#%&=")
            .connect_timeout(Duration::from_secs(7))
            .application_name("tenet test");
        let url = to_url(&c, &[], "my db");
        assert_eq!(
            url,
            "postgresql://al%20ice%40corp:p%40ss%3Aw%2Fo%3Frd%23%25%26%3D@db.example.com:6543/\
             my%20db?connect_timeout=7&application_name=tenet%20test"
        );
        let back = round_trip(&c, "my db");
        assert_eq!(back.get_user(), Some("al ice@corp"));
        assert_eq!(back.get_password(), Some(&b"p@ss:w/o?rd#%&="[..]));
        assert_eq!(back.get_dbname(), Some("my db"));
        assert_eq!(back.get_hosts(), &[Host::Tcp("db.example.com".into())]);
        assert_eq!(back.get_ports(), &[6543]);
        assert_eq!(back.get_application_name(), Some("tenet test"));
    }

    #[test]
    fn ipv6_and_several_hosts() {
        let mut c = Config::new();
        c.host("::1").host("h2").port(5432).port(5433).user("u");
        let url = to_url(&c, &[], "d");
        assert_eq!(url, "postgresql://u@[::1]:5432,h2:5433/d");
        let back = round_trip(&c, "d");
        assert_eq!(back.get_hosts(), c.get_hosts());
        assert_eq!(back.get_ports(), &[5432, 5433]);
    }

    #[test]
    fn socket_directories_go_into_the_query() {
        let mut c = Config::new();
        c.host_path("/tmp/tenet pg,x").port(5432).user("postgres");
        let url = to_url(&c, &[], "d");
        assert_eq!(
            url,
            "postgresql://postgres@/d?host=%2Ftmp%2Ftenet%20pg%2Cx&port=5432"
        );
        let back = round_trip(&c, "d");
        assert_eq!(back.get_hosts(), c.get_hosts());
        assert_eq!(back.get_ports(), &[5432]);
    }

    #[test]
    fn no_user_no_host() {
        let c = Config::new();
        assert_eq!(to_url(&c, &[], "d"), "postgresql:///d");
    }
}
