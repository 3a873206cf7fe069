//! Reading JSON strictly: no repeated keys, no unknown fields, every error with its path.

use std::collections::BTreeMap;
use std::fmt;

use lichen_contracts::crypto::{PublicKey, SigAlgo, Suite};
use lichen_contracts::error::CodecError;
use lichen_contracts::model::*;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::*;
use crate::text::*;

/// A `Value` whose objects never repeat a key (serde_json keeps the last silently).
pub(crate) struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

pub(crate) struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("field {key:?} appears twice")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses JSON text, refusing an object that repeats a key; errors are placed at `root`.
pub fn parse_json_strict(text: &str, root: &str) -> Result<Value, JsonError> {
    serde_json::from_str::<StrictValue>(text)
        .map(|StrictValue(v)| v)
        .map_err(|e| JsonError::new(root, format!("not valid JSON: {e}")))
}

pub(crate) fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An object being read: only `allowed` fields may appear.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

pub(crate) fn object<'a>(
    v: &'a Value,
    path: &'a str,
    allowed: &[&str],
) -> Result<Fields<'a>, JsonError> {
    let Some(map) = v.as_object() else {
        return err(path, format!("expected an object, found {}", kind_of(v)));
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return err(
            &child(path, unknown),
            format!("unknown field (expected one of: {})", allowed.join(", ")),
        );
    }
    Ok(Fields { map, path })
}

impl<'a> Fields<'a> {
    /// Reads the required field `name` with `parse`, which gets the value and its path.
    pub(crate) fn req<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        let path = child(self.path, name);
        match self.map.get(name) {
            Some(v) => parse(v, &path),
            None => err(&path, "missing field"),
        }
    }

    /// Reads the optional field `name` with `parse`; `None` when it is absent.
    pub(crate) fn opt<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<Option<T>, JsonError> {
        let path = child(self.path, name);
        self.map.get(name).map(|v| parse(v, &path)).transpose()
    }

    /// A timestamp `<name>_ms` and its optional informational companion `<name>`.
    pub(crate) fn time(&self, name: &str) -> Result<u64, JsonError> {
        let ms = self.req(&format!("{name}_ms"), u64_at)?;
        self.companion(name, ms)?;
        Ok(ms)
    }

    /// An optional timestamp: `<name>_ms` absent or `null` is none (and then a companion
    /// `<name>` other than `null` is an error); else as [`Fields::time`].
    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<u64>, JsonError> {
        let ms_name = format!("{name}_ms");
        match self.map.get(&ms_name) {
            None | Some(Value::Null) => match self.map.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(_) => err(
                    &child(self.path, name),
                    format!("given without {ms_name} ({name} is informational, set {ms_name})"),
                ),
            },
            Some(v) => {
                let ms = u64_at(v, &child(self.path, &ms_name))?;
                self.companion(name, ms)?;
                Ok(Some(ms))
            }
        }
    }

    /// The companion `<name>` of `<name>_ms` = `ms`, if given, must name the same instant.
    fn companion(&self, name: &str, ms: u64) -> Result<(), JsonError> {
        if let Some(text) = self.map.get(name).filter(|v| !v.is_null()) {
            let path = child(self.path, name);
            let Some(text) = text.as_str() else {
                return err(&path, format!("expected a string, found {}", kind_of(text)));
            };
            let stated = parse_rfc3339_ms(text).map_err(|e| JsonError::new(&path, e))?;
            if stated != ms {
                return err(
                    &path,
                    format!(
                        "says {text} but {name}_ms is {ms} ({}); {name} is informational, edit {name}_ms",
                        rfc3339_from_ms(ms)
                    ),
                );
            }
        }
        Ok(())
    }
}

pub(crate) fn string_at(v: &Value, path: &str) -> Result<String, JsonError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => err(path, format!("expected a string, found {}", kind_of(other))),
    }
}

pub(crate) fn u64_at(v: &Value, path: &str) -> Result<u64, JsonError> {
    v.as_u64().map_or_else(
        || {
            err(
                path,
                format!("expected an unsigned integer, found {}", kind_of(v)),
            )
        },
        Ok,
    )
}

pub(crate) fn u32_at(v: &Value, path: &str) -> Result<u32, JsonError> {
    let n = u64_at(v, path)?;
    u32::try_from(n).or_else(|_| err(path, format!("{n} is out of range (at most {})", u32::MAX)))
}

