//! Custom events (`x-<module>:<event>`, see [`frinny_agent::catalogue::custom`]):
//! where the server keeps their declarations and the rules of declaring.
//!
//! - The `--events` file's declarations hold in every world, for the life
//!   of the process; nobody redefines them at run time (`FORBIDDEN`: the
//!   operator changes the file).
//! - A GM's `events:define` declares for the GM's world. Declaring a name
//!   the world already has replaces it; the module prefix is just the
//!   name's prefix (any GM of the world may declare under any prefix: the
//!   prefix keeps modules apart, the role decides who declares).
//! - A world holds at most `--max-custom-events` declarations
//!   (`TOO_MANY_EVENTS` beyond; a define is all or nothing). The file
//!   holds at most as many too.
//! - Embedded: the world's declarations live in this process. With
//!   `--redis`: in Redis ([`crate::cluster::events`]), so every instance
//!   honours a definition made on any of them, from the next event on;
//!   this process keeps the last copy it read, used while Redis is down.

use crate::app::AppState;
use crate::config::ConfigError;
use frinny_agent::catalogue::custom::{parse_list, CustomEventSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Why an `events:define` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefineError {
    /// Entry `index` names an event of the `--events` file.
    Reserved {
        /// The entry's index in the request.
        index: usize,
        /// Its name.
        name: String,
    },
    /// The world would hold `count` declarations; `max` are allowed.
    TooMany {
        /// Declarations after this request.
        count: usize,
        /// `--max-custom-events`.
        max: usize,
    },
    /// With `--redis`: Redis did not answer; nothing was declared.
    Unavailable(String),
}

type World = HashMap<String, Arc<CustomEventSpec>>;

/// The declarations this process knows.
#[derive(Debug, Default)]
pub struct CustomEvents {
    file: World,
    worlds: Mutex<HashMap<String, World>>,
    max_per_world: usize,
}

/// Reads the `--events` file: a JSON array of declarations (or an object
/// `{"events": [...]}`, the `events:define` payload). An error names the
/// file and the entry at fault.
pub fn load_file(path: &Path, max: usize) -> Result<Vec<CustomEventSpec>, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("--events {shown}: cannot read the file: {e}")))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| ConfigError(format!("--events {shown}: not JSON: {e}")))?;
    let list = match &value {
        Value::Object(o) => o.get("events").unwrap_or(&Value::Null),
        other => other,
    };
    let specs = parse_list(list, "events")
        .map_err(|e| ConfigError(format!("--events {shown}: {} ({})", e.message, e.code())))?;
    if specs.len() > max {
        return Err(ConfigError(format!(
            "--events {shown}: {} declarations; --max-custom-events allows {max}",
            specs.len()
        )));
    }
    Ok(specs)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CustomEvents {
    /// The file's declarations, and at most `max_per_world` per world.
    pub fn new(file: Vec<CustomEventSpec>, max_per_world: usize) -> Self {
        Self {
            file: file
                .into_iter()
                .map(|s| (s.name.clone(), Arc::new(s)))
                .collect(),
            worlds: Mutex::default(),
            max_per_world,
        }
    }

    /// `--max-custom-events`.
    pub fn max_per_world(&self) -> usize {
        self.max_per_world
    }

    /// The file's declaration of `name`, if any.
    pub fn from_file(&self, name: &str) -> Option<Arc<CustomEventSpec>> {
        self.file.get(name).cloned()
    }

    /// The file's declarations' names, sorted.
    pub fn file_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.file.keys().cloned().collect();
        names.sort();
        names
    }

    /// This process's copy of `world`'s declaration of `name`.
    pub fn local(&self, world: &str, name: &str) -> Option<Arc<CustomEventSpec>> {
        lock(&self.worlds).get(world)?.get(name).cloned()
    }

    /// The names of `world`'s declarations in this process's copy.
    pub fn local_names(&self, world: &str) -> Vec<String> {
        lock(&self.worlds)
            .get(world)
            .map(|w| w.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many declarations `world` has in this process's copy.
    pub fn local_count(&self, world: &str) -> usize {
        lock(&self.worlds).get(world).map_or(0, HashMap::len)
    }

    /// Refuses a request that names a file event ([`DefineError::Reserved`]).
    pub fn check_reserved(&self, specs: &[CustomEventSpec]) -> Result<(), DefineError> {
        match specs
            .iter()
            .enumerate()
            .find(|(_, s)| self.file.contains_key(&s.name))
        {
            Some((index, s)) => Err(DefineError::Reserved {
                index,
                name: s.name.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Declares `specs` in `world` in this process: all, or none when the
    /// world would hold more than allowed. Returns the world's count.
    pub fn define_local(
        &self,
        world: &str,
        specs: &[CustomEventSpec],
    ) -> Result<usize, DefineError> {
        self.check_reserved(specs)?;
        let mut worlds = lock(&self.worlds);
        let held = worlds.get(world);
        let new = specs
            .iter()
            .filter(|s| held.is_none_or(|w| !w.contains_key(&s.name)))
            .count();
        let count = held.map_or(0, HashMap::len).saturating_add(new);
        if count > self.max_per_world {
            return Err(DefineError::TooMany {
                count,
                max: self.max_per_world,
            });
        }
        let entry = worlds.entry(world.to_owned()).or_default();
        for spec in specs {
            entry.insert(spec.name.clone(), Arc::new(spec.clone()));
        }
        Ok(entry.len())
    }

    /// Keeps `spec` as `world`'s copy (read from Redis).
    pub fn remember(&self, world: &str, spec: Arc<CustomEventSpec>) {
        lock(&self.worlds)
            .entry(world.to_owned())
            .or_default()
            .insert(spec.name.clone(), spec);
    }
}

/// The declaration of `name` that holds in `world`: the file's, else the
/// world's (with `--redis`, read from Redis; this process's last copy
/// while Redis does not answer).
pub async fn lookup(app: &AppState, world: &str, name: &str) -> Option<Arc<CustomEventSpec>> {
    if let Some(spec) = app.custom_events.from_file(name) {
        return Some(spec);
    }
    let Some(cluster) = &app.cluster else {
        return app.custom_events.local(world, name);
    };
    match cluster.events.get(world, name).await {
        Ok(Some(spec)) => {
            let spec = Arc::new(spec);
            app.custom_events.remember(world, spec.clone());
            Some(spec)
        }
        Ok(None) => None,
        Err(_) => app.custom_events.local(world, name),
    }
}

/// The names of every custom event that holds in `world` (the file's and
/// the world's), sorted: with `--redis` read from Redis (this process's copy
/// while Redis does not answer).
pub async fn names(app: &AppState, world: &str) -> Vec<String> {
    let mut names = app.custom_events.file_names();
    let declared = match &app.cluster {
        Some(cluster) => match cluster.events.names(world).await {
            Ok(n) => n,
            Err(_) => app.custom_events.local_names(world),
        },
        None => app.custom_events.local_names(world),
    };
    names.extend(declared);
    names.sort();
    names.dedup();
    names
}

/// Declares `specs` in `world` (checked already: see
/// [`frinny_agent::catalogue::custom::parse_list`]): in Redis with
/// `--redis`, else in this process. Returns the world's count.
pub async fn define(
    app: &AppState,
    world: &str,
    specs: &[CustomEventSpec],
) -> Result<usize, DefineError> {
    let Some(cluster) = &app.cluster else {
        return app.custom_events.define_local(world, specs);
    };
    app.custom_events.check_reserved(specs)?;
    let count = cluster
        .events
        .define(world, specs, app.custom_events.max_per_world())
        .await?;
    for spec in specs {
        app.custom_events.remember(world, Arc::new(spec.clone()));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str) -> CustomEventSpec {
        CustomEventSpec::parse(&json!({"name": name, "direction": "both"})).unwrap()
    }

    #[test]
    fn worlds_are_apart_bounded_and_redefinitions_replace() {
        let c = CustomEvents::new(vec![spec("x-file:e")], 2);
        assert_eq!(c.define_local("w1", &[spec("x-a:one")]), Ok(1));
        assert_eq!(c.define_local("w1", &[spec("x-a:one")]), Ok(1), "replaced");
        assert_eq!(c.define_local("w1", &[spec("x-b:two")]), Ok(2));
        assert_eq!(
            c.define_local("w1", &[spec("x-a:one"), spec("x-c:three")]),
            Err(DefineError::TooMany { count: 3, max: 2 })
        );
        assert!(c.local("w1", "x-a:one").is_some());
        assert!(c.local("w1", "x-c:three").is_none(), "all or nothing");
        assert!(c.local("w2", "x-a:one").is_none());
        assert_eq!(
            c.define_local("w2", &[spec("x-a:one"), spec("x-file:e")]),
            Err(DefineError::Reserved {
                index: 1,
                name: "x-file:e".into()
            })
        );
        assert_eq!(c.local_count("w2"), 0);
        assert!(c.from_file("x-file:e").is_some());
        assert_eq!(c.file_names(), vec!["x-file:e".to_owned()]);
    }

    #[test]
    fn the_file_is_read_and_a_bad_one_is_named() {
        let dir = std::env::temp_dir().join(format!("frinny-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(
            &good,
            r#"[{"name": "x-m:a", "direction": "both"}, {"name": "x-m:b", "direction": "server_to_client"}]"#,
        )
        .unwrap();
        assert_eq!(load_file(&good, 64).unwrap().len(), 2);
        assert!(load_file(&good, 1)
            .unwrap_err()
            .0
            .contains("--max-custom-events"));
        let wrapped = dir.join("wrapped.json");
        std::fs::write(
            &wrapped,
            r#"{"events": [{"name": "x-m:a", "direction": "both"}]}"#,
        )
        .unwrap();
        assert_eq!(load_file(&wrapped, 64).unwrap().len(), 1);
        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"[{"name": "x-m:a", "direction": "both"}, {"name": "Nope", "direction": "both"}]"#,
        )
        .unwrap();
        let e = load_file(&bad, 64).unwrap_err().0;
        assert!(
            e.contains("bad.json") && e.contains("events[1]") && e.contains("Nope"),
            "{e}"
        );
        std::fs::write(&bad, "{not json").unwrap();
        assert!(load_file(&bad, 64).unwrap_err().0.contains("not JSON"));
        assert!(load_file(&dir.join("missing.json"), 64)
            .unwrap_err()
            .0
            .contains("cannot read"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
