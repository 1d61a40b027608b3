//! Passwords never show: URLs, key=value strings, and the Display of errors about them.

use tenet_pg::redact;

#[test]
fn url_passwords_are_hidden() {
    let cases = [
        (
            "postgres://alice:s3cret@db.example.com:5432/app",
            "postgres://alice:***@db.example.com:5432/app",
        ),
        (
            "postgresql://alice:s3cret@db/app?sslmode=require",
            "postgresql://alice:***@db/app?sslmode=require",
        ),
        ("postgresql://alice@db/app", "postgresql://alice@db/app"),
        ("postgresql://db/app", "postgresql://db/app"),
        (
            "postgresql:///app?host=/var/run/postgresql",
            "postgresql:///app?host=/var/run/postgresql",
        ),
        (
            "postgresql://alice:s3cret@%2Fvar%2Frun%2Fpostgresql/app",
            "postgresql://alice:***@%2Fvar%2Frun%2Fpostgresql/app",
        ),
        (
            "postgresql://alice@db/app?password=s3cret&sslmode=disable",
            "postgresql://alice@db/app?password=***&sslmode=disable",
        ),
        (
            "postgresql://alice@db/app?sslmode=disable&pass%77ord=s3cret",
            "postgresql://alice@db/app?sslmode=disable&pass%77ord=***",
        ),
        (
            "postgres://alice:s3%40cret@db/app",
            "postgres://alice:***@db/app",
        ),
        (
            "postgresql://alice:s3cret@h1:5432,h2:5433/app",
            "postgresql://alice:***@h1:5432,h2:5433/app",
        ),
        (
            "postgresql://alice:s3cret@[::1]:5432/app",
            "postgresql://alice:***@[::1]:5432/app",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(redact(input), expected, "redacting {input}");
    }
}

#[test]
fn unparsable_urls_hide_everything_that_could_be_a_password() {
    // Unencoded '@', '/', '?' in the password: more may be hidden, but never less.
    for input in [
        "postgres://alice:s3@cret@db/app",
        "postgres://alice:s3/cr@et@db/app",
        "postgres://alice:s3?cret@db/app",
        "postgres://alice:s3@c?ret@db/app",
        "postgres://alice:s3:cret@db/app",
    ] {
        let out = redact(input);
        assert!(
            !out.contains("s3") && !out.contains("cret"),
            "{input} -> {out}"
        );
        assert!(out.starts_with("postgres://alice:***@"), "{input} -> {out}");
    }
}

#[test]
fn key_value_passwords_are_hidden() {
    let cases = [
        (
            "host=db user=alice password=s3cret dbname=app",
            "host=db user=alice password=*** dbname=app",
        ),
        ("password='s3 cr\\'et' host=db", "password=*** host=db"),
        ("host=db password = s3cret", "host=db password = ***"),
        (
            "user=password dbname=password",
            "user=password dbname=password",
        ),
        ("host=db sslpassword=s3cret", "host=db sslpassword=***"),
        ("password='never closed s3cret", "password=***"),
        (
            "host=/var/run/postgresql dbname=app",
            "host=/var/run/postgresql dbname=app",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(redact(input), expected, "redacting {input}");
    }
}

#[test]
fn bad_urls_fail_without_showing_the_password() {
    for url in [
        "postgres://alice:s3cret@db:notaport/app",
        "postgres://alice:s3cret@db/app?nosuchoption=1",
        "host=db password=s3cret nosuchoption=1",
        "host=db password='s3cret",
    ] {
        let err = tenet_pg::Server::from_url(url).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, tenet_pg::PgError::BadUrl { .. }),
            "{url}: {err:?}"
        );
        assert_eq!(err.exit_code(), 2);
        assert!(!msg.contains("s3cret"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
    assert!(matches!(
        tenet_pg::Server::from_url("  "),
        Err(tenet_pg::PgError::BadUrl { .. })
    ));
}
