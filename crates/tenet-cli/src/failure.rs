//! A command's failure: the message for the user and the exit code it maps to.

pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<tenet_catalog::Error> for Failure {
    fn from(e: tenet_catalog::Error) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<tenet_pg::PgError> for Failure {
    fn from(e: tenet_pg::PgError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure {
            code: 3,
            message: e.to_string(),
        }
    }
}