pub(crate) fn u16_at(v: &Value, path: &str) -> Result<u16, JsonError> {
    let n = u64_at(v, path)?;
    u16::try_from(n).or_else(|_| err(path, format!("{n} is out of range (at most {})", u16::MAX)))
}

pub(crate) fn hex_at(v: &Value, path: &str) -> Result<Vec<u8>, JsonError> {
    parse_hex(&string_at(v, path)?).map_err(|e| JsonError::new(path, e))
}

pub(crate) fn hash_at(
    v: &Value,
    path: &str,
) -> Result<lichen_contracts::crypto::Hash32, JsonError> {
    parse_hash(&string_at(v, path)?).map_err(|e| JsonError::new(path, e))
}

pub(crate) fn array_at<'a>(v: &'a Value, path: &str, max: usize) -> Result<&'a [Value], JsonError> {
    let Some(items) = v.as_array() else {
        return err(path, format!("expected an array, found {}", kind_of(v)));
    };
    if items.len() > max {
        return err(
            path,
            format!("{} entries, more than the maximum {max}", items.len()),
        );
    }
    Ok(items)
}

/// A key; with `algo`, it must be of that algorithm (the chain suite's).
pub(crate) fn key_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<PublicKey, JsonError> {
    let key = parse_public_key(&string_at(v, path)?).map_err(|e| JsonError::new(path, e))?;
    if let Some(algo) = algo
        && key.algo() != algo
    {
        return err(
            path,
            format!(
                "{} key, but this chain's suite signs with {algo}",
                key.algo()
            ),
        );
    }
    Ok(key)
}

/// A set of keys in any order: sorted, a repeated key refused.
pub(crate) fn key_set_at(
    v: &Value,
    path: &str,
    max: usize,
    algo: Option<SigAlgo>,
) -> Result<Vec<PublicKey>, JsonError> {
    let mut seen: BTreeMap<PublicKey, usize> = BTreeMap::new();
    for (i, item) in array_at(v, path, max)?.iter().enumerate() {
        let item_path = index(path, i);
        let key = key_at(item, &item_path, algo)?;
        if let Some(first) = seen.insert(key, i) {
            return err(
                &item_path,
                format!("duplicate key (same as {})", index(path, first)),
            );
        }
    }
    Ok(seen.into_keys().collect())
}

/// A set of identifiers in any order: sorted, a repeated one refused.
pub(crate) fn id_set_at(v: &Value, path: &str, max: usize) -> Result<Vec<String>, JsonError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in array_at(v, path, max)?.iter().enumerate() {
        let item_path = index(path, i);
        let id = string_at(item, &item_path)?;
        if let Some(first) = seen.get(&id) {
            return err(
                &item_path,
                format!("duplicate {id:?} (same as {})", index(path, *first)),
            );
        }
        seen.insert(id, i);
    }
    Ok(seen.into_keys().collect())
}

pub(crate) fn suite_at(v: &Value, path: &str) -> Result<Suite, JsonError> {
    let name = string_at(v, path)?;
    Suite::from_name(&name).map_or_else(
        || {
            err(
                path,
                format!("unknown suite {name:?} (expected \"sm\" or \"intl\")"),
            )
        },
        Ok,
    )
}

pub(crate) fn entity_status_at(v: &Value, path: &str) -> Result<EntityStatus, JsonError> {
    let name = string_at(v, path)?;
    [EntityStatus::Active, EntityStatus::Suspended]
        .into_iter()
        .find(|s| s.name() == name)
        .map_or_else(
            || {
                err(
                    path,
                    format!("unknown status {name:?} (expected \"active\" or \"suspended\")"),
                )
            },
            Ok,
        )
}

/// Runs a type's `validate()`, placing a refusal at the JSON field it names (`fields` maps the
/// contracts crate's field names to JSON field names) or else at the object.
pub(crate) fn validated(
    result: Result<(), CodecError>,
    path: &str,
    fields: &[(&str, &str)],
) -> Result<(), JsonError> {
    let Err(e) = result else { return Ok(()) };
    let codec_field = match &e {
        CodecError::TooLong { field, .. }
        | CodecError::InvalidValue { field, .. }
        | CodecError::InvalidUtf8 { field } => Some(*field),
        _ => None,
    };
    let place = codec_field
        .and_then(|f| fields.iter().find(|(codec, _)| *codec == f))
        .map_or_else(|| path.to_string(), |(_, json)| child(path, json));
    err(&place, e.to_string())
}
