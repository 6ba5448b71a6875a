//! Which submissions one shard of a batch grades, and which shard this process is, from a flag
//! or from the environment a cluster engine sets (a Kubernetes indexed Job, a Slurm job array).
//!
//! The slices are made from the submissions' file names sorted bytewise, dealt round-robin:
//! position `k` of the sorted list belongs to shard `k % N`. Sorting makes the slicing
//! independent of the order the folder lists its files in; dealing makes slices differ by at
//! most one submission (a hash of the name would be stable under added files too, but leaves
//! shards of a small batch uneven, and a batch is graded from one fixed folder anyway: each
//! partial gradebook records a digest of the whole list, and `merge` refuses parts that saw
//! different folders). Indices are 0-based, as `JOB_COMPLETION_INDEX` is.

use std::fmt;

/// Why a shard could not be read or placed, naming the flag or variable it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `N` was 0.
    #[error("the number of shards must be at least 1")]
    NoShards,
    /// `I` was not below `N`.
    #[error(
        "shard index {index} is out of range: with {count} shards the indices are 0 to {} (0-based)",
        .count - 1
    )]
    OutOfRange {
        /// The index given (0-based).
        index: usize,
        /// The number of shards.
        count: usize,
    },
    /// The text was not `I/N`.
    #[error("`{0}` is not I/N (e.g. 0/4 for the first of 4 shards)")]
    NotIOverN(String),
    /// A number (of the text or of a variable) was not a whole number.
    #[error("{what} `{text}` is not a whole number")]
    NotANumber {
        /// Which number (`the shard index`, `SLURM_ARRAY_TASK_ID=x`).
        what: String,
        /// The text read.
        text: String,
    },
    /// Both a Kubernetes and a Slurm index were set.
    #[error(
        "both JOB_COMPLETION_INDEX (Kubernetes) and SLURM_ARRAY_TASK_ID (Slurm) are set: \
         pass the shard explicitly with --shard I/N"
    )]
    TwoEngines,
    /// Neither engine's index was set.
    #[error(
        "--shard-from-env: neither JOB_COMPLETION_INDEX (Kubernetes indexed Job) nor \
         SLURM_ARRAY_TASK_ID (Slurm job array) is set"
    )]
    NoEngine,
    /// An index was set but the number of shards is given nowhere.
    #[error("{0}")]
    NoCount(&'static str),
    /// `SLURM_ARRAY_TASK_COUNT` and `--shards` differ.
    #[error("SLURM_ARRAY_TASK_COUNT={env} but --shards {flag}: they must agree")]
    CountsDisagree {
        /// The variable's value.
        env: usize,
        /// The flag's value.
        flag: usize,
    },
    /// A Slurm task id that the array's start and step do not reach.
    #[error(
        "SLURM_ARRAY_TASK_ID={id} is not in the array that starts at SLURM_ARRAY_TASK_MIN={min} \
         with step {step}"
    )]
    OffTheArray {
        /// `SLURM_ARRAY_TASK_ID`.
        id: usize,
        /// `SLURM_ARRAY_TASK_MIN`.
        min: usize,
        /// `SLURM_ARRAY_TASK_STEP`.
        step: usize,
    },
    /// The shard an engine's variables give is refused: `origin` says which variables.
    #[error("{origin}: {source}")]
    FromEnvironment {
        /// The variables and values the index came from.
        origin: String,
        /// Why the shard is refused.
        source: Box<ShardError>,
    },
    /// `--shard` was refused.
    #[error("--shard: {0}")]
    Flag(Box<ShardError>),
}

/// The `index`-th of `count` slices (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard's position, from 0.
    pub index: usize,
    /// How many shards the batch has.
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole batch as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`ShardError`] when `count` is 0 or `index` is not below it.
    pub fn new(index: usize, count: usize) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Reads `I/N`, as `--shard 2/4` gives it.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| ShardError::NotIOverN(text.to_string()))?;
        let index = parse_number(index.trim(), "the shard index")?;
        let count = parse_number(count.trim(), "the number of shards")?;
        Shard::new(index, count)
    }

    /// Whether position `k` of the sorted submissions belongs to this shard.
    pub fn holds(&self, position: usize) -> bool {
        position % self.count == self.index
    }

    /// How many of `total` submissions this shard holds.
    pub fn size_of_slice(&self, total: usize) -> usize {
        (total + self.count - 1 - self.index) / self.count
    }

    /// The positions of this shard's submissions in a batch of `total`.
    pub fn positions(&self, total: usize) -> impl Iterator<Item = usize> + '_ {
        (self.index..total).step_by(self.count)
    }
}

fn parse_number(text: &str, what: &str) -> Result<usize, ShardError> {
    text.parse::<usize>().map_err(|_| ShardError::NotANumber {
        what: what.to_string(),
        text: text.to_string(),
    })
}

