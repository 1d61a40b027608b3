//! Many users at once against the API on loopback: latency figures, and a check that no user
//! ever saw or changed another user's task.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Db, Isolation, NewTask, StatusChange, Task, APP_ROLE};

/// Connection options for the application role on the database `config` points at, with its
/// TLS mode.
pub fn app_options(config: &postgres::Config) -> PgConnectOptions {
    let options = PgConnectOptions::new()
        .username(APP_ROLE)
        .database(config.get_dbname().unwrap_or("postgres"))
        .port(config.get_ports().first().copied().unwrap_or(5432))
        .ssl_mode(match config.get_ssl_mode() {
            postgres::config::SslMode::Disable => PgSslMode::Disable,
            postgres::config::SslMode::Require => PgSslMode::Require,
            _ => PgSslMode::Prefer,
        });
    match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => options.host(host),
        Some(postgres::config::Host::Unix(path)) => options.socket(path),
        None => options,
    }
}

pub async fn app_pool(config: &postgres::Config, size: u32) -> Result<PgPool, String> {
    connect(app_options(config), size).await
}

/// A pool for the application role on the database `url` names, as `todo-api` takes it: TLS
/// included (`sslmode=require|verify-ca|verify-full`, `sslrootcert`).
pub async fn app_pool_at(url: &str, size: u32) -> Result<PgPool, String> {
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| format!("invalid database URL: {e}"))?;
    connect(options.username(APP_ROLE), size).await
}

async fn connect(options: PgConnectOptions, size: u32) -> Result<PgPool, String> {
    PgPoolOptions::new()
        .max_connections(size)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot connect as {APP_ROLE}: {e}"))
}

/// Users, each with `tasks_each` tasks, written directly (as the database owner).
pub fn seed(
    client: &mut postgres::Client,
    users: usize,
    tasks_each: usize,
) -> Result<Vec<Uuid>, String> {
    let ids: Vec<Uuid> = (0..users).map(|_| Uuid::new_v4()).collect();
    let mut tx = client.transaction().map_err(|e| e.to_string())?;
    for (i, id) in ids.iter().enumerate() {
        tx.execute(
            "insert into users (id, email) values ($1::text::uuid, $2)",
            &[&id.to_string(), &format!("user{i}@example.com")],
        )
        .map_err(|e| e.to_string())?;
        tx.execute(
            "insert into tasks (user_id, title) select $1::text::uuid, 'seeded ' || n from generate_series(1, $2::int) n",
            &[&id.to_string(), &(tasks_each as i32)],
        )
        .map_err(|e| e.to_string())?;
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(ids)
}

/// Serve the API on an ephemeral loopback port until the returned handle is aborted.
pub async fn serve(db: Db) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let handle = tokio::spawn(async move {
        axum::serve(listener, crate::router(db)).await.ok();
    });
    (addr, handle)
}

#[derive(Debug, Default)]
pub struct Report {
    pub isolation: Option<Isolation>,
    pub requests: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    /// Requests that failed for any reason but a refused cross-user access.
    pub errors: Vec<String>,
    /// A user saw, changed or deleted another user's task.
    pub violations: Vec<String>,
    /// Cross-user attempts correctly refused (404).
    pub refused: usize,
}

impl Report {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i]
    }
}

/// `requests` requests from `concurrency` clients, each request as a random user: mostly
/// listing their tasks, also creating, completing and deleting their own, and trying to
/// complete or delete someone else's (`victims`: tasks no owner touches during the run).
pub async fn run(
    addr: SocketAddr,
    users: &[Uuid],
    victims: &[(Uuid, Uuid)],
    requests: usize,
    concurrency: usize,
) -> Report {
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (client, base) = (client.clone(), base.clone());
        let users = users.to_vec();
        let victims = victims.to_vec();
        let count = requests / concurrency + usize::from(worker < requests % concurrency);
        workers.push(tokio::spawn(async move {
            let mut report = Report::default();
            let mut state = (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            for _ in 0..count {
                let user = users[(next() % users.len() as u64) as usize];
                let roll = next() % 100;
                let begun = Instant::now();
                let outcome = one_request(&client, &base, user, roll, &victims, &mut next).await;
                report.latencies.push(begun.elapsed());
                report.requests += 1;
                match outcome {
                    Outcome::Fine => {}
                    Outcome::Refused => report.refused += 1,
                    Outcome::Error(e) => report.errors.push(e),
                    Outcome::Violation(v) => report.violations.push(v),
                }
            }
            report
        }));
    }
    let mut total = Report::default();
    for w in workers {
        let r = w.await.expect("load worker");
        total.requests += r.requests;
        total.latencies.extend(r.latencies);
        total.errors.extend(r.errors);
        total.violations.extend(r.violations);
        total.refused += r.refused;
    }
    total.elapsed = started.elapsed();
    total
}

