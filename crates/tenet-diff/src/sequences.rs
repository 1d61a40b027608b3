//! Sequence changes PostgreSQL refuses as written: a bound moved past the sequence's current
//! value ("RESTART value (1) cannot be less than MINVALUE (10)").

use tenet_catalog::model::SequenceOptions;
use tenet_catalog::quote::literal;

/// `alter` (an `ALTER ...;` that gives a sequence, or an identity column's, the options `new`)
/// as a block that restarts the sequence at its new START when the bound it counts away from
/// (MINVALUE going up, MAXVALUE going down) moves past its current value: it has given no value
/// on the new side of that bound, so none it gives from there was given before. `sequence` is
/// an SQL expression for the sequence's name. Any other change stays as it is.
pub fn restart_when_out_of_range(
    alter: &str,
    sequence: &str,
    old: &SequenceOptions,
    new: &SequenceOptions,
) -> String {
    let outside = if new.increment > 0 && new.min > old.min {
        format!("value < {}", new.min)
    } else if new.increment < 0 && new.max < old.max {
        format!("value > {}", new.max)
    } else {
        return alter.to_string();
    };
    let body = alter.trim_end().trim_end_matches(';');
    format!(
        "DO $tenet$\nDECLARE value bigint;\nBEGIN\n  \
         EXECUTE format('SELECT last_value FROM %s', {sequence}) INTO value;\n  \
         IF {outside} THEN\n    EXECUTE {};\n  ELSE\n    EXECUTE {};\n  END IF;\nEND\n$tenet$;",
        literal(&format!("{body} RESTART")),
        literal(body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(min: i64, max: i64, increment: i64) -> SequenceOptions {
        SequenceOptions {
            data_type: "bigint".into(),
            start: min,
            increment,
            min,
            max,
            cache: 1,
            cycle: false,
        }
    }

    #[test]
    fn only_a_bound_counted_away_from_is_guarded() {
        let alter = "ALTER SEQUENCE public.s START WITH 10 MINVALUE 10;";
        let guarded = restart_when_out_of_range(
            alter,
            "'public.s'",
            &options(1, 100, 1),
            &options(10, 100, 1),
        );
        assert!(guarded.contains("IF value < 10"), "{guarded}");
        assert!(guarded.contains("MINVALUE 10 RESTART'"), "{guarded}");
        // A lowered MAXVALUE of an ascending sequence is not: restarting would give values
        // again.
        let same =
            restart_when_out_of_range(alter, "'public.s'", &options(1, 100, 1), &options(1, 50, 1));
        assert_eq!(same, alter);
        let down = restart_when_out_of_range(
            alter,
            "'public.s'",
            &options(-100, -1, -1),
            &options(-100, -10, -1),
        );
        assert!(down.contains("IF value > -10"), "{down}");
    }
}