/// The shard an engine's task runs, from its environment (`lookup` reads a variable):
/// - Kubernetes indexed Job: `JOB_COMPLETION_INDEX` (0-based), the total from `--shards`
///   (the Job's `completions`);
/// - Slurm job array: `SLURM_ARRAY_TASK_ID`, normalised by `SLURM_ARRAY_TASK_MIN` and
///   `SLURM_ARRAY_TASK_STEP` (so `--array=1-4` and `--array=0-6:2` work as well as `0-3`), the
///   total from `SLURM_ARRAY_TASK_COUNT` or `--shards`.
pub fn from_env(
    lookup: impl Fn(&str) -> Option<String>,
    shards_flag: Option<usize>,
) -> Result<Shard, ShardError> {
    let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let number = |name: &str| -> Result<Option<usize>, ShardError> {
        var(name)
            .map(|v| parse_number(v.trim(), &format!("{name}={v}")))
            .transpose()
    };
    let kubernetes = number("JOB_COMPLETION_INDEX")?;
    let slurm = number("SLURM_ARRAY_TASK_ID")?;
    match (kubernetes, slurm) {
        (Some(_), Some(_)) => Err(ShardError::TwoEngines),
        (Some(index), None) => {
            let count = shards_flag.ok_or(ShardError::NoCount(
                "JOB_COMPLETION_INDEX gives only this task's index: pass --shards N \
                 (the Job's `completions`)",
            ))?;
            Shard::new(index, count).map_err(|e| ShardError::FromEnvironment {
                origin: format!("JOB_COMPLETION_INDEX={index}"),
                source: Box::new(e),
            })
        }
        (None, Some(id)) => {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let count = match (number("SLURM_ARRAY_TASK_COUNT")?, shards_flag) {
                (Some(env), Some(flag)) if env != flag => {
                    return Err(ShardError::CountsDisagree { env, flag })
                }
                (Some(count), _) | (None, Some(count)) => count,
                (None, None) => return Err(ShardError::NoCount(
                    "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: pass --shards N",
                )),
            };
            if id < min || (id - min) % step != 0 {
                return Err(ShardError::OffTheArray { id, min, step });
            }
            let index = (id - min) / step;
            Shard::new(index, count).map_err(|e| ShardError::FromEnvironment {
                origin: format!(
                    "SLURM_ARRAY_TASK_ID={id} (index {index} from SLURM_ARRAY_TASK_MIN={min})"
                ),
                source: Box::new(e),
            })
        }
        (None, None) => Err(ShardError::NoEngine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn shards_are_read_from_i_over_n() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 0 / 1 "), Ok(Shard::WHOLE));
        let not_a_number = |what: &str, text: &str| ShardError::NotANumber {
            what: what.into(),
            text: text.into(),
        };
        for (bad, error) in [
            ("4/4", ShardError::OutOfRange { index: 4, count: 4 }),
            ("1/0", ShardError::NoShards),
            ("x/4", not_a_number("the shard index", "x")),
            ("-1/4", not_a_number("the shard index", "-1")),
            ("3", ShardError::NotIOverN("3".into())),
            ("1/4/2", not_a_number("the number of shards", "4/2")),
        ] {
            assert_eq!(Shard::parse(bad), Err(error), "{bad}");
        }
        assert!(Shard::parse("4/4")
            .unwrap_err()
            .to_string()
            .contains("0 to 3"));
    }

    #[test]
    fn slices_cover_the_batch_once_and_differ_by_at_most_one() {
        for total in [0, 1, 5, 24, 25] {
            for count in 1..=6 {
                let mut seen = vec![0; total];
                let mut sizes = Vec::new();
                for index in 0..count {
                    let shard = Shard::new(index, count).unwrap();
                    let positions: Vec<usize> = shard.positions(total).collect();
                    assert_eq!(positions.len(), shard.size_of_slice(total));
                    assert!(positions.iter().all(|&k| shard.holds(k)));
                    positions.iter().for_each(|&k| seen[k] += 1);
                    sizes.push(positions.len());
                }
                assert!(seen.iter().all(|&n| n == 1), "{total} in {count}");
                let (min, max) = (sizes.iter().min(), sizes.iter().max());
                assert!(max.unwrap() - min.unwrap() <= 1, "{sizes:?}");
            }
        }
    }

    #[test]
    fn the_kubernetes_index_needs_the_total_from_a_flag() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert_eq!(from_env(&k8s, Some(4)), Ok(Shard { index: 3, count: 4 }));
        assert!(
            matches!(from_env(&k8s, None), Err(ShardError::NoCount(m)) if m.contains("--shards"))
        );
        assert_eq!(
            from_env(&k8s, Some(3)),
            Err(ShardError::FromEnvironment {
                origin: "JOB_COMPLETION_INDEX=3".into(),
                source: Box::new(ShardError::OutOfRange { index: 3, count: 3 })
            })
        );
        let bad = env(&[("JOB_COMPLETION_INDEX", "three")]);
        assert_eq!(
            from_env(bad, Some(4)),
            Err(ShardError::NotANumber {
                what: "JOB_COMPLETION_INDEX=three".into(),
                text: "three".into()
            })
        );
    }

    #[test]
    fn slurm_task_ids_are_normalised_by_the_array_start_and_step() {
        // (task id, array start, step) → shard index, of 4.
        for (id, min, step, index) in [("2", "0", "1", 2), ("4", "1", "1", 3), ("6", "0", "2", 3)] {
            let vars = env(&[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", min),
                ("SLURM_ARRAY_TASK_STEP", step),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ]);
            assert_eq!(from_env(vars, None), Ok(Shard { index, count: 4 }), "{id}");
        }
        let off_step = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            from_env(off_step, None),
            Err(ShardError::OffTheArray {
                id: 5,
                min: 0,
                step: 2
            })
        );
        let disagree = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            from_env(disagree, Some(5)),
            Err(ShardError::CountsDisagree { env: 4, flag: 5 })
        );
        let no_count = env(&[("SLURM_ARRAY_TASK_ID", "0")]);
        assert!(
            matches!(from_env(no_count, None), Err(ShardError::NoCount(m)) if m.contains("SLURM_ARRAY_TASK_COUNT"))
        );
    }

    #[test]
    fn no_engine_or_two_engines_is_an_error() {
        assert_eq!(from_env(env(&[]), Some(4)), Err(ShardError::NoEngine));
        assert!(ShardError::NoEngine
            .to_string()
            .contains("neither JOB_COMPLETION_INDEX"));
        let both = env(&[("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "0")]);
        assert_eq!(from_env(both, Some(4)), Err(ShardError::TwoEngines));
    }
}