enum Outcome {
    Fine,
    Refused,
    Error(String),
    Violation(String),
}

/// The response when it succeeded; otherwise what went wrong, with the body (a 500 carries
/// the database's error).
async fn succeeded(
    what: &str,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response, String> {
    let response = sent.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(format!("{what}: HTTP {} {body:.200}", status.as_u16()))
}

async fn one_request(
    client: &reqwest::Client,
    base: &str,
    user: Uuid,
    roll: u64,
    victims: &[(Uuid, Uuid)],
    next: &mut impl FnMut() -> u64,
) -> Outcome {
    let id = user.to_string();
    let json_error = |e: reqwest::Error| format!("unreadable response: {e}");
    let result: Result<Outcome, String> = async {
        if roll < 80 {
            let sent = client
                .get(format!("{base}/tasks"))
                .header("x-user-id", &id)
                .send()
                .await;
            let tasks: Vec<Task> = succeeded("list", sent)
                .await?
                .json()
                .await
                .map_err(json_error)?;
            if let Some(t) = tasks.iter().find(|t| t.user_id != user) {
                return Ok(Outcome::Violation(format!(
                    "{user} saw task {} of {}",
                    t.id, t.user_id
                )));
            }
            return Ok(Outcome::Fine);
        }
        if roll < 90 {
            // Create, complete, delete a task of one's own.
            let sent = client
                .post(format!("{base}/tasks"))
                .header("x-user-id", &id)
                .json(&NewTask {
                    title: "load".into(),
                    description: None,
                })
                .send()
                .await;
            let task: Task = succeeded("create", sent)
                .await?
                .json()
                .await
                .map_err(json_error)?;
            if task.user_id != user {
                return Ok(Outcome::Violation(format!(
                    "{user} created a task owned by {}",
                    task.user_id
                )));
            }
            let sent = client
                .patch(format!("{base}/tasks/{}", task.id))
                .header("x-user-id", &id)
                .json(&StatusChange {
                    status: "done".into(),
                })
                .send()
                .await;
            succeeded("complete", sent).await?;
            let sent = client
                .delete(format!("{base}/tasks/{}", task.id))
                .header("x-user-id", &id)
                .send()
                .await;
            succeeded("delete", sent).await?;
            return Ok(Outcome::Fine);
        }
        // Someone else's task: complete it or delete it; both must find nothing.
        let (task, owner) = victims[(next() % victims.len() as u64) as usize];
        if owner == user {
            return Ok(Outcome::Fine);
        }
        let sent = if roll < 95 {
            client
                .patch(format!("{base}/tasks/{task}"))
                .header("x-user-id", &id)
                .json(&StatusChange {
                    status: "done".into(),
                })
                .send()
                .await
        } else {
            client
                .delete(format!("{base}/tasks/{task}"))
                .header("x-user-id", &id)
                .send()
                .await
        };
        let what = format!("{user} changing {owner}'s task {task}");
        let response = sent.map_err(|e| format!("{what}: {e}"))?;
        Ok(match response.status().as_u16() {
            404 => Outcome::Refused,
            // The change went through: a leak.
            code @ 200..=299 => Outcome::Violation(format!("{what}: HTTP {code}")),
            // Refused for another reason, or failed: not a leak, and not a pass either.
            code => {
                let body = response.text().await.unwrap_or_default();
                Outcome::Error(format!("{what}: HTTP {code} {body:.200}"))
            }
        })
    }
    .await;
    result.unwrap_or_else(Outcome::Error)
}
